// The plugin against the fake GPT-Live server, over real sockets: what it sends, what it hands the host, how it
// derives turns and barge-in, and how it fails.
#include <gtest/gtest.h>

#include "concierge_fakes/fake_live_server.hpp"
#include "live_model.hpp"
#include "live_session.hpp"
#include "voice_model_harness.hpp"

namespace concierge::openai_live {
namespace {

using namespace std::chrono_literals;
using fakes::live::BargeIn;
using fakes::live::FakeLiveOptions;
using fakes::live::FakeLiveServer;
using fakes::live::FakeScript;
using nlohmann::json;
using RecordingEvents = concierge::testing::RecordingVoiceEvents;
namespace step = fakes::live::step;

VoiceSessionConfig booking_session(AudioFormat line = AudioFormat::mulaw_8k()) {
  VoiceSessionConfig s;
  s.call_id = "call-42";
  s.instructions = "You are calling Demo Restaurant to book a table for 4.";
  s.line_format = line;
  s.tools = {ToolDefinition{"confirm_reservation", "Record the booking the restaurant confirmed",
                            json{{"type", "object"},
                                 {"properties", {{"confirmation_number", {{"type", "string"}}}}},
                                 {"required", {"confirmation_number"}}}},
             ToolDefinition{"end_call", "End the call",
                            json{{"type", "object"}, {"properties", {{"reason", {{"type", "string"}}}}}}}};
  return s;
}

FakeLiveOptions with_script(std::vector<fakes::live::ScriptStep> steps) {
  FakeLiveOptions o;
  o.script.steps = std::move(steps);
  return o;
}

class LiveSessionTest : public concierge::testing::VoiceSessionTest {
 protected:
  static LiveConfig config_for(const FakeLiveServer& fake) { return openai_config_for<LiveConfig>(fake.url()); }

  void open(LiveConfig config, VoiceSessionConfig session_config = booking_session()) {
    model = std::make_shared<LiveModel>(host.loop(), host.connector(), log, std::move(config));
    session = model->open_session(session_config, events);
  }

