// The polyphase FIR engine: the default for the rates telephony uses (8 <-> 16/24/48 kHz and among those).
//
// HOW: output/input = L/M in lowest terms. Conceptually the input is upsampled by L (L-1 zeros between samples),
// low-pass filtered by one prototype FIR at the rate input*L, and every M-th sample kept. Only the taps that meet a
// real input sample do work, so output n takes input index i = floor(nM/L) and phase p = nM mod L and is one dot
// product of K = taps/L coefficients with the K newest inputs. The filter is causal: each output uses inputs up to
// its own time only, so a 20 ms frame in releases exactly its 20 ms out (160 <-> 480 samples), nothing is held back
// for the next frame, and the delay a listener hears is the filter's group delay, (taps-1)/2 prototype samples.
//
// THE FILTER: a Kaiser-windowed sinc, linear phase, designed once per ratio and shared by every call. The band edges
// are relative to the lower of the two Nyquist frequencies (4 kHz whenever one side is the 8 kHz line):
//   passband to 0.85 (3.4 kHz: the telephone band keeps its top), stopband from 1.10 (4.4 kHz: a 4.5 kHz tone going
//   down to 8 kHz would fold to 3.5 kHz, so it must be gone), stopband attenuation >= ~93 dB (16-bit signal).
// Measured (sdk/tests/resampler_test.cpp asserts; concierge-bench prints), 20 ms frames:
//   8 -> 24 kHz: 144 taps (48 per phase), delay 2.98 ms, 997 Hz SNR 94.4 dB;  24 -> 8 kHz: 144 taps, 2.98 ms,
//   SNR 95.9 dB, 5 kHz suppressed 92.4 dB (the 16-bit floor);  8 <-> 16 kHz: 96 taps, 2.97 ms, 94.2 / 95.5 dB.
// Cost: 48 multiply-adds per 24 kHz output sample going up, 144 per 8 kHz sample going down: ~23,000 per 20 ms frame
// and direction, in float with 8-wide vectors (AVX+FMA where the CPU has it, chosen per resampler; SSE2 otherwise):
// 1.0 / 0.9 us per frame (8 -> 24 / 24 -> 8 kHz) with AVX+FMA, 3.5 / 2.8 us on the SSE2 build; libsoxr 1.6 us hot,
// 2.1 us with 1,000 resamplers' state cold in cache.
// State: the K-1 newest inputs, 0.2-0.6 KiB per direction (libsoxr: ~40 KiB). The block of converted input they
// are filtered with is the thread's, shared by every resampler on it: a daemon thread carrying hundreds of calls
// then writes each frame's floats into memory that stays in cache, not into each call's own 2 KiB block: with 750
// calls converting both ways in turn, ~40 fewer cache misses per call's frame (host/src/audio_converter.hpp).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <numbers>
#include <numeric>
#include <string_view>
#include <vector>

#include "resampler_engine.hpp"

