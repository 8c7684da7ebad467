// The plugin against the fake OpenAI Realtime server, over real sockets: what it sends, what it hands the host, and
// how it fails.
#include <gtest/gtest.h>

#include "concierge/mulaw.hpp"
#include "concierge_fakes/fake_openai_server.hpp"
#include "realtime_model.hpp"
#include "realtime_session.hpp"
#include "voice_model_harness.hpp"

namespace concierge::openai {
namespace {

using namespace std::chrono_literals;
using fakes::FakeOpenAIOptions;
using fakes::FakeOpenAIServer;
using fakes::FakeScript;
using nlohmann::json;
using RecordingEvents = concierge::testing::RecordingVoiceEvents;
namespace step = fakes::step;

VoiceSessionConfig booking_session() {
  VoiceSessionConfig s;
  s.call_id = "call-42";
  s.instructions = "You are calling Demo Restaurant to book a table for 4.";
  s.tools = {ToolDefinition{"confirm_reservation", "Record the booking the restaurant confirmed",
                            json{{"type", "object"},
                                 {"properties",
                                  {{"confirmation_number", {{"type", "string"}}},
                                   {"date", {{"type", "string"}}},
                                   {"time", {{"type", "string"}}},
                                   {"party_size", {{"type", "integer"}}}}},
                                 {"required", {"confirmation_number"}}}},
             ToolDefinition{"end_call", "End the call",
                            json{{"type", "object"}, {"properties", {{"reason", {{"type", "string"}}}}}}}};
  return s;
}

class SessionTest : public concierge::testing::VoiceSessionTest {
 protected:
  static RealtimeConfig config_for(const FakeOpenAIServer& fake) {
    return openai_config_for<RealtimeConfig>(fake.url());
  }

  void open(RealtimeConfig config) {
    model = std::make_shared<RealtimeModel>(host.connector(), log, std::move(config));
    session = model->open_session(booking_session(), events);
  }

