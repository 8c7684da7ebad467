// Server events with fields missing or of the wrong shape, straight into a session (through a transport that
// keeps what the session sends): each is ignored or logged, and the session carries on. Regressions found by
// tests/fuzz/realtime_events_fuzz.
#include <gtest/gtest.h>

#include "realtime_session.hpp"
#include "voice_model_harness.hpp"

namespace concierge::openai {
namespace {

TEST(RealtimeEvents, EventsWithoutTheirNestedObjectsAreSurvived) {
  auto config = std::make_shared<RealtimeConfig>();
  config->api_key = "sk-test";
  auto transport = std::make_shared<concierge::testing::RecordingWebSocket>();
  auto events = std::make_shared<concierge::testing::RecordingVoiceEvents>();
  auto log = std::make_shared<concierge::testing::RecordingLogger>();
  VoiceSessionConfig session_config;
  session_config.call_id = "call-1";
  auto session = std::make_shared<RealtimeSession>(config, transport, log, session_config, events);
  session->start();
  ASSERT_NE(transport->listener(), nullptr);
  transport->listener()->on_websocket_open();
  for (const char* event : {
           R"({"type":"session.updated","session":{"id":"s"}})",
           R"({"type":"response.created"})",  // the crash the fuzzer found: no "response" object
           R"({"type":"response.created","response":"not an object"})",
           R"({"type":"session.created"})",
           R"({"type":"conversation.item.input_audio_transcription.failed"})",
           R"({"type":"response.done"})",
           R"({"type":"response.done","response":{"usage":7,"status":"failed","status_details":[]}})",
           R"({"type":"error"})",
           R"({"type":"response.function_call_arguments.done"})",
           R"({"type":"conversation.item.input_audio_transcription.completed","transcript":"Still here?"})",
       }) {
    ASSERT_NE(transport->listener(), nullptr) << "the session ended at " << event;
    transport->listener()->on_websocket_message(event);
  }
  ASSERT_EQ(events->transcripts.size(), 1u) << events->all_errors();
  EXPECT_EQ(events->transcripts[0].second, "Still here?");
  session->close();
}

}  // namespace
}  // namespace concierge::openai
