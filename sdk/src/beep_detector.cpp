#include "concierge/beep_detector.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace concierge::beep {
namespace {
constexpr double kPi = 3.14159265358979323846;
// 0 dBm0 on the 16-bit scale of G.711 (a sine of amplitude 32768 / 10^(3.14/20) is +3.14 dBm0): mean power of a
// 0 dBm0 sine.
constexpr double kZeroDbm0Power = (32768.0 / 1.4354) * (32768.0 / 1.4354) / 2.0;
}  // namespace

Detector::Detector(std::uint32_t sample_rate, DetectorSettings settings)
    : sample_rate_(sample_rate), settings_(settings), block_(sample_rate / 50) {
  if (sample_rate < 8000 || block_ > kMaxBlock) throw std::invalid_argument("beep detector: unsupported sample rate");
  if (!(settings.min_hz > 0 && settings.max_hz > settings.min_hz && settings.max_hz < sample_rate / 2.0))
    throw std::invalid_argument("beep detector: the band must lie between 0 Hz and half the sample rate");
  step_hz_ = static_cast<double>(sample_rate) / static_cast<double>(block_);  // 50 Hz
  min_power_ = kZeroDbm0Power * std::pow(10.0, settings.min_dbm0 / 10.0);
  first_hz_ = std::ceil(settings.min_hz / step_hz_) * step_hz_;
  for (double hz = first_hz_; hz <= settings.max_hz + 1e-9 && bins_ < kMaxBins; hz += step_hz_)
    coefficient_[bins_++] = 2.0 * std::cos(2.0 * kPi * hz / sample_rate);
}

void Detector::reset() {
  filled_ = 0;
  run_bin_ = -1;
  run_ = 0;
  reported_ = false;
}

int Detector::classify_block() const {
  // Exact in 64-bit integers (960 samples of 2^30 at most), and the compiler vectorises it.
  std::int64_t total = 0;
  for (std::size_t i = 0; i < block_; ++i) total += static_cast<std::int32_t>(window_[i]) * window_[i];
  const double mean_power = static_cast<double>(total) / static_cast<double>(block_);
  if (mean_power < min_power_) return -1;
  // Where a tone would be: its zero crossings (with hysteresis at a third of the RMS, so line noise on a quiet
  // beep adds none) give the frequency to within a bin or two. Only those bins are measured, so a block costs a
  // few Goertzel runs rather than the whole band's (a thousand calls run this every 20 ms).
  const int threshold = static_cast<int>(std::sqrt(mean_power) / 3.0);  // in sample units: no conversion per sample
  int sign = 0;
  std::size_t crossings = 0;
  for (std::size_t i = 0; i < block_; ++i) {
    const int v = window_[i];
    if (v > threshold && sign <= 0) {
      crossings += sign < 0;
      sign = 1;
    } else if (v < -threshold && sign >= 0) {
      crossings += sign > 0;
      sign = -1;
    }
  }
  const double estimate_hz = static_cast<double>(crossings) * 0.5 * sample_rate_ / static_cast<double>(block_);
  const int centre = static_cast<int>(std::lround((estimate_hz - first_hz_) / step_hz_));
  const int from = std::max(0, centre - 2), to = std::min(static_cast<int>(bins_) - 1, centre + 2);
  if (from > to) return -1;
  // Goertzel per bin, normalised to a sine's mean power (A^2 / 2). The (up to) five bins run side by side in one
  // pass: each bin's recurrence is a chain of dependent multiply-adds, and five independent chains keep the FPU busy
  // where one after another would wait on each (a bin not in the band runs on a zero coefficient, and is ignored).
  const std::size_t count = static_cast<std::size_t>(to - from + 1);
  std::array<double, 5> c{}, s1{}, s2{};
  for (std::size_t k = 0; k < count; ++k) c[k] = coefficient_[static_cast<std::size_t>(from) + k];
  for (std::size_t i = 0; i < block_; ++i) {
    const double x = window_[i];
#pragma GCC unroll 5
    for (std::size_t k = 0; k < 5; ++k) {
      const double s0 = x + c[k] * s1[k] - s2[k];
      s2[k] = s1[k];
      s1[k] = s0;
    }
  }
  std::array<double, 5> power{};
  const double scale = 2.0 / (static_cast<double>(block_) * static_cast<double>(block_));
  for (std::size_t k = 0; k < count; ++k)
    power[k] = scale * (s1[k] * s1[k] + s2[k] * s2[k] - c[k] * s1[k] * s2[k]);
  const auto peak = static_cast<std::size_t>(std::max_element(power.begin(), power.begin() + count) - power.begin());
  // A tone between two bins spreads over both: the peak and its neighbours together.
  double tone = power[peak];
  if (peak > 0) tone += power[peak - 1];
  if (peak + 1 < count) tone += power[peak + 1];
  return tone >= settings_.min_tone_energy_share * mean_power ? from + static_cast<int>(peak) : -1;
}

bool Detector::process(std::span<const std::int16_t> samples) {
  bool beep = false;
  while (!samples.empty()) {
    const std::size_t take = std::min(samples.size(), block_ - filled_);
    std::copy_n(samples.begin(), take, window_.begin() + static_cast<std::ptrdiff_t>(filled_));
    samples = samples.subspan(take);
    filled_ += take;
    if (filled_ < block_) break;
    filled_ = 0;
    const int bin = classify_block();
    if (bin < 0) {
      run_bin_ = -1;
      run_ = 0;
      reported_ = false;
      continue;
    }
    if (run_bin_ >= 0 && std::abs(bin - run_bin_) <= 1) {
      ++run_;
    } else {
      run_ = 1;
      reported_ = false;
    }
    run_bin_ = bin;
    if (run_ >= settings_.min_blocks && !reported_) {
      reported_ = true;
      last_beep_hz_ = first_hz_ + step_hz_ * bin;
      beep = true;
    }
  }
  return beep;
}

}  // namespace concierge::beep