  RealtimeSession& realtime() { return static_cast<RealtimeSession&>(*session); }
};

TEST_F(SessionTest, ConfiguresTheSessionInTheGaShape) {
  FakeOpenAIServer fake(FakeOpenAIOptions{});
  auto config = config_for(fake);
  config.voice = "marin";
  open(config);
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  EXPECT_EQ(events->ready, 1);
  EXPECT_TRUE(events->errors.empty()) << events->all_errors();
  EXPECT_TRUE(fake.errors_sent().empty()) << fake.errors_sent().front().dump();

  EXPECT_EQ(fake.upgrade_headers("authorization"), std::vector<std::string>{"Bearer sk-test-key"});
  EXPECT_EQ(fake.upgrade_headers("openai-beta"), std::vector<std::string>{""});  // never sent
  const auto updates = fake.client_events("session.update");
  ASSERT_EQ(updates.size(), 1u);
  const json& s = updates[0]["session"];
  EXPECT_EQ(s["type"], "realtime");
  EXPECT_EQ(s["output_modalities"], json::array({"audio"}));
  EXPECT_EQ(s["instructions"], booking_session().instructions);
  EXPECT_EQ(s["audio"]["input"]["format"]["type"], "audio/pcmu");
  EXPECT_EQ(s["audio"]["output"]["format"]["type"], "audio/pcmu");
  EXPECT_EQ(s["audio"]["output"]["voice"], "marin");
  EXPECT_EQ(s["audio"]["input"]["turn_detection"]["type"], "server_vad");
  EXPECT_EQ(s["audio"]["input"]["transcription"]["model"], "gpt-4o-transcribe");
  ASSERT_EQ(s["tools"].size(), 2u);
  EXPECT_EQ(s["tools"][0]["name"], "confirm_reservation");
  EXPECT_EQ(s["tools"][0]["type"], "function");
  EXPECT_EQ(session->input_format(), AudioFormat::mulaw_8k());
  EXPECT_EQ(session->output_format(), AudioFormat::mulaw_8k());
  // The agent waits for the callee's greeting: no response.create of its own.
  host.run_for(100ms);
  EXPECT_TRUE(fake.client_events("response.create").empty());
}

TEST_F(SessionTest, SpeakFirstAsksForAResponseOnceReady) {
  FakeOpenAIServer fake(FakeOpenAIOptions{});
  auto config = config_for(fake);
  config.speak_first = true;
  open(config);
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  ASSERT_TRUE(host.run_until([&] { return !fake.client_events("response.create").empty(); }));
  const auto types = fake.client_event_types();
  EXPECT_EQ(types.front(), "session.update");
}

TEST_F(SessionTest, AudioRoundTripInMulaw) {
  FakeOpenAIOptions options;
  options.script.steps = {step::delay(100), step::agent_says("Hello, I'd like to book a table.", 1500)};
  FakeOpenAIServer fake(options);
  open(config_for(fake));
  send_callee_frames(10);  // before the session is configured: kept, then sent
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  send_callee_frames(40);
  const std::size_t expected_agent_bytes = 8000 * 1500 / 1000;
  ASSERT_TRUE(host.run_until([&] {
    return fake.audio_bytes_received() == 50 * 160 && events->audio.size() == expected_agent_bytes;
  })) << fake.audio_bytes_received() << " " << events->audio.size();
  EXPECT_EQ(events->audio, fake.agent_audio_sent());  // byte for byte: mu-law passes straight through
  for (const auto& f : events->formats) EXPECT_EQ(f, AudioFormat::mulaw_8k());
  EXPECT_EQ(realtime().stats().frames_sent, 40u);
  EXPECT_EQ(realtime().stats().frames_dropped, 0u);
  EXPECT_TRUE(events->errors.empty()) << events->all_errors();
  EXPECT_TRUE(fake.errors_sent().empty());
}

TEST_F(SessionTest, AudioRoundTripInPcm24k) {
  FakeOpenAIOptions options;
  options.script.delta_ms = 35;  // odd-sized deltas, as the real service sends
  options.script.steps = {step::agent_says("Hello.", 1000)};
  FakeOpenAIServer fake(options);
  auto config = config_for(fake);
  config.audio_mode = AudioMode::pcm24k;
  open(config);
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  EXPECT_EQ(fake.session()->at("audio").at("input").at("format"), json({{"type", "audio/pcm"}, {"rate", 24000}}));
  send_callee_frames(5);
  ASSERT_TRUE(host.run_until([&] { return events->audio.size() == 48000u; })) << events->audio.size();
  EXPECT_EQ(events->audio, fake.agent_audio_sent());
  EXPECT_EQ(events->formats.front(), AudioFormat::pcm16_at(24000));
  ASSERT_TRUE(host.run_until([&] { return fake.audio_bytes_received() == 5 * 960u; }));
}

TEST_F(SessionTest, TranscriptsSpeechEventsAndMetrics) {
  FakeOpenAIOptions options;
  options.script.steps = {step::callee_says("Hello, Demo Restaurant.", 300),
                          step::delay(150),  // the model "thinks": the response latency
                          step::agent_says("Hi, I'd like to book a table for four.", 1000)};
  FakeOpenAIServer fake(options);
  open(config_for(fake));
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  ASSERT_TRUE(host.run_until([&] { return events->transcripts.size() == 2 && !events->metrics.empty(); }));
  EXPECT_EQ(events->transcripts[0], std::make_pair(Speaker::callee, std::string("Hello, Demo Restaurant.")));
  EXPECT_EQ(events->transcripts[1],
            std::make_pair(Speaker::agent, std::string("Hi, I'd like to book a table for four.")));
  EXPECT_EQ(events->speech_started, 1);
  EXPECT_EQ(events->speech_stopped, 1);
  EXPECT_EQ(events->interruptions, 0);  // the callee spoke while the agent was silent: a turn, not a barge-in
  ASSERT_EQ(events->metrics.size(), 1u);
  const auto& m = events->metrics[0];
  ASSERT_TRUE(m.response_latency);
  EXPECT_GE(*m.response_latency, 140ms);
  EXPECT_LT(*m.response_latency, 2s);
  EXPECT_GT(m.input_tokens, 0u);
  EXPECT_EQ(m.output_tokens, 1000u / 50);
}

TEST_F(SessionTest, ToolCallIsAnsweredWithFunctionCallOutputThenResponseCreate) {
  FakeOpenAIOptions options;
  options.script.steps = {
      step::callee_says("Your confirmation number is ABC123.", 200),
      step::function_call("confirm_reservation",
                          R"({"confirmation_number":"ABC123","date":"2026-11-25","time":"19:00","party_size":4})"),
      step::wait_for("conversation.item.create"),
      step::wait_for("response.create"),
      step::agent_says("Thank you, goodbye!", 500),
      step::function_call("end_call", R"({"reason":"confirmed","summary":"booked"})"),
      step::wait_for("conversation.item.create"),
      step::delay(300),
  };
  FakeOpenAIServer fake(options);
  open(config_for(fake));
  events->answer_tool = [&](const ToolCall& call) {
    ToolResult result;
    result.output = json{{"ok", true}};
    result.end_call = call.name == "end_call";
    session->send_tool_result(call, result);
  };
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  ASSERT_TRUE(host.run_until([&] { return fake.script_finished() || !fake.script_failure().empty(); }, 15s));
  EXPECT_EQ(fake.script_failure(), "");
  ASSERT_EQ(events->tool_calls.size(), 2u);
  EXPECT_EQ(events->tool_calls[0].name, "confirm_reservation");
  EXPECT_EQ(events->tool_calls[0].arguments["confirmation_number"], "ABC123");
  EXPECT_EQ(events->tool_calls[0].arguments["party_size"], 4);
  EXPECT_FALSE(events->tool_calls[0].id.empty());

  const auto items = fake.client_events("conversation.item.create");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["item"]["type"], "function_call_output");
  EXPECT_EQ(items[0]["item"]["call_id"], events->tool_calls[0].id);
  EXPECT_EQ(json::parse(items[0]["item"]["output"].get<std::string>()), json({{"ok", true}}));
  EXPECT_EQ(items[1]["item"]["call_id"], events->tool_calls[1].id);
  // One response.create, after the first output; none after end_call (the call is over).
  const auto types = fake.client_event_types();
  std::vector<std::string> control;
  for (const auto& t : types)
    if (t != "input_audio_buffer.append") control.push_back(t);
  EXPECT_EQ(control, (std::vector<std::string>{"session.update", "conversation.item.create", "response.create",
                                               "conversation.item.create"}));
  EXPECT_TRUE(fake.errors_sent().empty()) << fake.errors_sent().front().dump();
}

TEST_F(SessionTest, BadToolArgumentsAreSentBackToTheModel) {
  FakeOpenAIOptions options;
  options.script.steps = {step::function_call("confirm_reservation", "{not json"),
                          step::wait_for("conversation.item.create"), step::wait_for("response.create")};
  FakeOpenAIServer fake(options);
  open(config_for(fake));
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  ASSERT_TRUE(host.run_until([&] { return fake.script_finished() || !fake.script_failure().empty(); }));
  EXPECT_EQ(fake.script_failure(), "");
  EXPECT_TRUE(events->tool_calls.empty());  // the agent never sees half a call
  const auto items = fake.client_events("conversation.item.create");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(json::parse(items[0]["item"]["output"].get<std::string>())["ok"], false);
}

// SDK 1.5: the agent's note on a line event reaches the model as a system message; a beep's end (respond_now) asks
// for a response at once, a note that only informs (a person answered) does not, and an event without a note sends
// nothing.
TEST_F(SessionTest, ALineEventsNoteBecomesASystemMessageAndABeepAsksForTheMessage) {
  FakeOpenAIOptions options;
  options.script.steps = {step::wait_for("conversation.item.create"), step::wait_for("conversation.item.create"),
                          step::wait_for("response.create")};
  FakeOpenAIServer fake(options);
  open(config_for(fake));
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  session->on_line_event({line_event::dtmf, "5", 0, "", false});  // no note: nothing to say
  session->on_line_event({line_event::answered_by, "human", 0, "(A person answered.)", false});
  session->on_line_event({line_event::beep, "", 1000, "(A beep has just sounded: leave the message now.)", true});
  ASSERT_TRUE(host.run_until([&] { return fake.script_finished() || !fake.script_failure().empty(); }));
  EXPECT_EQ(fake.script_failure(), "");
  const auto items = fake.client_events("conversation.item.create");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["item"]["type"], "message");
  EXPECT_EQ(items[0]["item"]["role"], "system");
  EXPECT_EQ(items[0]["item"]["content"][0]["type"], "input_text");
  EXPECT_EQ(items[0]["item"]["content"][0]["text"], "(A person answered.)");
  EXPECT_EQ(items[1]["item"]["content"][0]["text"], "(A beep has just sounded: leave the message now.)");
  EXPECT_EQ(fake.client_events("response.create").size(), 1u);
  EXPECT_TRUE(fake.errors_sent().empty());
}

