// concierge::Resampler: picks an engine and checks the caller's buffers; the engines do the work.
//
// WHY TWO ENGINES (figures: sdk/tests/resampler_test.cpp asserts them, concierge-bench prints them)
// The media path resamples 20 ms frames, one call per frame and direction, thousands of calls at once. libsoxr
// (resampler_soxr.cpp) is transparent and, tuned, adds ~2.6 ms, but it is built for long blocks: per 20 ms frame
// it costs 1.6-2.1 us of DFT work, keeps ~40 KiB of state per direction, and holds audio back, so a
// frame's last samples leave with the next frame. For the ratios telephony uses (8 <-> 16/24/48 kHz) a polyphase
// FIR (resampler_polyphase.cpp) costs ~1 us per frame on 3 KiB of state (AVX+FMA), and it releases
// every frame whole (its only delay is the filter's own, ~3 ms). libsoxr stays for any other pair of rates.
#include "concierge/resampler.hpp"

#include <stdexcept>
#include <string>

#include "resampler_engine.hpp"

namespace concierge {

const char* to_string(ResamplerEngine engine) {
  switch (engine) {
    case ResamplerEngine::automatic: return "automatic";
    case ResamplerEngine::polyphase_fir: return "polyphase-fir";
    case ResamplerEngine::libsoxr: return "libsoxr";
  }
  return "?";
}

Resampler::Resampler(std::uint32_t input_rate, std::uint32_t output_rate, ResamplerEngine engine) {
  if (input_rate == 0 || output_rate == 0) throw std::invalid_argument("resampler: a sample rate of 0");
  if (engine == ResamplerEngine::automatic)
    engine = resampling::polyphase_supports(input_rate, output_rate) ? ResamplerEngine::polyphase_fir
                                                                     : ResamplerEngine::libsoxr;
  if (engine == ResamplerEngine::polyphase_fir) {
    if (!resampling::polyphase_supports(input_rate, output_rate))
      throw std::invalid_argument("resampler: the polyphase FIR cannot take " + std::to_string(input_rate) + " -> " +
                                  std::to_string(output_rate) + " Hz (ratio beyond 8/8); use libsoxr");
    engine_ = resampling::make_polyphase_fir(input_rate, output_rate);
  } else {
    engine_ = resampling::make_libsoxr(input_rate, output_rate);
  }
}

Resampler::~Resampler() = default;
Resampler::Resampler(Resampler&&) noexcept = default;
Resampler& Resampler::operator=(Resampler&&) noexcept = default;

std::uint32_t Resampler::input_rate() const { return engine_->input_rate(); }
std::uint32_t Resampler::output_rate() const { return engine_->output_rate(); }
ResamplerEngine Resampler::engine() const { return engine_->kind(); }
std::size_t Resampler::max_output(std::size_t input_samples) const { return engine_->max_output(input_samples); }

std::size_t Resampler::process(std::span<const std::int16_t> in, std::span<std::int16_t> out) {
  // An engine given less room than max_output() would have to leave input unconsumed and drop it silently (soxr
  // does). Refuse it instead: a programming error, not a run-time condition.
  if (out.size() < engine_->max_output(in.size()))
    throw std::invalid_argument("resampler: output buffer smaller than max_output()");
  return engine_->process(in, out);
}

std::size_t Resampler::flush(std::span<std::int16_t> out) { return engine_->flush(out); }
double Resampler::delay_samples() const { return engine_->delay_samples(); }
double Resampler::filter_delay_samples() const { return engine_->filter_delay_samples(); }

}  // namespace concierge