namespace concierge::resampling {
namespace {

constexpr std::uint32_t kMaxFactor = 8;  // L and M at most this: 8 <-> 48 kHz is 6
constexpr std::size_t kLanes = 8;        // taps per phase are a multiple of this: whole vectors, no tail loop
constexpr std::size_t kBlock = 512;      // input samples converted to float at a time (a 20 ms frame at 24 kHz: 480)

struct FilterBank {
  std::uint32_t up = 1;    // L
  std::uint32_t down = 1;  // M
  std::size_t taps_per_phase = 0;  // K
  std::size_t taps = 0;            // K * L
  // Phase p's K coefficients at [p*K, (p+1)*K), oldest input first (time-reversed), scaled by L so that every phase
  // has unit gain at DC.
  std::vector<float> coefficients;
  // After an output at phase p, the next one is at phase next_phase[p], input_step[p] inputs later.
  std::vector<std::uint32_t> next_phase;
  std::vector<std::uint32_t> input_step;
};

double bessel_i0(double x) {
  double sum = 1.0, term = 1.0;
  for (int k = 1; k < 200 && term > 1e-17 * sum; ++k) {
    term *= (x / (2.0 * k)) * (x / (2.0 * k));
    sum += term;
  }
  return sum;
}

std::shared_ptr<const FilterBank> design(std::uint32_t up, std::uint32_t down) {
  // Frequencies as fractions of the prototype rate (input rate * L).
  const double low_nyquist = 0.5 / std::max(up, down);
  const double passband_end = 0.85 * low_nyquist;
  const double transition = 0.25 * low_nyquist;
  const double target_db = 95.0;
  const double transition_w = 2.0 * std::numbers::pi * transition;
  // Kaiser's estimate of the length for this attenuation and transition, rounded to whole vectors per phase;
  // whatever the rounding gives is spent on attenuation (kept >= 90 dB) rather than on a wider transition.
  const double taps_needed = (target_db - 7.95) / (2.285 * transition_w) + 1.0;
  std::size_t per_phase = std::max<std::size_t>(
      kLanes, static_cast<std::size_t>(std::lround(taps_needed / up / double(kLanes))) * kLanes);
  auto attenuation_db = [&](std::size_t taps) { return 2.285 * double(taps - 1) * transition_w + 7.95; };
  if (attenuation_db(per_phase * up) < 90.0) per_phase += kLanes;
  const std::size_t taps = per_phase * up;
  const double attenuation = attenuation_db(taps);
  const double beta = 0.1102 * (attenuation - 8.7);
  const double cutoff = passband_end + transition / 2;
  const double centre = double(taps - 1) / 2.0;

  std::vector<double> prototype(taps);
  double sum = 0;
  for (std::size_t n = 0; n < taps; ++n) {
    const double t = double(n) - centre;
    const double x = 2.0 * cutoff * t;
    const double sinc = t == 0 ? 1.0 : std::sin(std::numbers::pi * x) / (std::numbers::pi * x);
    const double r = 2.0 * double(n) / double(taps - 1) - 1.0;
    const double window = bessel_i0(beta * std::sqrt(std::max(0.0, 1.0 - r * r))) / bessel_i0(beta);
    prototype[n] = 2.0 * cutoff * sinc * window;
    sum += prototype[n];
  }

  auto bank = std::make_shared<FilterBank>();
  bank->up = up;
  bank->down = down;
  bank->taps_per_phase = per_phase;
  bank->taps = taps;
  bank->coefficients.resize(taps);
  for (std::uint32_t p = 0; p < up; ++p)
    for (std::size_t k = 0; k < per_phase; ++k)
      bank->coefficients[p * per_phase + (per_phase - 1 - k)] = static_cast<float>(up * prototype[p + k * up] / sum);
  for (std::uint32_t p = 0; p < up; ++p) {
    bank->next_phase.push_back((p + down) % up);
    bank->input_step.push_back((p + down) / up);
  }
  return bank;
}

std::shared_ptr<const FilterBank> filter_bank(std::uint32_t up, std::uint32_t down) {
  static std::mutex mutex;
  static std::map<std::pair<std::uint32_t, std::uint32_t>, std::shared_ptr<const FilterBank>> designed;
  const std::lock_guard lock(mutex);
  auto& bank = designed[{up, down}];
  if (!bank) bank = design(up, down);
  return bank;
}

using Vec8 = float __attribute__((vector_size(32)));
// GCC warns that passing 32-byte vectors by value differs with and without AVX; these helpers are internal and
// always inlined into filter_block_body, so no call with either ABI exists.
#pragma GCC diagnostic ignored "-Wpsabi"

[[gnu::always_inline]] inline Vec8 load8(const float* p) {
  Vec8 v;
  std::memcpy(&v, p, sizeof v);  // unaligned load
  return v;
}

using Vec8i = std::int32_t __attribute__((vector_size(32)));

// Eight at once: clamp to 16 bits, round half away from zero.
[[gnu::always_inline]] inline Vec8i to_samples(const Vec8& in) {
  Vec8 y = in;
  const Vec8 low = Vec8{} - 32768.0f, high = Vec8{} + 32767.0f, half = Vec8{} + 0.5f;
  y = y < low ? low : y;
  y = y > high ? high : y;
  y += y >= 0 ? half : -half;
  return __builtin_convertvector(y, Vec8i);  // truncates toward zero
}

inline std::int16_t to_sample(float y) {
  y = std::clamp(y, -32768.0f, 32767.0f);
  return static_cast<std::int16_t>(y + (y >= 0 ? 0.5f : -0.5f));
}

// Upsampling by L (M = 1), eight inputs at a time: lane j of accumulator p is the output at input + j, phase p.
// Each step loads eight inputs once and multiplies them by one coefficient of every phase, so the L phases share
// the loads and no output needs a horizontal sum (the general loop below spends as much on that sum as on its
// multiply-adds). 2x faster than the general loop for 8 -> 24 kHz.
template <std::uint32_t L>
[[gnu::always_inline]] inline std::size_t upsample_groups(const float* coefficients, std::size_t per_phase,
                                                          const float* window, std::size_t count, std::size_t& input,
                                                          std::int16_t* out) {
  std::size_t produced = 0;
  for (; input + kLanes <= count; input += kLanes) {
    Vec8 acc[L] = {};
    const float* x = window + input;
    for (std::size_t k = 0; k < per_phase; ++k) {
      const Vec8 v = load8(x + k);
#pragma GCC unroll 8
      for (std::uint32_t p = 0; p < L; ++p) acc[p] += coefficients[p * per_phase + k] * v;
    }
#pragma GCC unroll 8
    for (std::uint32_t p = 0; p < L; ++p) {
      const Vec8i samples = to_samples(acc[p]);
      for (std::size_t j = 0; j < kLanes; ++j) out[produced + j * L + p] = static_cast<std::int16_t>(samples[j]);
    }
    produced += kLanes * L;
  }
  return produced;
}

// Downsampling by M (L = 1), four outputs at a time: they share one filter, so each step loads eight coefficients
// once for all four, and the four sums are reduced together (in-lane shuffles, one 128-bit extract).
[[gnu::always_inline]] inline std::size_t downsample_groups(const float* coefficients, std::size_t taps,
                                                            std::uint32_t down, const float* window,
                                                            std::size_t count, std::size_t& input,
                                                            std::int16_t* out) {
  std::size_t produced = 0;
  for (; input + 3 * down < count; input += 4 * down) {
    const float* x0 = window + input;
    const float* x1 = x0 + down;
    const float* x2 = x1 + down;
    const float* x3 = x2 + down;
    Vec8 a0 = {}, a1 = {}, a2 = {}, a3 = {};
    for (std::size_t k = 0; k < taps; k += kLanes) {
      const Vec8 c = load8(coefficients + k);
      a0 += c * load8(x0 + k);
      a1 += c * load8(x1 + k);
      a2 += c * load8(x2 + k);
      a3 += c * load8(x3 + k);
    }
    // Even lanes of u01 hold a0's partial sums, odd lanes a1's; then v's lanes 0-3 and 4-7 hold a0..a3's.
    const Vec8 u01 = __builtin_shufflevector(a0, a1, 0, 8, 1, 9, 4, 12, 5, 13) +
                     __builtin_shufflevector(a0, a1, 2, 10, 3, 11, 6, 14, 7, 15);
    const Vec8 u23 = __builtin_shufflevector(a2, a3, 0, 8, 1, 9, 4, 12, 5, 13) +
                     __builtin_shufflevector(a2, a3, 2, 10, 3, 11, 6, 14, 7, 15);
    const Vec8 v = __builtin_shufflevector(u01, u23, 0, 1, 8, 9, 4, 5, 12, 13) +
                   __builtin_shufflevector(u01, u23, 2, 3, 10, 11, 6, 7, 14, 15);
    for (int j = 0; j < 4; ++j) out[produced++] = to_sample(v[j] + v[j + 4]);
  }
  return produced;
}

// The inner loop over one block: outputs for every (input, phase) position inside the block's `count` new inputs.
// `window` points at the K-1 older inputs followed by the block. Compiled twice below, for AVX+FMA and for the
// x86-64 baseline (SSE2); each resampler picks one when it is made, so the dispatch is per block, not per sample.
[[gnu::always_inline]] inline std::size_t filter_block_body(const FilterBank& bank, const float* window,
                                                            std::size_t count, std::size_t& input,
                                                            std::uint32_t& phase, std::int16_t* out) {
  const std::size_t per_phase = bank.taps_per_phase;
  const float* coefficients = bank.coefficients.data();
  std::size_t produced = 0;
  if (bank.down == 1 && phase == 0) {  // with M = 1 a block always starts at phase 0: an input's phases come together
    switch (bank.up) {
      case 2: produced = upsample_groups<2>(coefficients, per_phase, window, count, input, out); break;
      case 3: produced = upsample_groups<3>(coefficients, per_phase, window, count, input, out); break;
      case 6: produced = upsample_groups<6>(coefficients, per_phase, window, count, input, out); break;
      default: break;  // other factors take the general loop
    }
  } else if (bank.up == 1) {
    produced = downsample_groups(coefficients, per_phase, bank.down, window, count, input, out);
  }
  while (input < count) {
    const float* c = coefficients + phase * per_phase;
    const float* x = window + input;  // the K newest inputs up to `input`, oldest first
    Vec8 a0 = {}, a1 = {};
    std::size_t k = 0;
    for (; k + 2 * kLanes <= per_phase; k += 2 * kLanes) {
      a0 += load8(c + k) * load8(x + k);
      a1 += load8(c + k + kLanes) * load8(x + k + kLanes);
    }
    if (k < per_phase) a0 += load8(c + k) * load8(x + k);
    a0 += a1;
    const float y = ((a0[0] + a0[4]) + (a0[1] + a0[5])) + ((a0[2] + a0[6]) + (a0[3] + a0[7]));
    out[produced++] = to_sample(y);
    input += bank.input_step[phase];
    phase = bank.next_phase[phase];
  }
  return produced;
}

// This thread's filter window, at least `floats` long. It grows (allocates) only when a resampler with a longer
// filter than any before runs on the thread, so a call's steady frames allocate nothing.
float* thread_window(std::size_t floats) {
  thread_local std::vector<float> window;
  if (window.size() < floats) window.resize(floats);
  return window.data();
}

using FilterBlock = std::size_t (*)(const FilterBank&, const float*, std::size_t, std::size_t&, std::uint32_t&,
                                    std::int16_t*);

std::size_t filter_block_baseline(const FilterBank& bank, const float* window, std::size_t count, std::size_t& input,
                                  std::uint32_t& phase, std::int16_t* out) {
  return filter_block_body(bank, window, count, input, phase, out);
}

#if defined(__x86_64__) && defined(__GNUC__)
#define CONCIERGE_RESAMPLER_FMA 1
__attribute__((target("avx,fma"))) std::size_t filter_block_fma(const FilterBank& bank, const float* window,
                                                                 std::size_t count, std::size_t& input,
                                                                 std::uint32_t& phase, std::int16_t* out) {
  return filter_block_body(bank, window, count, input, phase, out);
}
#endif

// AVX+FMA where the CPU has it. CONCIERGE_RESAMPLER_KERNEL=baseline forces the SSE2 build, so that a machine with
// FMA can test the other one too (sdk/tests/resampler_test.cpp).
FilterBlock choose_filter_block() {
  const char* forced = std::getenv("CONCIERGE_RESAMPLER_KERNEL");
  if (forced && std::string_view(forced) == "baseline") return filter_block_baseline;
#ifdef CONCIERGE_RESAMPLER_FMA
  if (__builtin_cpu_supports("avx") && __builtin_cpu_supports("fma")) return filter_block_fma;
#endif
  return filter_block_baseline;
}

class PolyphaseEngine final : public Resampler::Engine {
 public:
  PolyphaseEngine(std::uint32_t input_rate, std::uint32_t output_rate, std::shared_ptr<const FilterBank> bank)
      : in_rate_(input_rate),
        out_rate_(output_rate),
        bank_(std::move(bank)),
        history_(bank_->taps_per_phase - 1, 0.0f),
        flush_inputs_((bank_->taps - 1) / 2 / bank_->up + 1),
        filter_block_(choose_filter_block()) {}