// The callee talks over the agent 500 ms into a reply whose 2 s of audio arrived at once.
class BargeInTest : public SessionTest, public ::testing::WithParamInterface<bool> {};

TEST_P(BargeInTest, ClearsTruncatesAtWhatWasHeardAndDropsLateDeltas) {
  const bool server_cancels = GetParam();
  FakeOpenAIOptions options;
  options.script.server_cancels_on_speech = server_cancels;
  fakes::BargeIn barge_in;
  barge_in.after_audio_ms = 2000;
  barge_in.wait_ms = 500;
  barge_in.late_deltas = 4;
  barge_in.callee_text = "Sorry, we are fully booked at seven.";
  options.script.steps = {step::agent_says_interrupted("We would like a table for four at seven tonight, please.",
                                                       4000, barge_in),
                          step::delay(300), step::agent_says("I see. What about eight?", 800)};
  FakeOpenAIServer fake(options);
  open(config_for(fake));
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  ASSERT_TRUE(host.run_until([&] { return fake.script_finished() || !fake.script_failure().empty(); }, 15s));
  ASSERT_TRUE(host.run_until([&] { return events->transcripts.size() == 3; }));
  host.run_for(100ms);  // let the truncate's answer arrive
  EXPECT_EQ(fake.script_failure(), "");

  EXPECT_EQ(events->interruptions, 1);
  EXPECT_EQ(events->speech_started, 1);
  const std::size_t first_reply = 8000 * 2000 / 1000;
  EXPECT_EQ(events->audio_at_interruption, first_reply);
  // The late deltas never reached the line; the next reply did.
  EXPECT_EQ(fake.late_audio_bytes_sent(), 4u * 800u);
  EXPECT_EQ(events->audio.size(), first_reply + 8000 * 800 / 1000);
  EXPECT_EQ(realtime().stats().late_deltas_dropped, 4u);

  const auto truncates = fake.client_events("conversation.item.truncate");
  ASSERT_EQ(truncates.size(), 1u);
  EXPECT_EQ(truncates[0]["content_index"], 0);
  const int end_ms = truncates[0]["audio_end_ms"];
  // The callee heard what had played when it spoke (~500 ms, the fake's wait; longer on a loaded machine, shorter
  // when the first audio was read late), never more, and not the 2000 ms that had been sent.
  const long heard_ms = events->heard_before_interruption_ms();
  EXPECT_LE(end_ms, heard_ms + 20);
  EXPECT_GE(end_ms, std::min(heard_ms, 2000L) - 100);
  EXPECT_LT(end_ms, 2000);
  // The item truncated is the one the audio came from; the server accepted it (no error, a truncated event).
  const auto cancels = fake.client_events("response.cancel");
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_TRUE(events->errors.empty()) << events->all_errors();
  if (server_cancels) {
    // The server had cancelled on its own: its response_cancel_not_active is expected and swallowed.
    ASSERT_EQ(fake.errors_sent().size(), 1u);
    EXPECT_EQ(fake.errors_sent()[0]["error"]["code"], "response_cancel_not_active");
  } else {
    EXPECT_TRUE(fake.errors_sent().empty()) << fake.errors_sent().front().dump();
  }
  // The cut reply's transcript says so; the callee's words and the next reply follow.
  EXPECT_EQ(events->transcripts[0].first, Speaker::agent);
  EXPECT_NE(events->transcripts[0].second.find("[interrupted]"), std::string::npos);
  EXPECT_EQ(events->transcripts[1], std::make_pair(Speaker::callee, barge_in.callee_text));
  EXPECT_EQ(events->transcripts[2], std::make_pair(Speaker::agent, std::string("I see. What about eight?")));
}

