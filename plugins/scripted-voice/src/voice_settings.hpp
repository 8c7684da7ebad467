#pragma once
// The scripted-voice plugin's configuration (its YAML block). Everything has a default.
#include <chrono>

#include "concierge/audio_frame.hpp"
#include "concierge/config.hpp"
#include "concierge/speech/speech_signal.hpp"

namespace concierge::scripted {

struct VoiceSettings {
  sim::SpeechVoice voice{125.0, 165.0, 0.30};  // lower than the simulated restaurant's 210 Hz, so the two differ
  AudioFormat output_format = AudioFormat::pcm16_at(24000);  // OpenAI Realtime's rate: the host's resampler runs
  AudioFormat input_format = AudioFormat::mulaw_8k();
  double speed_up = 1.0;                       // simulated time runs this much faster than the wall clock
  std::chrono::milliseconds silence_timeout{10'000};
  std::chrono::milliseconds response_latency{300};  // from the end of the callee's turn to the first audio
  double generation_speed = 4.0;               // audio is produced this many times faster than it plays
  std::chrono::milliseconds chunk{100};         // audio per on_audio call
  double vad_threshold_dbfs = -45.0;
  int max_misunderstandings = 3;
};

// Throws ConfigError. output_format / input_format: concierge/audio_format_name.hpp's spelling ("pcm16/24000").
VoiceSettings parse_voice_settings(const ConfigNode& block);

}  // namespace concierge::scripted
