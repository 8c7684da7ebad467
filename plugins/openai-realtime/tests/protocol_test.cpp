// The client events the plugin writes and the in-place reader of audio deltas.
#include <gtest/gtest.h>

#include "concierge/base64.hpp"
#include "realtime_protocol.hpp"

namespace concierge::openai {
namespace {

using nlohmann::json;

VoiceSessionConfig protocol_booking_session() {
  VoiceSessionConfig s;
  s.call_id = "call-1";
  s.instructions = "You are booking a table.";
  s.tools = {ToolDefinition{"confirm_reservation", "Record the booking",
                            json{{"type", "object"},
                                 {"properties", {{"confirmation_number", {{"type", "string"}}}}},
                                 {"required", {"confirmation_number"}}}},
             ToolDefinition{"end_call", "Hang up", json::object()}};
  return s;
}

TEST(SessionUpdate, GaShapeForMulaw) {
  RealtimeConfig c;
  c.voice = "coral";
  c.turn_detection.silence_duration_ms = 450;
  const json e = make_session_update(c, protocol_booking_session(), "cc_1");
  EXPECT_EQ(e["type"], "session.update");
  EXPECT_EQ(e["event_id"], "cc_1");
  const json& s = e["session"];
  EXPECT_EQ(s["type"], "realtime");
  EXPECT_EQ(s["model"], "gpt-realtime");
  EXPECT_EQ(s["output_modalities"], json::array({"audio"}));
  EXPECT_EQ(s["instructions"], "You are booking a table.");
  EXPECT_EQ(s["audio"]["input"]["format"], json({{"type", "audio/pcmu"}}));
  EXPECT_EQ(s["audio"]["output"]["format"], json({{"type", "audio/pcmu"}}));
  EXPECT_EQ(s["audio"]["output"]["voice"], "coral");
  EXPECT_EQ(s["audio"]["input"]["turn_detection"]["type"], "server_vad");
  EXPECT_EQ(s["audio"]["input"]["turn_detection"]["silence_duration_ms"], 450);
  EXPECT_EQ(s["audio"]["input"]["turn_detection"]["interrupt_response"], true);
  EXPECT_FALSE(s["audio"]["input"]["turn_detection"].contains("threshold"));
  EXPECT_EQ(s["audio"]["input"]["transcription"]["model"], "gpt-4o-transcribe");
  ASSERT_EQ(s["tools"].size(), 2u);
  EXPECT_EQ(s["tools"][0]["type"], "function");
  EXPECT_EQ(s["tools"][0]["name"], "confirm_reservation");
  EXPECT_EQ(s["tools"][0]["parameters"]["required"][0], "confirmation_number");
  // A tool without parameters still gets a valid (empty) object schema.
  EXPECT_EQ(s["tools"][1]["parameters"]["type"], "object");
  // Nothing of the beta shape.
  for (const char* beta : {"modalities", "input_audio_format", "output_audio_format", "voice", "turn_detection",
                           "input_audio_transcription", "temperature"})
    EXPECT_FALSE(s.contains(beta)) << beta;
}

TEST(SessionUpdate, Pcm24kAndSemanticVad) {
  RealtimeConfig c;
  c.audio_mode = AudioMode::pcm24k;
  c.turn_detection.type = "semantic_vad";
  c.turn_detection.eagerness = "low";
  c.transcription_model.clear();
  c.speed = 1.1;
  const json s = make_session_update(c, protocol_booking_session(), "x")["session"];
  EXPECT_EQ(s["audio"]["input"]["format"], json({{"type", "audio/pcm"}, {"rate", 24000}}));
  EXPECT_EQ(s["audio"]["output"]["format"], json({{"type", "audio/pcm"}, {"rate", 24000}}));
  EXPECT_EQ(s["audio"]["input"]["turn_detection"]["eagerness"], "low");
  EXPECT_FALSE(s["audio"]["input"].contains("transcription"));
  EXPECT_DOUBLE_EQ(s["audio"]["output"]["speed"].get<double>(), 1.1);
}

TEST(AppendEvent, RoundTripsAndReusesItsBuffer) {
  AppendEventWriter writer;
  std::vector<std::uint8_t> frame(160);
  for (std::size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<std::uint8_t>(i * 7);
  const std::string_view first = writer.write(frame);
  const json e = json::parse(first);
  EXPECT_EQ(e["type"], "input_audio_buffer.append");
  const auto decoded = base64::decode(e["audio"].get<std::string>());
  ASSERT_TRUE(decoded);
  EXPECT_EQ(std::vector<std::uint8_t>(decoded->begin(), decoded->end()), frame);
  const char* storage = first.data();
  frame[0] = 1;
  const std::string_view second = writer.write(frame);
  EXPECT_EQ(second.data(), storage);  // same storage: no allocation per frame
  EXPECT_EQ(second.size(), first.size());
}

TEST(FlatEvent, ReadsADeltaInPlace) {
  const std::string text =
      R"({"type":"response.output_audio.delta","event_id":"event_1","response_id":"resp_1","item_id":"item_2",)"
      R"("output_index":0,"content_index":0,"delta":"AAEC", "obfuscation": null, "flag": true, "x": -1.5e3})";
  FlatEvent e;
  ASSERT_TRUE(scan_flat_event(text, e));
  EXPECT_EQ(e.type, "response.output_audio.delta");
  EXPECT_EQ(e.response_id, "resp_1");
  EXPECT_EQ(e.item_id, "item_2");
  EXPECT_EQ(e.delta, "AAEC");
  EXPECT_GE(e.delta.data(), text.data());  // a view into the message, not a copy
  EXPECT_LT(e.delta.data(), text.data() + text.size());
}

TEST(FlatEvent, FallsBackOnAnythingElse) {
  FlatEvent e;
  EXPECT_FALSE(scan_flat_event(R"({"type":"response.done","response":{"id":"r"}})", e));
  EXPECT_FALSE(scan_flat_event(R"({"type":"x","delta":"a\/b"})", e));  // escaped field we need
  EXPECT_TRUE(scan_flat_event(R"({"type":"x","other":"a\"b"})", e));  // escapes elsewhere are skipped
  EXPECT_FALSE(scan_flat_event(R"({"type":"x")", e));
  EXPECT_FALSE(scan_flat_event(R"([1,2])", e));
  EXPECT_FALSE(scan_flat_event(R"({"type":"x"} trailing)", e));
  EXPECT_FALSE(scan_flat_event("", e));
}

}  // namespace
}  // namespace concierge::openai
