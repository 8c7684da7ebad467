// The libsoxr engine, tuned for the media path: 20 ms frames in, output released as early as soxr allows.
// (The default engine for 8/16/24/48 kHz is the polyphase FIR, resampler_polyphase.cpp; libsoxr takes other rates.)
//
// WHAT MATTERS AND WHAT WAS MEASURED (sdk/tests/resampler_measure.hpp, 20 ms frames, 16-bit in and out):
// libsoxr compensates its filter's delay itself (output sample j carries input time j/out_rate: the cross-correlation
// lag measures 0.00 ms for every setting below), so the delay a caller hears is the audio it HOLDS BACK: after each
// frame it has released less than in_count * out_rate / in_rate samples. That depends on the filter length and on
// the DFT block it processes in, and it jumps in steps as settings change (block granularity), so the settings were
// chosen by sweeping, not by formula:
//
//   setting (16-bit precision unless said)             8->24 / 24->8 kHz held back (mean)  SNR 997 Hz   gain 3.4 kHz
//   HQ linear, default DFT sizes (10/17)                    ~43 / 43 ms                      95 dB        0 dB
//   LQ linear, DFT 8/8                                       5.5 / 5.5 ms                     95 dB     -7.8 dB (LQ's
//                                                                                                        wide rolloff)
//   LQ minimum phase, DFT 8/8                                3.0 / 3.0 ms                     92 dB     -7.8 dB
//   linear phase, passband 0.85, DFT 8/8                    10.6 / 10.5 ms                    95 dB        0 dB
//   intermediate phase (25), passband 0.80                  10-20 ms                          94 dB
//   CHOSEN 8<->24: minimum phase, precision 17,              2.64 / 2.60 ms (max 4.7)        94.4 / 96.0  -0.07 dB
//      passband_end 0.80, stopband_begin 1.10, DFT 8/8
//   CHOSEN 8<->16: minimum phase, precision 16,              3.72 / 3.72 ms (max 7.0)        94.5 / 95.7  -0.09 dB
//      passband_end 0.82, stopband_begin 1.00, DFT 8/8
// Suppression of a 5 kHz tone going down to 8 kHz (it would alias to 3 kHz): >= 92 dB (the 16-bit floor) for both
// chosen settings, and of a 4.5 kHz tone too (stopband_begin 1.10 lets only 4.0-4.4 kHz fold into 3.6-4.0 kHz, above
// the 3.4 kHz telephone band; 1.15 would let 4.5 kHz through at -64 dB, so it was rejected).
// Why each knob:
//  - minimum phase: the filter's energy comes first, so soxr needs far less look-ahead before it can release a
//    sample (3 ms instead of 5.5-10 ms). Speech does not care about the phase distortion; intermediate phase was
//    always worse here.
//  - log2_min_dft_size = log2_large_dft_size = 8: the smallest DFT blocks soxr allows. At the defaults (10/17) soxr
//    waits to fill large blocks and releases 20-150 ms bursts.
//  - passband_end 0.80-0.82 (3.2-3.3 kHz of 4 kHz flat, -0.1 dB at 3.4 kHz) is the telephone band; the defaults
//    (0.913) need a longer filter, LQ's rolloff (-7.8 dB at 3.4 kHz) dulls speech.
//  - precision 16-17 bits: the signal is 16-bit; more precision lengthens the filter for nothing.
//  - no dither: the input is already 16-bit, TPDF dither costs ~3-4 dB of SNR and makes the output
//    non-deterministic (tests and benchmarks compare exact samples).
// Other rate pairs get the 8<->24 settings; their figures are not part of the requirements and are not asserted.
#include "resampler_engine.hpp"