  ResamplerEngine kind() const override { return ResamplerEngine::polyphase_fir; }
  std::uint32_t input_rate() const override { return in_rate_; }
  std::uint32_t output_rate() const override { return out_rate_; }

  std::size_t max_output(std::size_t input_samples) const override {
    // Output positions advance by M in steps of the prototype rate and start each call below M: n inputs give at
    // most ceil(n L / M). The flush's zeros are counted in, so max_output(0) is room for flush().
    const std::size_t positions = (input_samples + flush_inputs_) * bank_->up;
    return (positions + bank_->down - 1) / bank_->down + 1;
  }

  std::size_t process(std::span<const std::int16_t> in, std::span<std::int16_t> out) override {
    const std::size_t older = bank_->taps_per_phase - 1;
    // The filter reads a window of the K-1 older inputs followed by the block: assembled in the thread's buffer
    // (nothing calls out of here, so one per thread is enough), and the newest K-1 inputs go back to history_.
    float* window = thread_window(older + kBlock);
    std::memcpy(window, history_.data(), older * sizeof(float));
    std::size_t produced = 0;
    in_total_ += in.size();
    while (!in.empty()) {
      const std::size_t count = std::min(in.size(), kBlock);
      float* block = window + older;
      for (std::size_t i = 0; i < count; ++i) block[i] = in[i];
      produced += filter_block_(*bank_, window, count, input_, phase_, out.data() + produced);
      input_ -= count;  // the next output's input index, now relative to the next block
      std::memmove(window, window + count, older * sizeof(float));
      in = in.subspan(count);
    }
    std::memcpy(history_.data(), window, older * sizeof(float));
    out_total_ += produced;
    return produced;
  }