INSTANTIATE_TEST_SUITE_P(ServerCancels, BargeInTest, ::testing::Bool());

TEST_F(SessionTest, BargeInFollowsTheLinesPlaybackReports) {
  FakeOpenAIOptions options;
  fakes::BargeIn barge_in;
  barge_in.after_audio_ms = 3000;
  barge_in.wait_ms = 600;
  barge_in.late_deltas = 0;
  options.script.steps = {step::agent_says_interrupted("A long sentence.", 3000, barge_in)};
  FakeOpenAIServer fake(options);
  open(config_for(fake));
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  ASSERT_TRUE(host.run_until([&] { return events->audio.size() == 24000u; }));
  // The line (Twilio's marks) says only 100 ms have been heard: it buffers.
  session->on_playback_progress(100ms);
  ASSERT_TRUE(host.run_until([&] { return !fake.client_events("conversation.item.truncate").empty(); }));
  const int end_ms = fake.client_events("conversation.item.truncate")[0]["audio_end_ms"];
  EXPECT_GE(end_ms, 550);  // 100 ms reported + ~600 ms since, bounded by the elapsed time
  EXPECT_LT(end_ms, 3000);  // not the 3000 ms sent; the elapsed part grows with the machine's load
  host.run_for(100ms);
  EXPECT_TRUE(fake.errors_sent().empty() || fake.errors_sent()[0]["error"]["code"] == "response_cancel_not_active");
}

