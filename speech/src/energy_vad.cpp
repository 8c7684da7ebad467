#include "concierge/speech/energy_vad.hpp"

#include <cmath>

namespace concierge::sim {

EnergyVad::EnergyVad(Settings settings) : settings_(settings) {
  const double amplitude = 32768.0 * std::pow(10.0, settings_.threshold_dbfs / 20.0);
  threshold_squared_ = amplitude * amplitude;
}

void EnergyVad::reset() {
  speaking_ = false;
  samples_seen_ = 0;
  run_us_ = 0;
  last_change_ = std::chrono::microseconds(0);
}

double EnergyVad::level_dbfs(std::span<const std::int16_t> samples) {
  if (samples.empty()) return -120.0;
  double sum = 0;
  for (auto s : samples) sum += static_cast<double>(s) * s;
  const double mean = sum / samples.size();
  return mean <= 0 ? -120.0 : 10.0 * std::log10(mean / (32768.0 * 32768.0));
}

EnergyVad::Event EnergyVad::process(std::span<const std::int16_t> samples, std::uint32_t sample_rate) {
  if (samples.empty() || sample_rate == 0) return Event::none;
  double sum = 0;
  for (auto s : samples) sum += static_cast<double>(s) * s;
  const bool voiced = sum / samples.size() > threshold_squared_;
  const auto frame_us = static_cast<std::uint32_t>(samples.size() * 1'000'000ull / sample_rate);
  samples_seen_ += samples.size();
  const auto now = std::chrono::microseconds(samples_seen_ * 1'000'000ull / sample_rate);

  if (voiced == speaking_) {
    run_us_ = 0;
    return Event::none;
  }
  run_us_ += frame_us;
  const auto needed = speaking_ ? settings_.stop_after : settings_.start_after;
  if (std::chrono::microseconds(run_us_) < needed) return Event::none;
  speaking_ = voiced;
  run_us_ = 0;
  last_change_ = now;
  return speaking_ ? Event::speech_started : Event::speech_stopped;
}

}  // namespace concierge::sim
