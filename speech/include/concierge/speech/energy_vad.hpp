#pragma once
// An energy voice-activity detector over 16-bit PCM, timed in media time (samples), not wall time, so it behaves
// the same at any simulation speed. Speech starts when frames stay above the threshold for `start_after`; it stops
// after `stop_after` below it (a hangover longer than the pauses inside one utterance, like OpenAI's server VAD's
// silence_duration_ms).
#include <chrono>
#include <cstdint>
#include <span>

namespace concierge::sim {

class EnergyVad {
 public:
  struct Settings {
    double threshold_dbfs = -45.0;
    std::chrono::milliseconds start_after{40};
    std::chrono::milliseconds stop_after{400};
  };
  enum class Event { none, speech_started, speech_stopped };

  EnergyVad() : EnergyVad(Settings{}) {}
  explicit EnergyVad(Settings settings);

  // Feeds one frame (any length; 20 ms is typical) and says whether speech started or stopped with it.
  Event process(std::span<const std::int16_t> samples, std::uint32_t sample_rate);
  bool speaking() const { return speaking_; }
  // The media time at which the current (or last) state change happened, from the first sample fed.
  std::chrono::microseconds last_change() const { return last_change_; }
  void reset();

  // RMS level of a frame in dBFS (-inf for digital silence is reported as -120).
  static double level_dbfs(std::span<const std::int16_t> samples);

 private:
  Settings settings_;
  double threshold_squared_ = 0;  // mean square above which a frame counts as voiced
  bool speaking_ = false;
  std::uint64_t samples_seen_ = 0;
  std::uint32_t run_us_ = 0;  // how long frames have disagreed with the current state
  std::chrono::microseconds last_change_{0};
};

}  // namespace concierge::sim