TEST_F(SessionTest, NoBargeInWhenInterruptResponseIsOff) {
  FakeOpenAIOptions options;
  fakes::BargeIn barge_in;
  barge_in.after_audio_ms = 2000;
  barge_in.wait_ms = 200;
  barge_in.late_deltas = 2;
  options.script.steps = {step::agent_says_interrupted("Let me finish.", 3000, barge_in)};
  FakeOpenAIServer fake(options);
  auto config = config_for(fake);
  config.turn_detection.interrupt_response = false;
  open(config);
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  ASSERT_TRUE(host.run_until([&] { return fake.script_finished(); }));
  host.run_for(100ms);
  EXPECT_EQ(events->interruptions, 0);
  EXPECT_TRUE(fake.client_events("conversation.item.truncate").empty());
  EXPECT_TRUE(fake.client_events("response.cancel").empty());
  EXPECT_EQ(events->audio.size(), 8000u * 2000 / 1000 + 2 * 800);  // nothing dropped
}

TEST_F(SessionTest, ErrorEventIsReportedAndTheSessionGoesOn) {
  FakeOpenAIOptions options;
  options.script.steps = {step::send_error("invalid_value", "Something about your request was wrong."),
                          step::agent_says("Still here.", 200)};
  FakeOpenAIServer fake(options);
  open(config_for(fake));
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  ASSERT_TRUE(host.run_until([&] { return events->audio.size() == 1600u; })) << fake.script_failure();
  ASSERT_EQ(events->errors.size(), 1u);
  EXPECT_FALSE(events->errors[0].second);
  EXPECT_NE(events->errors[0].first.find("invalid_value"), std::string::npos);
  EXPECT_NE(events->errors[0].first.find("Something about your request was wrong."), std::string::npos);
  EXPECT_TRUE(log->contains("invalid_value"));
}

