#pragma once
// A deterministic speech-like signal for offline calls. No speech synthesiser runs offline, yet the far side must
// hear something an energy VAD treats like speech: voiced harmonics of a moving pitch, shaped into syllables by an
// envelope, with short gaps between words and longer ones at punctuation. The same text and voice always give the
// same samples (tests compare them), and the duration follows the text like real speech does.
//
// Shared by the simulated line (the restaurant's voice) and the scripted voice model (the agent's voice), each with
// its own pitch, so a listener (and a test) can tell them apart.
#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace concierge::sim {

struct SpeechVoice {
  double pitch_hz = 140.0;          // fundamental; harmonics above ~3.4 kHz are left out (telephone band)
  double words_per_minute = 165.0;  // conversational English is 150..180
  double level = 0.30;              // peak amplitude as a fraction of full scale
};

// Appends the signal for `text` to `out` at `sample_rate` (8000..48000). Starts and ends on silence; the caller adds
// pauses between utterances. `out` keeps its capacity across calls, so steady use allocates only when an utterance
// is longer than every earlier one.
void render_speech(std::string_view text, const SpeechVoice& voice, std::uint32_t sample_rate,
                   std::vector<std::int16_t>& out);

// How long render_speech's output for `text` lasts (without rendering it).
std::chrono::microseconds speech_duration(std::string_view text, const SpeechVoice& voice);

// Low-level noise for the pauses between utterances (a phone line is never digitally silent), well below any VAD
// threshold: about -66 dBFS RMS. Deterministic from `seed`; overwrites `out`.
void render_comfort_noise(std::uint64_t seed, std::span<std::int16_t> out);

}  // namespace concierge::sim