#include <soxr.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace concierge {
namespace {

struct Tuning {
  double precision;
  double passband_end;
  double stopband_begin;
};

Tuning tuning_for(std::uint32_t input_rate, std::uint32_t output_rate) {
  const auto low = std::min(input_rate, output_rate), high = std::max(input_rate, output_rate);
  if (low == 8000 && high == 16000) return {16.0, 0.82, 1.00};
  return {17.0, 0.80, 1.10};
}

soxr_t create_soxr(std::uint32_t input_rate, std::uint32_t output_rate) {
  const Tuning tuning = tuning_for(input_rate, output_rate);
  soxr_io_spec_t io = soxr_io_spec(SOXR_INT16_I, SOXR_INT16_I);
  io.flags |= SOXR_NO_DITHER;
  soxr_quality_spec_t quality = soxr_quality_spec(SOXR_16_BITQ | SOXR_MINIMUM_PHASE, 0);
  quality.precision = tuning.precision;
  quality.passband_end = tuning.passband_end;
  quality.stopband_begin = tuning.stopband_begin;
  soxr_runtime_spec_t runtime = soxr_runtime_spec(1);
  runtime.log2_min_dft_size = 8;
  runtime.log2_large_dft_size = 8;
  soxr_error_t error = nullptr;
  soxr_t soxr = soxr_create(input_rate, output_rate, 1, &error, &io, &quality, &runtime);
  if (error || !soxr) {
    if (soxr) soxr_delete(soxr);
    throw std::runtime_error(std::string("resampler ") + std::to_string(input_rate) + " -> " +
                             std::to_string(output_rate) + ": " + (error ? error : "soxr_create failed"));
  }
  return soxr;
}

// The most output samples a resampler of this configuration can ever hold back.
//
// soxr processes greedily (given room, it turns all the input it has into all the output it can), so what it holds
// back after a call depends only on how many input samples it has had in total, never on how they were split into
// calls, and that pattern repeats with soxr's block period once the filter has started. Feeding one sample at a time
// for a second of input visits every total, so the largest soxr_delay() seen is the largest possible. Costs < 1 ms
// once per rate pair per process.
double probe_hold_capacity(std::uint32_t input_rate, std::uint32_t output_rate) {
  static std::mutex mutex;
  static std::map<std::pair<std::uint32_t, std::uint32_t>, double> known;
  const std::lock_guard lock(mutex);
  const auto key = std::pair{input_rate, output_rate};
  if (auto found = known.find(key); found != known.end()) return found->second;

  soxr_t soxr = create_soxr(input_rate, output_rate);
  const std::size_t out_room = static_cast<std::size_t>(std::ceil(double(output_rate) / input_rate)) + 4096;
  std::vector<std::int16_t> out(out_room);
  const std::int16_t sample = 0;
  double held_max = 0;
  for (std::uint32_t k = 0; k < std::max<std::uint32_t>(input_rate, 8192); ++k) {
    std::size_t consumed = 0, produced = 0;
    soxr_process(soxr, &sample, 1, &consumed, out.data(), out.size(), &produced);
    held_max = std::max(held_max, soxr_delay(soxr));
  }
  soxr_delete(soxr);
  known.emplace(key, held_max);
  return held_max;
}

class SoxrEngine final : public Resampler::Engine {
 public:
  SoxrEngine(std::uint32_t input_rate, std::uint32_t output_rate)
      : in_rate_(input_rate),
        out_rate_(output_rate),
        hold_capacity_(static_cast<std::size_t>(std::ceil(probe_hold_capacity(input_rate, output_rate))) + 2),
        soxr_(create_soxr(input_rate, output_rate)) {}
  ~SoxrEngine() override { soxr_delete(soxr_); }

  ResamplerEngine kind() const override { return ResamplerEngine::libsoxr; }
  std::uint32_t input_rate() const override { return in_rate_; }
  std::uint32_t output_rate() const override { return out_rate_; }

  std::size_t max_output(std::size_t input_samples) const override {
    // A call releases this frame's share plus at most what was held back before it: soxr never runs ahead of its
    // input (held back >= 0, asserted by the tests), so nothing else can come out.
    const std::size_t share = (input_samples * out_rate_ + in_rate_ - 1) / in_rate_;
    return share + hold_capacity_;
  }

  std::size_t process(std::span<const std::int16_t> in, std::span<std::int16_t> out) override {
    std::size_t consumed = 0, produced = 0;
    soxr_process(soxr_, in.data(), in.size(), &consumed, out.data(), out.size(), &produced);
    return produced;
  }

  std::size_t flush(std::span<std::int16_t> out) override {
    std::size_t total = 0;
    while (total < out.size()) {
      std::size_t produced = 0;
      soxr_process(soxr_, nullptr, 0, nullptr, out.data() + total, out.size() - total, &produced);
      if (produced == 0) break;
      total += produced;
    }
    return total;
  }

  double delay_samples() const override { return soxr_delay(soxr_); }
  double filter_delay_samples() const override { return 0.0; }  // soxr compensates it by holding back

 private:
  std::uint32_t in_rate_;
  std::uint32_t out_rate_;
  std::size_t hold_capacity_;  // output samples soxr may hold back at most, rounded up, plus rounding slack
  soxr_t soxr_;
};

}  // namespace

namespace resampling {
std::unique_ptr<Resampler::Engine> make_libsoxr(std::uint32_t input_rate, std::uint32_t output_rate) {
  return std::make_unique<SoxrEngine>(input_rate, output_rate);
}
}  // namespace resampling

}  // namespace concierge