TEST_F(SessionTest, MalformedServerJsonIsLoggedAndIgnored) {
  FakeOpenAIOptions options;
  options.script.steps = {step::send_raw("{this is not json"), step::send_raw(R"({"no_type": 1})"),
                          step::send_raw(R"({"type":"response.output_audio.delta","delta":"***"})"),
                          step::send_raw(R"({"type":"some.future.event","x":{}})"),
                          step::agent_says("Still here.", 200)};
  FakeOpenAIServer fake(options);
  open(config_for(fake));
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  ASSERT_TRUE(host.run_until([&] { return events->audio.size() == 1600u; }));
  EXPECT_TRUE(events->errors.empty()) << events->all_errors();
  EXPECT_TRUE(log->contains("malformed event"));
  EXPECT_TRUE(log->contains("not valid base64"));
  EXPECT_TRUE(log->contains("ignoring event some.future.event"));
}

TEST_F(SessionTest, ARefusedSessionUpdateIsFatal) {
  FakeOpenAIServer fake(FakeOpenAIOptions{});
  auto config = config_for(fake);
  config.voice = "fable";  // bypasses config validation on purpose: the server refuses it
  open(config);
  ASSERT_TRUE(host.run_until([&] { return !events->errors.empty(); }));
  EXPECT_EQ(events->ready, 0);
  ASSERT_TRUE(events->errors[0].second) << events->all_errors();
  EXPECT_NE(events->errors[0].first.find("session.audio.output.voice"), std::string::npos) << events->all_errors();
  EXPECT_NE(events->errors[0].first.find("could not be configured"), std::string::npos);
}

TEST_F(SessionTest, ConnectionDroppedByTheServerMidCallIsFatal) {
  FakeOpenAIOptions options;
  options.script.steps = {step::agent_says("Hello.", 200), step::delay(50), step::drop_connection()};
  FakeOpenAIServer fake(options);
  open(config_for(fake));
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  ASSERT_TRUE(host.run_until([&] { return !events->errors.empty(); }));
  ASSERT_EQ(events->errors.size(), 1u);
  EXPECT_TRUE(events->errors[0].second);
  EXPECT_NE(events->errors[0].first.find("connection to OpenAI Realtime was lost"), std::string::npos)
      << events->all_errors();
  EXPECT_NE(events->errors[0].first.find("during the call"), std::string::npos);
  send_callee_frames(3);  // after the end: dropped quietly
  host.run_for(50ms);
  EXPECT_EQ(events->errors.size(), 1u);
}

TEST_F(SessionTest, ConnectionDroppedOnCommandIsFatal) {
  FakeOpenAIServer fake(FakeOpenAIOptions{});
  open(config_for(fake));
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  std::weak_ptr<VoiceSession> weak = session;
  events->on_fatal = [&] { session.reset(); };  // the host lets go of the session inside the callback
  fake.drop_connections();
  ASSERT_TRUE(host.run_until([&] { return events->has_fatal_error(); }));
  host.run_for(50ms);
  EXPECT_TRUE(weak.expired());
  EXPECT_EQ(events->errors.size(), 1u);
}

TEST_F(SessionTest, ClosingAndReleasingMidConversationFreesTheSession) {
  FakeOpenAIOptions options;
  options.script.steps = {step::agent_says("Hello.", 500), step::callee_says("Bye.", 100)};
  FakeOpenAIServer fake(options);
  open(config_for(fake));
  std::weak_ptr<VoiceSession> weak = session;
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  ASSERT_TRUE(host.run_until([&] { return events->speech_started > 0; }));
  session->close();
  session.reset();
  host.run_for(100ms);
  EXPECT_TRUE(weak.expired());
}

TEST_F(SessionTest, ServerCloseIsFatalAndNamesTheReason) {
  FakeOpenAIOptions options;
  options.script.steps = {step::close(4000, "session_expired")};
  FakeOpenAIServer fake(options);
  open(config_for(fake));
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  ASSERT_TRUE(host.run_until([&] { return events->has_fatal_error(); }));
  EXPECT_NE(events->errors[0].first.find("code 4000: session_expired"), std::string::npos) << events->all_errors();
}

