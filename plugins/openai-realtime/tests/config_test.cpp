// The plugin's YAML block: defaults, every key, and the errors a person sees.
#include <gtest/gtest.h>

#include "concierge_fakes/test_pki.hpp"
#include "config_error.hpp"
#include "realtime_config.hpp"

namespace concierge::openai {
namespace {

RealtimeConfig parse(const std::string& yaml, const std::string& dir = "") {
  return parse_realtime_config(ConfigNode(YAML::Load(yaml), "plugins.voice_model.config"), dir);
}

std::string error_of(const std::string& yaml) {
  return concierge::testing::config_error_of([&] { parse(yaml); });
}

TEST(RealtimeConfig, DefaultsNeedOnlyTheKey) {
  const auto c = parse("api_key: sk-abc\n");
  EXPECT_EQ(c.api_key, "sk-abc");
  EXPECT_EQ(c.url, "wss://api.openai.com/v1/realtime");
  EXPECT_EQ(c.model, "gpt-realtime");
  EXPECT_EQ(c.voice, "alloy");
  EXPECT_EQ(c.audio_mode, AudioMode::pcmu);
  EXPECT_EQ(c.audio_format(), AudioFormat::mulaw_8k());
  EXPECT_EQ(c.turn_detection.type, "server_vad");
  EXPECT_TRUE(c.turn_detection.interrupt_response);
  EXPECT_EQ(c.transcription_model, "gpt-4o-transcribe");
  EXPECT_FALSE(c.speak_first);
  const auto e = c.endpoint();
  EXPECT_TRUE(e.tls);
  EXPECT_EQ(e.host, "api.openai.com");
  EXPECT_EQ(e.port, "443");
  EXPECT_EQ(e.target, "/v1/realtime?model=gpt-realtime");
  EXPECT_EQ(e.host_header(), "api.openai.com");
}

TEST(RealtimeConfig, EveryKey) {
  const auto c = parse(R"(
api_key: sk-abc
url: ws://127.0.0.1:9000/v1/realtime
model: gpt-realtime-2
voice: marin
audio_format: pcm24k
turn_detection:
  type: semantic_vad
  eagerness: high
  create_response: true
  interrupt_response: false
transcription_model: whisper-1
transcription_language: en
speed: 1.2
connect_timeout_seconds: 3
speak_first: true
early_audio_limit_ms: 2000
)");
  EXPECT_EQ(c.voice, "marin");
  EXPECT_EQ(c.audio_format(), AudioFormat::pcm16_at(24000));
  EXPECT_EQ(c.turn_detection.type, "semantic_vad");
  EXPECT_EQ(c.turn_detection.eagerness, "high");
  EXPECT_FALSE(c.turn_detection.interrupt_response);
  EXPECT_EQ(c.transcription_model, "whisper-1");
  EXPECT_EQ(c.transcription_language, "en");
  EXPECT_DOUBLE_EQ(*c.speed, 1.2);
  EXPECT_EQ(c.connect_timeout, std::chrono::seconds(3));
  EXPECT_TRUE(c.speak_first);
  EXPECT_EQ(c.early_audio_limit_ms, 2000u);
  const auto e = c.endpoint();
  EXPECT_FALSE(e.tls);
  EXPECT_EQ(e.port, "9000");
  EXPECT_EQ(e.target, "/v1/realtime?model=gpt-realtime-2");
  EXPECT_EQ(e.host_header(), "127.0.0.1:9000");
}

TEST(RealtimeConfig, ServerVadSettings) {
  const auto c = parse(R"(
api_key: k
turn_detection: {type: server_vad, threshold: 0.6, prefix_padding_ms: 200, silence_duration_ms: 400, idle_timeout_ms: 8000}
)");
  EXPECT_DOUBLE_EQ(*c.turn_detection.threshold, 0.6);
  EXPECT_EQ(*c.turn_detection.prefix_padding_ms, 200);
  EXPECT_EQ(*c.turn_detection.silence_duration_ms, 400);
  EXPECT_EQ(*c.turn_detection.idle_timeout_ms, 8000);
}

TEST(RealtimeConfig, MissingOrEmptyKeyNamesTheVariable) {
  EXPECT_NE(error_of("model: gpt-realtime\n").find("OPENAI_API_KEY not configured"), std::string::npos);
  // An unset ${OPENAI_API_KEY} arrives as an empty value.
  const auto e = error_of("api_key: \"\"\n");
  EXPECT_NE(e.find("OPENAI_API_KEY not configured"), std::string::npos) << e;
  EXPECT_NE(e.find("plugins.voice_model.config.api_key"), std::string::npos) << e;
}

TEST(RealtimeConfig, SeedVoicesAreExplainedAsOutdated) {
  for (const char* voice : {"fable", "onyx", "nova"}) {
    const auto e = error_of(std::string("api_key: k\nvoice: ") + voice + "\n");
    EXPECT_NE(e.find("outdated"), std::string::npos) << e;
    EXPECT_NE(e.find("marin"), std::string::npos) << e;
    EXPECT_NE(e.find("cedar"), std::string::npos) << e;
    EXPECT_NE(e.find("(line 2)"), std::string::npos) << e;
  }
  const auto e = error_of("api_key: k\nvoice: robot\n");
  EXPECT_NE(e.find("unknown voice \"robot\""), std::string::npos) << e;
  EXPECT_NE(e.find("alloy, ash, ballad, coral, echo, sage, shimmer, verse, marin, cedar"), std::string::npos) << e;
}

TEST(RealtimeConfig, EveryCurrentVoiceIsAccepted) {
  for (auto voice : realtime_voices()) EXPECT_EQ(parse("api_key: k\nvoice: " + std::string(voice)).voice, voice);
  EXPECT_EQ(parse("api_key: k\nvoice: \"\"\n").voice, "alloy");  // ${REALTIME_VOICE:-} left empty
}

TEST(RealtimeConfig, RefusesWhatTheGaApiDoesNotTake) {
  EXPECT_NE(error_of("api_key: k\ntemperature: 0.8\n").find("no temperature"), std::string::npos);
  EXPECT_NE(error_of("api_key: k\naudio_format: g711_ulaw\n").find("expected pcmu"), std::string::npos);
  EXPECT_NE(error_of("api_key: k\nturn_detection: {type: semantic_vad, threshold: 0.5}\n").find("server_vad only"),
            std::string::npos);
  EXPECT_NE(error_of("api_key: k\nturn_detection: {type: server_vad, eagerness: low}\n").find("semantic_vad only"),
            std::string::npos);
  EXPECT_NE(error_of("api_key: k\nturn_detection: {type: push_to_talk}\n").find("server_vad or semantic_vad"),
            std::string::npos);
  EXPECT_NE(error_of("api_key: k\nvoices: alloy\n").find("unknown key"), std::string::npos);
  EXPECT_NE(error_of("api_key: k\nspeed: 3\n").find("between"), std::string::npos);
}

TEST(RealtimeConfig, Urls) {
  EXPECT_NE(error_of("api_key: k\nurl: https://api.openai.com/v1/realtime\n").find("wss://"), std::string::npos);
  EXPECT_NE(error_of("api_key: k\nurl: wss://:443/x\n").find("no host"), std::string::npos);
  EXPECT_NE(error_of("api_key: k\nurl: wss://host:abc/x\n").find("port"), std::string::npos);
  std::string why;
  auto e = parse_ws_url("wss://example.com/v1/realtime?foo=1", "gpt realtime", &why);
  ASSERT_TRUE(e) << why;
  EXPECT_EQ(e->target, "/v1/realtime?foo=1&model=gpt%20realtime");
  e = parse_ws_url("ws://[::1]:8080", "m", &why);
  ASSERT_TRUE(e) << why;
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->target, "/?model=m");
  EXPECT_EQ(e->host_header(), "[::1]:8080");
}

TEST(RealtimeConfig, CaFileIsResolvedAndChecked) {
  EXPECT_NE(error_of("api_key: k\nca_file: /nonexistent/ca.pem\n").find("no such file"), std::string::npos);
  // A file that is not a PEM bundle is refused at start-up, not at each call's connect (the host loads it then).
  const std::string junk = fakes::write_temp_file("junk-ca.pem", "x");
  EXPECT_NE(error_of("api_key: k\nca_file: " + junk + "\n").find("holds no PEM certificate"), std::string::npos);
  const std::string path = fakes::write_temp_file("ca.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
  const auto slash = path.rfind('/');
  const auto c = parse("api_key: k\nca_file: " + path.substr(slash + 1) + "\n", path.substr(0, slash));
  EXPECT_EQ(c.ca_file, path);
}

}  // namespace
}  // namespace concierge::openai
