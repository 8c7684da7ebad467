#include <gtest/gtest.h>

#include "voice_settings.hpp"

namespace concierge::scripted {
namespace {

VoiceSettings parse(const std::string& yaml) { return parse_voice_settings(ConfigNode(YAML::Load(yaml), "voice")); }

TEST(VoiceSettings, DefaultsAndOverrides) {
  const auto d = parse("{}");
  EXPECT_EQ(d.output_format, AudioFormat::pcm16_at(24000));
  EXPECT_EQ(d.input_format, AudioFormat::mulaw_8k());
  EXPECT_EQ(d.speed_up, 1.0);
  const auto s = parse(R"(
voice: {pitch_hz: 100, words_per_minute: 200}
output_format: mulaw/8000
input_format: pcm16/16000
speed_up: 20
silence_timeout_s: 5
)");
  EXPECT_EQ(s.voice.pitch_hz, 100);
  EXPECT_EQ(s.output_format, AudioFormat::mulaw_8k());
  EXPECT_EQ(s.input_format, AudioFormat::pcm16_at(16000));
  EXPECT_EQ(s.speed_up, 20);
  EXPECT_EQ(s.silence_timeout, std::chrono::seconds(5));
}

TEST(VoiceSettings, ErrorsNameTheKey) {
  auto error_of = [](const std::string& yaml) -> std::string {
    try {
      parse(yaml);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(error_of("output_format: wav").find("voice.output_format"), std::string::npos);
  EXPECT_NE(error_of("input_format: mulaw_8000").find("input_format (line 1): \"mulaw_8000\" is the old spelling: write mulaw/8000"),
            std::string::npos)
      << error_of("input_format: mulaw_8000");
  EXPECT_NE(error_of("voice: {pitch: 100}").find("voice.voice.pitch"), std::string::npos);
  EXPECT_NE(error_of("speedup: 3").find("voice.speedup"), std::string::npos);
}

}  // namespace
}  // namespace concierge::scripted