TEST_F(SessionTest, BadApiKeyIsAClearError) {
  FakeOpenAIServer fake(FakeOpenAIOptions{});
  auto config = config_for(fake);
  config.api_key = "sk-wrong";
  open(config);
  ASSERT_TRUE(host.run_until([&] { return !events->errors.empty(); }));
  EXPECT_TRUE(events->errors[0].second);
  const std::string& message = events->errors[0].first;
  EXPECT_NE(message.find("HTTP 401"), std::string::npos) << message;
  EXPECT_NE(message.find("Incorrect API key"), std::string::npos) << message;
  EXPECT_NE(message.find("OPENAI_API_KEY"), std::string::npos) << message;
  EXPECT_EQ(message.find("sk-wrong"), std::string::npos) << "the key must not be echoed: " << message;
  EXPECT_EQ(fake.connections(), 0);
  EXPECT_EQ(fake.upgrades_refused(), 1);
}

TEST_F(SessionTest, ConnectTimeout) {
  // A server that accepts TCP and never answers the upgrade.
  boost::asio::io_context silent_io;
  net::tcp::acceptor acceptor(silent_io, net::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  RealtimeConfig config;
  config.api_key = "k";
  config.url = "ws://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/v1/realtime";
  config.connect_timeout = 1s;
  open(config);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(host.run_until([&] { return !events->errors.empty(); }, 5s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
  EXPECT_TRUE(events->errors[0].second);
  EXPECT_NE(events->errors[0].first.find("within 1 s"), std::string::npos) << events->all_errors();
}

TEST_F(SessionTest, NothingListening) {
  boost::asio::io_context io;
  std::uint16_t port = 0;
  {
    net::tcp::acceptor probe(io, net::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    port = probe.local_endpoint().port();
  }
  RealtimeConfig config;
  config.api_key = "k";
  config.url = "ws://127.0.0.1:" + std::to_string(port) + "/v1/realtime";
  open(config);
  ASSERT_TRUE(host.run_until([&] { return !events->errors.empty(); }));
  EXPECT_NE(events->errors[0].first.find("could not connect"), std::string::npos) << events->all_errors();
}

TEST_F(SessionTest, CloseStopsEventsAndClosesTheSocket) {
  FakeOpenAIOptions options;
  options.script.steps = {step::delay(300), step::agent_says("Hello.", 500)};
  FakeOpenAIServer fake(options);
  open(config_for(fake));
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  session->close();
  session->close();  // idempotent
  send_callee_frames(2);
  host.run_for(600ms);
  EXPECT_TRUE(events->audio.empty());
  EXPECT_TRUE(events->errors.empty()) << events->all_errors();
  EXPECT_FALSE(fake.script_finished());  // the fake saw the socket close before it could speak
}

TEST_F(SessionTest, ManySessionsAtOnce) {
  FakeOpenAIOptions options;
  options.script.steps = {step::agent_says("Hello.", 300)};
  FakeOpenAIServer fake(options);
  model = std::make_shared<RealtimeModel>(host.connector(), log, config_for(fake));
  std::vector<std::shared_ptr<RecordingEvents>> all;
  std::vector<std::shared_ptr<VoiceSession>> sessions;
  for (int i = 0; i < 8; ++i) {
    all.push_back(std::make_shared<RecordingEvents>());
    sessions.push_back(model->open_session(booking_session(), all.back()));
  }
  ASSERT_TRUE(host.run_until([&] {
    for (auto& e : all)
      if (e->audio.size() != 2400u) return false;
    return true;
  }));
  EXPECT_EQ(fake.connections(), 8);
}

TEST_F(SessionTest, TheRestaurantScriptRunsToTheEnd) {
  FakeOpenAIOptions options;
  options.script = fakes::restaurant_script("4711", json{{"date", "2026-11-25"}, {"time", "19:00"}, {"party_size", 4}});
  FakeOpenAIServer fake(options);
  open(config_for(fake));
  events->answer_tool = [&](const ToolCall& call) {
    ToolResult result;
    result.output = json{{"ok", true}};
    result.end_call = call.name == "end_call";
    session->send_tool_result(call, result);
  };
  ASSERT_TRUE(host.run_until([&] { return fake.script_finished() || !fake.script_failure().empty(); }, 20s));
  EXPECT_EQ(fake.script_failure(), "");
  ASSERT_EQ(events->tool_calls.size(), 2u);
  EXPECT_EQ(events->tool_calls[0].arguments,
            json({{"confirmation_number", "4711"}, {"date", "2026-11-25"}, {"time", "19:00"}, {"party_size", 4}}));
  EXPECT_EQ(events->tool_calls[1].name, "end_call");
  EXPECT_EQ(events->transcripts.size(), 6u);  // three lines each
  EXPECT_EQ(events->interruptions, 0);       // the restaurant lets the agent finish
  EXPECT_EQ(events->audio.size(), 8u * (2000 + 2500 + 1500));
  EXPECT_TRUE(events->errors.empty()) << events->all_errors();
}

// ---- TLS

class TlsTest : public SessionTest {};

TEST_F(TlsTest, VerifiesTheServerAgainstTheConfiguredCa) {
  FakeOpenAIOptions options;
  options.tls = fakes::make_test_pki({"localhost"}, {"127.0.0.1"});
  options.script.steps = {step::agent_says("Hello over TLS.", 300)};
  FakeOpenAIServer fake(options);
  auto config = config_for(fake);
  config.url = fake.url("localhost");
  config.ca_file = fakes::write_temp_file("ca.pem", options.tls->ca_pem);
  open(config);
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  ASSERT_TRUE(host.run_until([&] { return events->audio.size() == 2400u; }));
  EXPECT_EQ(events->audio, fake.agent_audio_sent());
  EXPECT_TRUE(events->errors.empty()) << events->all_errors();
}

TEST_F(TlsTest, AnIpAddressInTheCertificateWorksToo) {
  FakeOpenAIOptions options;
  options.tls = fakes::make_test_pki({"localhost"}, {"127.0.0.1"});
  FakeOpenAIServer fake(options);
  auto config = config_for(fake);
  config.url = fake.url("127.0.0.1");
  config.ca_file = fakes::write_temp_file("ca.pem", options.tls->ca_pem);
  open(config);
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  EXPECT_EQ(events->ready, 1);
}

TEST_F(TlsTest, RefusesACertificateForAnotherHost) {
  FakeOpenAIOptions options;
  options.tls = fakes::make_test_pki({"api.example.org"}, {});  // trusted CA, wrong name
  FakeOpenAIServer fake(options);
  auto config = config_for(fake);
  config.url = fake.url("localhost");
  config.ca_file = fakes::write_temp_file("ca.pem", options.tls->ca_pem);
  open(config);
  ASSERT_TRUE(host.run_until([&] { return !events->errors.empty(); }));
  EXPECT_EQ(events->ready, 0);
  EXPECT_TRUE(events->errors[0].second);
  EXPECT_NE(events->errors[0].first.find("TLS handshake"), std::string::npos) << events->all_errors();
  EXPECT_NE(events->errors[0].first.find("certificate rejected"), std::string::npos) << events->all_errors();
  EXPECT_EQ(fake.connections(), 0);
}

TEST_F(TlsTest, RefusesACertificateFromAnUntrustedCa) {
  FakeOpenAIOptions options;
  options.tls = fakes::make_test_pki({"localhost"}, {"127.0.0.1"});
  FakeOpenAIServer fake(options);
  auto config = config_for(fake);
  config.url = fake.url("localhost");
  // The system store does not know the test CA.
  open(config);
  ASSERT_TRUE(host.run_until([&] { return !events->errors.empty(); }));
  EXPECT_TRUE(events->errors[0].second);
  EXPECT_NE(events->errors[0].first.find("certificate rejected"), std::string::npos) << events->all_errors();
  EXPECT_EQ(fake.connections(), 0);
}

}  // namespace
}  // namespace concierge::openai
