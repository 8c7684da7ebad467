#pragma once
// Hears the beep an answering machine or voicemail plays before it records: one steady tone (commonly 440-2000 Hz)
// for a fifth of a second or more. A message may be left only after it (or after the provider's own answering-
// machine detection says the greeting has ended), never to a person, so this errs on the side of not hearing one.
//
// Works on 16-bit linear PCM at any telephone rate; keeps its state inline and allocates nothing after
// construction (it runs once per 20 ms frame on the media path). Not thread-safe: one per call, on that call's thread.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace concierge::beep {

struct DetectorSettings {
  double min_hz = 300.0;   // the band searched, in steps of the block's resolution (50 Hz at 20 ms blocks)
  double max_hz = 3000.0;
  double min_dbm0 = -35.0;  // the tone at least this loud
  // The tone must carry this share of the block's energy: speech, music and noise spread theirs over many
  // frequencies, and a keypad tone puts half of it into each of its two.
  double min_tone_energy_share = 0.70;
  // Blocks of 20 ms in a row with the same tone (one step of drift allowed): 10 is 200 ms.
  std::size_t min_blocks = 10;
};

class Detector {
 public:
  explicit Detector(std::uint32_t sample_rate, DetectorSettings settings = {});

  // Feeds samples (any count). True when a beep completed its minimum length within them; it is reported once, and
  // again only after a block without it.
  bool process(std::span<const std::int16_t> samples);
  void reset();
  // The frequency of the last beep reported, in Hz (0 before any).
  double last_beep_hz() const { return last_beep_hz_; }
  // True from a beep's report until the first 20 ms block without it: a caller that waits for the beep to END
  // (to speak after it) watches this fall.
  bool in_beep() const { return reported_; }
  std::uint32_t sample_rate() const { return sample_rate_; }

 private:
  static constexpr std::size_t kMaxBlock = 960;  // 20 ms at 48 kHz
  static constexpr std::size_t kMaxBins = 64;
  // The strongest bin of the block and whether it is a tone; -1 when it is not.
  int classify_block() const;

  std::uint32_t sample_rate_;
  DetectorSettings settings_;
  std::size_t block_;
  std::size_t bins_ = 0;
  double first_hz_ = 0, step_hz_ = 0;
  double min_power_ = 0;  // settings_.min_dbm0 as a block's mean power, worked out once
  std::array<double, kMaxBins> coefficient_{};
  std::array<std::int16_t, kMaxBlock> window_{};
  std::size_t filled_ = 0;
  int run_bin_ = -1;
  std::size_t run_ = 0;
  bool reported_ = false;
  double last_beep_hz_ = 0;
};

}  // namespace concierge::beep
