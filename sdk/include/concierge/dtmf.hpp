#pragma once
// Keypad tones (DTMF, ITU-T Q.23) as in-band audio: a generator that presses keys on a call's line and a detector
// that hears them. In-band because Twilio's Media Streams carry audio only (there is no send-DTMF message), and a
// simulated line or a voicemail beep detector works on the same samples.
//
// Both work on 16-bit linear PCM at any telephone rate (8 kHz is the line's; 16/24 kHz work too), keep all their
// state inline and allocate nothing after construction: they run once per 20 ms frame on the media path.
// Neither is thread-safe; each belongs to one call and is used on that call's thread.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <span>
#include <string_view>

#include "concierge/call.hpp"

namespace concierge::dtmf {

// The sixteen keys: "0"-"9", "*", "#" and "A"-"D" (the fourth column, used by some switches).
bool is_key(char key);

struct KeyFrequencies {
  double low_hz = 0;   // row: 697, 770, 852 or 941 Hz
  double high_hz = 0;  // column: 1209, 1336, 1477 or 1633 Hz
};
// Throws std::invalid_argument for a character that is no key.
KeyFrequencies frequencies(char key);

// Levels are in dBm0: 0 dBm0 is a sine whose peak is 3.17 dB below G.711 mu-law's full scale (G.711's overload
// point is +3.17 dBm0), i.e. a peak of 22,663 in 16-bit linear PCM.
inline constexpr double kZeroDbm0Peak = 22663.0;

struct ToneSettings {
  // Q.24 asks receivers to accept tones of 40 ms or more; exchanges and phone menus are reliable from ~70 ms. The
  // gap is at least as long as the tone so that two equal keys in a row are heard as two presses.
  std::chrono::milliseconds tone{80};
  std::chrono::milliseconds gap{80};
  // The high group about 2 dB above the low one ("pre-emphasis"): lines lose more at the higher frequencies.
  double low_dbm0 = -9.0;
  double high_dbm0 = -7.0;
  // Raised-cosine edges: a tone switched on or off at full amplitude clicks, and the click spreads energy across
  // the band (a receiver may even hear it as a key).
  std::chrono::milliseconds ramp{4};
};

// Plays a queue of key presses: each key's tone, then its gap; silence (zeros) once the queue is empty.
class Generator {
 public:
  static constexpr std::size_t kMaxQueued = 64;

  explicit Generator(std::uint32_t sample_rate, ToneSettings settings = {});

  // Queues keys after those still playing. Throws std::invalid_argument, queuing nothing, when `keys` holds a
  // character that is no key (spaces and dashes included: the caller says exactly what to press) or would take the
  // queue past kMaxQueued.
  void press(std::string_view keys);
  // Drops everything queued and stops the current tone at once (its remaining samples are not played).
  void clear();
  // True while a tone or a gap is still to be played.
  bool busy() const { return current_ < count_; }
  // How long the queued presses still take.
  std::chrono::microseconds remaining() const;

  // Writes the next out.size() samples. Returns how many of them belong to a tone or gap (the rest, after the
  // queue ran out, are zeros), so a caller can stop sending once it returns less than it asked for.
  std::size_t generate(std::span<std::int16_t> out);

  std::uint32_t sample_rate() const { return sample_rate_; }
  const ToneSettings& settings() const { return settings_; }

 private:
  std::uint32_t sample_rate_;
  ToneSettings settings_;
  std::size_t tone_samples_, gap_samples_, ramp_samples_;
  double low_amplitude_, high_amplitude_;
  std::array<char, kMaxQueued> queue_{};
  std::size_t current_ = 0, count_ = 0;  // queue_[current_, count_) still to play
  std::size_t position_ = 0;             // sample within the current key's tone + gap
  // Oscillators for the current key, as rotating phasors (no sin() per sample): re/im and the per-sample step.
  double low_re_ = 1, low_im_ = 0, low_step_re_ = 1, low_step_im_ = 0;
  double high_re_ = 1, high_im_ = 0, high_step_re_ = 1, high_step_im_ = 0;
  void start_key();
};

struct DetectorSettings {
  // Each tone at least this loud (Q.24 receivers accept down to about -25..-30 dBm0 per tone).
  double min_dbm0 = -32.0;
  // Twist, high group minus low group, in dB: a line attenuates the high group ("normal twist") more than
  // anything boosts it ("reverse twist").
  double max_normal_twist_db = 8.0;
  double max_reverse_twist_db = 4.0;
  // The strongest tone of each group must stand this far above the group's others.
  double min_group_margin_db = 8.0;
  // The two tones must carry this share of the block's energy: speech and music spread theirs over many
  // frequencies and harmonics, a key press puts almost all of it into two. (This, not a second-harmonic check,
  // is the talk-off guard: at 39 Hz resolution the row tones' second harmonics, 1394-1882 Hz, sit within two bins
  // of the column tones, so a harmonic check refuses real key presses.)
  double min_tone_energy_share = 0.80;
};

// Hears key presses in a stream of samples. The Goertzel algorithm over blocks of 25.6 ms (205 samples at 8 kHz,
// 39 Hz resolution), advanced by half a block; a key is reported once when two overlapping blocks in a row agree
// (a tone of about 40 ms or more) and again only after a block without it (the gap between presses).
class Detector {
 public:
  explicit Detector(std::uint32_t sample_rate, DetectorSettings settings = {});

  // Feeds samples, at most one second of them per call (a 20 ms frame is the usual); returns the keys whose press
  // completed within them, in order. The view points into the detector and is valid until the next call.
  // Throws std::length_error for more than a second of samples.
  std::string_view process(std::span<const std::int16_t> samples);
  void reset();

  std::uint32_t sample_rate() const { return sample_rate_; }

 private:
  static constexpr std::size_t kMaxBlock = 1280;  // 205 samples at 8 kHz scale to 615 at 24 kHz, 1230 at 48 kHz
  static constexpr std::size_t kTones = 8;

  char classify_block() const;
  std::uint32_t sample_rate_;
  DetectorSettings settings_;
  std::size_t block_, hop_;
  std::array<double, kTones> coefficient_{};
  std::array<std::int16_t, kMaxBlock> window_{};  // the last block_ samples, oldest first once full
  std::size_t filled_ = 0, since_block_ = 0;
  char candidate_ = 0;  // the key the previous block heard (0: none)
  char reported_ = 0;   // the key reported and not yet released by a block without it
  std::array<char, 32> out_{};
};

// The tool that lets a voice model press keys on the call's line, e.g. "1" for reservations in a phone menu.
// An agent offers it by listing press_keys_tool() among its tools(); the host then handles every call of it itself:
// it plays the keys on the line (after the agent audio already sent) and answers the voice model with
// {"ok": true, "pressed": "1"}, or {"ok": false, "error": ...} for keys that are none. The agent's on_tool_call
// never sees it. One definition, so every voice plugin offers it the same way.
inline constexpr std::string_view kPressKeysTool = "press_keys";
ToolDefinition press_keys_tool();
// The keys of a press_keys call ("1", "0#", ...): every character a key, 1 to 20 of them; nullopt otherwise.
std::optional<std::string> keys_to_press(const nlohmann::json& arguments);

}  // namespace concierge::dtmf
