#include "voice_settings.hpp"

#include "concierge/audio_format_name.hpp"

namespace concierge::scripted {

VoiceSettings parse_voice_settings(const ConfigNode& block) {
  VoiceSettings s;
  block.allow_only({"voice", "output_format", "input_format", "speed_up", "silence_timeout_s", "response_latency_ms",
                    "generation_speed", "vad_threshold_dbfs", "max_misunderstandings"});
  if (auto voice = block.optional_child("voice")) {
    voice->allow_only({"pitch_hz", "words_per_minute"});
    s.voice.pitch_hz = voice->get_double("pitch_hz", s.voice.pitch_hz, 60.0, 400.0);
    s.voice.words_per_minute = voice->get_double("words_per_minute", s.voice.words_per_minute, 60.0, 400.0);
  }
  for (auto [key, target] : {std::pair{"output_format", &s.output_format}, std::pair{"input_format", &s.input_format}}) {
    *target = get_audio_format(block, key, *target);
  }
  s.speed_up = block.get_double("speed_up", s.speed_up, 0.01, 1000.0);
  s.silence_timeout = std::chrono::milliseconds(
      static_cast<long long>(block.get_double("silence_timeout_s", 10.0, 1.0, 600.0) * 1000));
  s.response_latency =
      std::chrono::milliseconds(block.get_int("response_latency_ms", s.response_latency.count(), 0, 10'000));
  s.generation_speed = block.get_double("generation_speed", s.generation_speed, 1.0, 100.0);
  s.vad_threshold_dbfs = block.get_double("vad_threshold_dbfs", s.vad_threshold_dbfs, -90.0, 0.0);
  s.max_misunderstandings = static_cast<int>(block.get_int("max_misunderstandings", s.max_misunderstandings, 0, 20));
  return s;
}

}  // namespace concierge::scripted
