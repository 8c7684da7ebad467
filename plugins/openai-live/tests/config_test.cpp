// The plugin's YAML block: defaults, every key, and the errors a person sees.
#include <gtest/gtest.h>

#include "concierge_fakes/test_pki.hpp"
#include "config_error.hpp"
#include "live_config.hpp"

namespace concierge::openai_live {
namespace {

LiveConfig parse(const std::string& yaml) {
  return parse_live_config(ConfigNode(YAML::Load(yaml), "plugins.voice_model.config"), "");
}

std::string error_of(const std::string& yaml) {
  return concierge::testing::config_error_of([&] { parse(yaml); });
}

TEST(LiveConfig, DefaultsNeedOnlyTheKey) {
  const auto c = parse("api_key: sk-abc\n");
  EXPECT_EQ(c.url, "wss://api.openai.com/v1/live/sessions");
  EXPECT_EQ(c.model, "gpt-live-1");
  EXPECT_EQ(c.voice, "marin");
  EXPECT_EQ(c.audio_mode, AudioMode::automatic);
  EXPECT_EQ(c.backend_model, "gpt-5.5");
  const auto e = c.endpoint();
  EXPECT_TRUE(e.tls);
  EXPECT_EQ(e.host, "api.openai.com");
  EXPECT_EQ(e.port, "443");
  EXPECT_EQ(e.target, "/v1/live/sessions");  // no query parameters: the model goes in session.start
}

TEST(LiveConfig, AutomaticFormatFollowsTheLine) {
  const auto c = parse("api_key: k\n");
  EXPECT_EQ(c.audio_format(AudioFormat::mulaw_8k()), AudioFormat::mulaw_8k());
  EXPECT_EQ(c.audio_format(AudioFormat::pcm16_at(16000)), AudioFormat::pcm16_at(24000));
  EXPECT_EQ(parse("api_key: k\naudio_format: pcm16k\n").audio_format(AudioFormat::mulaw_8k()),
            AudioFormat::pcm16_at(16000));
  EXPECT_EQ(parse("api_key: k\naudio_format: pcm24k\n").audio_format(AudioFormat::mulaw_8k()),
            AudioFormat::pcm16_at(24000));
  EXPECT_EQ(parse("api_key: k\naudio_format: pcmu\n").audio_format(AudioFormat::pcm16_at(16000)),
            AudioFormat::mulaw_8k());
}

TEST(LiveConfig, EveryKey) {
  const auto c = parse(
      "api_key: k\nurl: ws://127.0.0.1:9000/v1/live/sessions\nmodel: gpt-live-1-mini\nvoice: cedar\n"
      "audio_format: pcm24k\nbackend_model: gpt-5.5-mini\nbackend_reasoning_effort: low\nconnect_timeout_seconds: 3\n"
      "early_audio_limit_ms: 2000\ncallee_turn_gap_ms: 900\noutput_gap_ms: 300\n");
  EXPECT_EQ(c.model, "gpt-live-1-mini");
  EXPECT_EQ(c.voice, "cedar");
  EXPECT_EQ(c.backend_model, "gpt-5.5-mini");
  EXPECT_EQ(c.backend_reasoning_effort, "low");
  EXPECT_EQ(c.connect_timeout, std::chrono::seconds(3));
  EXPECT_EQ(c.callee_turn_gap, std::chrono::milliseconds(900));
  EXPECT_EQ(c.output_gap, std::chrono::milliseconds(300));
  EXPECT_FALSE(c.endpoint().tls);
  EXPECT_EQ(c.endpoint().port, "9000");
}

TEST(LiveConfig, ErrorsNameTheKeyAndTheFix) {
  EXPECT_NE(error_of("model: gpt-live-1\n").find("OPENAI_API_KEY not configured"), std::string::npos);
  EXPECT_NE(error_of("api_key: k\nturn_detection: {type: server_vad}\n").find("turn_detection"), std::string::npos);
  EXPECT_NE(error_of("api_key: k\nvoice: nova\n").find("unknown voice \"nova\""), std::string::npos);
  EXPECT_NE(error_of("api_key: k\naudio_format: pcm8k\n").find("audio_format"), std::string::npos);
  EXPECT_NE(error_of("api_key: k\nbackend_model: \"\"\n").find("backend_model"), std::string::npos);
  EXPECT_NE(error_of("api_key: k\nbackend_reasoning_effort: huge\n").find("backend_reasoning_effort"),
            std::string::npos);
  EXPECT_NE(error_of("api_key: k\nurl: https://api.openai.com/v1/live/sessions\n").find("wss://"), std::string::npos);
  EXPECT_NE(error_of("api_key: k\nurl: wss://api.openai.com/v1/live/sessions?model=gpt-live-1\n").find("query"),
            std::string::npos);
  EXPECT_NE(error_of("api_key: k\ncallee_turn_gap_ms: 10\n").find("callee_turn_gap_ms"), std::string::npos);
  // A CA file that is not a PEM bundle is refused here, at start-up, rather than at each call's connect.
  const std::string junk = fakes::write_temp_file("live-junk-ca.pem", "not a certificate");
  const std::string junk_error = error_of("api_key: k\nca_file: " + junk + "\n");
  EXPECT_NE(junk_error.find("ca_file"), std::string::npos) << junk_error;
  EXPECT_NE(junk_error.find("holds no PEM certificate"), std::string::npos) << junk_error;
  // An unset ${OPENAI_LIVE_MODEL:-} or ${LIVE_VOICE:-} means the default, not an error.
  EXPECT_EQ(parse("api_key: k\nmodel: \"\"\nvoice: \"\"\n").model, "gpt-live-1");
}

}  // namespace
}  // namespace concierge::openai_live