  LiveSession& live() { return static_cast<LiveSession&>(*session); }
};

TEST_F(LiveSessionTest, SessionStartComesFirstWithOnlyTheTypedFields) {
  FakeLiveServer fake(FakeLiveOptions{});
  auto config = config_for(fake);
  config.voice = "cedar";
  config.backend_model = "gpt-5.5-mini";
  open(config);
  send_callee_frames(10);  // before the socket is even open: buffered, not sent
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  ASSERT_TRUE(host.run_until([&] { return fake.audio_bytes_received() >= 1600; }));
  const auto types = fake.client_event_types();
  ASSERT_FALSE(types.empty());
  EXPECT_EQ(types.front(), "session.start");
  EXPECT_TRUE(fake.errors_sent().empty()) << fake.errors_sent().front().dump();
  const json s = *fake.session();
  EXPECT_EQ(s["model"], "gpt-live-1");
  EXPECT_EQ(s["instructions"], booking_session().instructions);
  EXPECT_EQ(s["audio"]["format"], (json{{"type", "audio/pcmu"}, {"rate", 8000}}));  // a mu-law line passes through
  EXPECT_EQ(s["audio"]["output"]["voice"], "cedar");
  EXPECT_EQ(s["delegation"]["type"], "responses");
  EXPECT_EQ(s["delegation"]["responses"]["model"], "gpt-5.5-mini");
  ASSERT_EQ(s["delegation"]["responses"]["tools"].size(), 2u);
  EXPECT_EQ(s["delegation"]["responses"]["tools"][0]["name"], "confirm_reservation");
  EXPECT_FALSE(s.contains("tools"));  // the session object has no tools field
  EXPECT_EQ(fake.upgrade_headers("authorization"), std::vector<std::string>{"Bearer sk-test-key"});
  EXPECT_EQ(session->input_format(), AudioFormat::mulaw_8k());
}

TEST_F(LiveSessionTest, PcmAtTheConfiguredRateOffAMuLawLine) {
  FakeLiveServer fake(FakeLiveOptions{});
  open(config_for(fake), booking_session(AudioFormat::pcm16_at(16000)));
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  EXPECT_EQ(session->input_format(), AudioFormat::pcm16_at(24000));
  EXPECT_EQ((*fake.session())["audio"]["format"], (json{{"type", "audio/pcm"}, {"rate", 24000}}));
  session->close();

  FakeLiveServer fake16(FakeLiveOptions{});
  auto config = config_for(fake16);
  config.audio_mode = AudioMode::pcm16k;
  events = std::make_shared<RecordingEvents>();
  open(config);
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  EXPECT_EQ(session->output_format(), AudioFormat::pcm16_at(16000));
  EXPECT_EQ((*fake16.session())["audio"]["format"], (json{{"type", "audio/pcm"}, {"rate", 16000}}));
}

TEST_F(LiveSessionTest, ABookingThroughTheDelegation) {
  auto options = FakeLiveOptions{};
  options.script = fakes::live::restaurant_script("4711", {{"date", "2031-05-02"}, {"time", "19:00"}, {"party_size", 4}});
  FakeLiveServer fake(options);
  events->answer_tool = [&](const ToolCall& call) {
    ToolResult r;
    r.output = json{{"ok", true}};
    r.end_call = call.name == "end_call";
    session->send_tool_result(call, r);
  };
  open(config_for(fake));
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  ASSERT_TRUE(host.run_until([&] { return fake.script_finished() || !fake.script_failure().empty(); }, 30s));
  host.run_for(200ms);
  EXPECT_EQ(fake.script_failure(), "");
  EXPECT_TRUE(events->errors.empty()) << events->all_errors();
  ASSERT_EQ(events->tool_calls.size(), 2u);
  EXPECT_EQ(events->tool_calls[0].name, "confirm_reservation");
  EXPECT_EQ(events->tool_calls[0].arguments["confirmation_number"], "4711");
  EXPECT_EQ(events->tool_calls[1].name, "end_call");
  // Each result went back as a function_call_output; only the first asked the backend to go on.
  const auto outputs = fake.client_events("response.item.create");
  ASSERT_EQ(outputs.size(), 2u);
  EXPECT_EQ(outputs[0]["item"]["type"], "function_call_output");
  EXPECT_EQ(outputs[0]["item"]["call_id"], events->tool_calls[0].id);
  EXPECT_EQ(fake.client_events("response.create").size(), 1u);
  // Turns: three callee utterances, each finished, in order, and the agent's replies between them.
  std::vector<std::string> callee, agent;
  for (const auto& [speaker, text] : events->transcripts) (speaker == Speaker::callee ? callee : agent).push_back(text);
  ASSERT_EQ(callee.size(), 3u) << ::testing::PrintToString(events->transcripts);
  EXPECT_EQ(callee[0], "Hello, Demo Restaurant, how can I help you?");
  EXPECT_EQ(callee[2], "That works. Your confirmation number is 4711.");
  ASSERT_GE(agent.size(), 2u);
  EXPECT_EQ(agent[0], "Hi! I'd like to book a table for 4 people, please.");
  EXPECT_EQ(events->speech_started, 3);
  EXPECT_EQ(events->speech_stopped, 3);
  EXPECT_EQ(events->interruptions, 0);
  // All of the agent's audio reached the host, and a latency was measured for each reply that followed the callee.
  EXPECT_EQ(events->audio.size(), fake.agent_audio_bytes_sent());
  int latencies = 0;
  for (const auto& m : events->metrics)
    if (m.response_latency) {
      ++latencies;
      EXPECT_GE(m.response_latency->count(), 0);
    }
  EXPECT_GE(latencies, 2);
}

TEST_F(LiveSessionTest, BargeInClearsTheLineAndDropsTheRestOfTheReply) {
  FakeLiveServer fake(with_script({
      step::callee_says("Hello?", 200),
      step::agent_says_interrupted("Hi, I would like to book a table for four people tomorrow evening", 4000,
                                   BargeIn{1000, 300, 3, "Sorry, one moment please"}),
      step::delay(1200),
      step::agent_says("Of course, take your time.", 1000),
      step::delay(300),
  }));
  open(config_for(fake));
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  ASSERT_TRUE(host.run_until([&] { return fake.script_finished() || !fake.script_failure().empty(); }, 15s));
  host.run_for(100ms);
  EXPECT_EQ(events->interruptions, 1);
  EXPECT_EQ(live().stats().late_deltas_dropped, 3u);
  // Nothing of the old reply after the interruption; the new reply in full.
  EXPECT_EQ(events->audio.size(), fake.agent_audio_bytes_sent() - fake.late_audio_bytes_sent());
  EXPECT_EQ(events->audio.size() - events->audio_at_interruption, 8000u);  // 1 s of mu-law: the next reply
  bool interrupted = false;
  for (const auto& [speaker, text] : events->transcripts)
    if (speaker == Speaker::agent && text.ends_with("[interrupted]")) interrupted = true;
  EXPECT_TRUE(interrupted) << ::testing::PrintToString(events->transcripts);
  bool callee_heard = false;
  for (const auto& [speaker, text] : events->transcripts)
    if (speaker == Speaker::callee && text == "Sorry, one moment please") callee_heard = true;
  EXPECT_TRUE(callee_heard) << ::testing::PrintToString(events->transcripts);
}

TEST_F(LiveSessionTest, TheCalleeTalkingAfterTheReplyPlayedIsATurnNotABargeIn) {
  FakeLiveServer fake(with_script({
      step::callee_says("Hello?", 200),
      step::agent_says("Hi there.", 300),
      step::delay(800),  // the line plays the 300 ms at 1x: all of it heard
      step::callee_says("Yes, how can I help?", 300),
      step::delay(900),
  }));
  open(config_for(fake));
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  ASSERT_TRUE(host.run_until([&] { return fake.script_finished() || !fake.script_failure().empty(); }, 15s));
  host.run_for(100ms);
  EXPECT_EQ(events->interruptions, 0);
  EXPECT_EQ(events->speech_started, 2);
  EXPECT_EQ(events->speech_stopped, 2);
}

// SDK 1.5: the agent's note on a line event goes into the session timeline as openai-realtime tells its model: a
// note that only informs (an answering machine answered) as silent context, a beep's end (respond_now) as speakable
// context, an event without a note not at all; a note from before session.started waits for it. The fake checks the
// events' fields (content, delegation_id null) and acknowledges each on the timeline.
TEST_F(LiveSessionTest, ALineEventsNoteGoesIntoTheTimelineSpeakableAfterABeep) {
  FakeLiveServer fake(with_script({step::wait_for("session.thinking.append"),
                                   step::wait_for("session.commentary.append")}));
  open(config_for(fake));
  session->on_line_event({line_event::answered_by, "machine_start", 0, "(An answering machine answered.)", false});
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  session->on_line_event({line_event::dtmf, "5", 0, "", false});  // no note: nothing to say
  session->on_line_event({line_event::beep, "", 1000, "(A beep has just sounded: leave the message now.)", true});
  ASSERT_TRUE(host.run_until([&] { return fake.script_finished() || !fake.script_failure().empty(); }));
  EXPECT_EQ(fake.script_failure(), "");
  const auto types = fake.client_event_types();
  ASSERT_GE(types.size(), 3u);
  EXPECT_EQ(types[0], "session.start");  // the early note waited for session.started
  const auto silent = fake.client_events("session.thinking.append");
  ASSERT_EQ(silent.size(), 1u);
  EXPECT_EQ(silent[0]["content"], "(An answering machine answered.)");
  EXPECT_TRUE(silent[0].contains("delegation_id") && silent[0]["delegation_id"].is_null());
  const auto spoken = fake.client_events("session.commentary.append");
  ASSERT_EQ(spoken.size(), 1u);
  EXPECT_EQ(spoken[0]["content"], "(A beep has just sounded: leave the message now.)");
  EXPECT_TRUE(fake.client_events("session.instructions.append").empty());
  ASSERT_TRUE(host.run_until([&] {
    int acks = 0;
    for (const auto& e : fake.server_events())
      acks += e["type"] == "session.thinking.appended" || e["type"] == "session.commentary.appended";
    return acks == 2;
  }));
  EXPECT_TRUE(fake.errors_sent().empty());
  EXPECT_TRUE(events->errors.empty()) << events->all_errors();
  EXPECT_TRUE(log->contains("told GPT-Live of a line event (beep)"));
}

TEST_F(LiveSessionTest, AnErrorEventIsReportedAndTheCallGoesOn) {
  FakeLiveServer fake(with_script({
      step::send_error("rate_limit_exceeded", "Slow down"),
      step::send_raw("{not json"),
      step::callee_says("Hello?", 200),
      step::delay(900),
  }));
  open(config_for(fake));
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  ASSERT_TRUE(host.run_until([&] { return fake.script_finished() || !fake.script_failure().empty(); }, 10s));
  host.run_for(100ms);
  ASSERT_EQ(events->errors.size(), 1u) << events->all_errors();
  EXPECT_FALSE(events->errors[0].second);
  EXPECT_NE(events->errors[0].first.find("rate_limit_exceeded: Slow down"), std::string::npos);
  EXPECT_EQ(events->speech_stopped, 1);  // still listening
  EXPECT_TRUE(log->contains("malformed event"));
}

TEST_F(LiveSessionTest, EachCloseReasonEndsTheCallWithWhatToDo) {
  const std::vector<std::pair<std::string, std::string>> reasons{
      {"expired", "duration limit"},
      {"content", "safety filter"},
      {"connection_lost", "can be retried"},
      {"remote_hangup", "hung up"},
  };
  for (const auto& [reason, says] : reasons) {
    FakeLiveServer fake(with_script({step::callee_says("Hello?", 100), step::close_session(reason)}));
    events = std::make_shared<RecordingEvents>();
    open(config_for(fake));
    ASSERT_TRUE(host.run_until([&] { return events->has_fatal_error(); }, 10s)) << reason;
    ASSERT_EQ(events->errors.size(), 1u) << events->all_errors();
    EXPECT_NE(events->errors[0].first.find(says), std::string::npos) << events->errors[0].first;
    EXPECT_NE(events->errors[0].first.find(reason), std::string::npos) << events->errors[0].first;
  }
}

TEST_F(LiveSessionTest, TheSocketDroppingMidCallIsFatal) {
  FakeLiveServer fake(with_script({step::callee_says("Hello?", 100), step::drop_connection()}));
  open(config_for(fake));
  ASSERT_TRUE(host.run_until([&] { return events->has_fatal_error(); }, 10s));
  EXPECT_NE(events->errors.back().first.find("during the call"), std::string::npos) << events->all_errors();
  EXPECT_EQ(events->ready, 1);
}

TEST_F(LiveSessionTest, ABadKeyIsRefusedAtTheUpgrade) {
  FakeLiveOptions options;
  options.api_key = "sk-the-right-one";
  FakeLiveServer fake(options);
  open(config_for(fake));
  ASSERT_TRUE(host.run_until([&] { return events->has_fatal_error(); }, 10s));
  EXPECT_NE(events->errors[0].first.find("HTTP 401"), std::string::npos) << events->all_errors();
  EXPECT_NE(events->errors[0].first.find("check OPENAI_API_KEY"), std::string::npos);
  EXPECT_EQ(events->ready, 0);
  EXPECT_EQ(fake.upgrades_refused(), 1);
}

TEST_F(LiveSessionTest, ARefusedSessionStartIsFatal) {
  FakeLiveServer fake(FakeLiveOptions{});
  auto config = config_for(fake);
  config.voice = "not-a-voice";  // past config validation on purpose: the server's answer is what is tested
  open(config);
  ASSERT_TRUE(host.run_until([&] { return events->has_fatal_error(); }, 10s));
  EXPECT_NE(events->errors[0].first.find("session.audio.output.voice"), std::string::npos) << events->all_errors();
  EXPECT_NE(events->errors[0].first.find("could not be started"), std::string::npos);
  EXPECT_EQ(events->ready, 0);
  EXPECT_EQ(fake.client_event_types(), std::vector<std::string>{"session.start"});  // nothing after the refusal
}

TEST_F(LiveSessionTest, OverTlsWithTheConfiguredCa) {
  FakeLiveOptions options;
  options.tls = fakes::make_test_pki({"localhost"}, {"127.0.0.1"});
  FakeLiveServer fake(options);
  auto config = config_for(fake);
  config.ca_file = fakes::write_temp_file("ca.pem", options.tls->ca_pem);
  open(config);
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  EXPECT_EQ(fake.connections(), 1);
}

TEST_F(LiveSessionTest, UsageCountsAudioSeconds) {
  FakeLiveServer fake(with_script({step::agent_says("Hi.", 500), step::delay(100)}));
  open(config_for(fake));
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  ASSERT_TRUE(host.run_until([&] { return live().stats().audio_seconds > 0; }, 10s));
  EXPECT_GE(live().stats().audio_seconds, 0.5);
  double reported = 0;
  for (const auto& m : events->metrics) reported += m.audio_seconds;
  EXPECT_DOUBLE_EQ(reported, live().stats().audio_seconds);  // increases of the cumulative count, summed once
}

// Echo mode (concierge-bench's openai-live mode, bench/bench-openai-live.yaml): every append after session.started
// comes straight back as a delta with the same audio, which the plugin hands to the host unchanged; the appends are
// counted, not kept one by one.
TEST_F(LiveSessionTest, EchoModeSendsEveryAppendBack) {
  FakeLiveOptions options;
  options.script.echo_audio = true;
  FakeLiveServer fake(options);
  open(config_for(fake));
  ASSERT_TRUE(wait_ready()) << events->all_errors();
  const AudioFormat f = session->input_format();
  ASSERT_EQ(f, AudioFormat::mulaw_8k());
  std::vector<std::uint8_t> sent;
  for (int i = 0; i < 25; ++i) {
    std::vector<std::uint8_t> frame(samples_per_frame(f.sample_rate) * f.bytes_per_sample());
    for (std::size_t j = 0; j < frame.size(); ++j) frame[j] = static_cast<std::uint8_t>(i * 7 + j);
    sent.insert(sent.end(), frame.begin(), frame.end());
    session->send_audio(AudioFrame{f, frame, 0});
  }
  ASSERT_TRUE(host.run_until([&] { return events->audio.size() >= sent.size() || events->has_fatal_error(); }))
      << "echoed " << events->audio.size() << " of " << sent.size() << " bytes";
  EXPECT_EQ(events->audio, sent);
  EXPECT_EQ(fake.audio_bytes_received(), sent.size());
  EXPECT_EQ(fake.agent_audio_bytes_sent(), sent.size());
  EXPECT_TRUE(fake.client_events("session.input_audio.append").empty());  // counted, not recorded
  EXPECT_TRUE(fake.errors_sent().empty());
  EXPECT_FALSE(events->has_fatal_error()) << events->all_errors();
}

}  // namespace
}  // namespace concierge::openai_live