  std::size_t flush(std::span<std::int16_t> out) override {
    // Zeros push the filter's delay line out: the last input's contribution leaves with them.
    const std::vector<std::int16_t> zeros(flush_inputs_, 0);
    const std::size_t produced = process(zeros, out);
    in_total_ -= zeros.size();
    return produced;
  }

  double delay_samples() const override {
    return double(in_total_) * out_rate_ / in_rate_ - double(out_total_);
  }
  double filter_delay_samples() const override { return double(bank_->taps - 1) / 2.0 / bank_->down; }

 private:
  std::uint32_t in_rate_;
  std::uint32_t out_rate_;
  std::shared_ptr<const FilterBank> bank_;
  std::vector<float> history_;  // the K-1 newest inputs, oldest first
  std::size_t flush_inputs_;    // zeros that carry the delay line out: ceil(group delay / L) inputs
  FilterBlock filter_block_;    // the AVX+FMA or the baseline build of the inner loop
  std::size_t input_ = 0;       // the next output's input index within the current block
  std::uint32_t phase_ = 0;     // and its phase
  std::uint64_t in_total_ = 0;
  std::uint64_t out_total_ = 0;
};

}  // namespace

bool polyphase_supports(std::uint32_t input_rate, std::uint32_t output_rate) {
  if (input_rate == 0 || output_rate == 0) return false;
  const std::uint32_t g = std::gcd(input_rate, output_rate);
  return output_rate / g <= kMaxFactor && input_rate / g <= kMaxFactor;
}

std::unique_ptr<Resampler::Engine> make_polyphase_fir(std::uint32_t input_rate, std::uint32_t output_rate) {
  const std::uint32_t g = std::gcd(input_rate, output_rate);
  return std::make_unique<PolyphaseEngine>(input_rate, output_rate, filter_bank(output_rate / g, input_rate / g));
}

}  // namespace concierge::resampling
