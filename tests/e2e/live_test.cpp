// Real calls on config/twilio-live.yaml: the production plugin set with openai-live in place of openai-realtime, from
// the CLI to a confirmed booking through the fake Twilio and the fake GPT-Live (wss:// with a test CA), barge-in, an
// error event, each session.closed reason and the socket dropping mid-call.
#include "live_rig.hpp"

namespace concierge::e2e {
namespace {

namespace ls = fl::step;

TEST(E2ELive, TheSeedsRequestIsBookedFromTheCliThroughTwilioAndGptLive) {
  const std::string date = tomorrow_iso();
  LiveRig rig;
  const auto cli = rig.book("Book a table at Demo Restaurant for 4 people tomorrow at 7pm");
  EXPECT_EQ(cli.status, 0) << cli.output << "\n--- daemon ---\n" << rig.daemon().output();
  for (const std::string& line :
       {std::string("Connected"), std::string("Restaurant: Hello, Demo Restaurant, how can I help you?"),
        std::string("Agent: Hi! I'd like to book a table for 4 people tomorrow at 7 PM."),
        std::string("Restaurant: That works. Your confirmation number is 4711."),
        std::string("Reservation confirmed!"), std::string("Date:         " + date),
        std::string("Confirmation: 4711")})
    EXPECT_TRUE(contains(cli.output, line)) << "missing \"" << line << "\" in:\n" << cli.output;

  const std::string call_id = rig.only_call_id();
  const json record = rig.record(call_id);
  EXPECT_EQ(record["status"], "completed") << record.dump(2);
  EXPECT_TRUE(record["result"].value("success", false)) << record.dump(2);
  EXPECT_EQ(record["result"].value("confirmation_number", ""), "4711");

  // GPT-Live: session.start first, mu-law straight through, the agent's tools in the Responses delegation.
  auto& live = rig.live();
  EXPECT_TRUE(live.script_finished()) << live.script_failure();
  EXPECT_TRUE(live.errors_sent().empty()) << live.errors_sent().front().dump();
  EXPECT_EQ(live.upgrade_headers("authorization"), std::vector<std::string>{"Bearer " + kApiKey});
  EXPECT_EQ(live.client_event_types().front(), "session.start");
  const json session = *live.session();
  EXPECT_EQ(session["model"], "gpt-live-1");
  EXPECT_EQ(session["audio"]["format"], (json{{"type", "audio/pcmu"}, {"rate", 8000}}));
  EXPECT_EQ(session["audio"]["output"]["voice"], "marin");
  std::vector<std::string> tools;
  for (const auto& t : session["delegation"]["responses"]["tools"]) tools.push_back(t["name"]);
  EXPECT_EQ(tools, (std::vector<std::string>{"confirm_reservation", "end_call", "press_keys"}));
  EXPECT_TRUE(contains(session["instructions"].get<std::string>(), "Alex Morgan"));
  const auto outputs = live.client_events("response.item.create");
  ASSERT_EQ(outputs.size(), 2u);
  const json confirm_output = parse(outputs[0]["item"]["output"].get<std::string>());
  EXPECT_EQ(confirm_output["ok"], true) << confirm_output.dump();
  EXPECT_EQ(live.client_events("response.create").size(), 1u);

  // Audio both ways: every agent byte reached Twilio and was played; the restaurant's frames reached GPT-Live.
  const auto calls = rig.twilio().calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].agent_bytes_received, live.agent_audio_bytes_sent());
  EXPECT_EQ(calls[0].clears, 0u) << "no barge-in in this conversation";
  EXPECT_GT(live.audio_bytes_received(), 100u * 160u);
  EXPECT_GE(record["metrics"].value("voice_to_voice_count", 0), 1) << record["metrics"].dump();
  // Usage in audio seconds (GPT-Live's session.usage.updated), in the call record and /metrics.
  const double audio_seconds = record["metrics"].value("audio_seconds", 0.0);
  EXPECT_GT(audio_seconds, 1.0) << record["metrics"].dump();
  const std::string prometheus = testing::http_get(rig.url() + "/metrics").body;
  EXPECT_TRUE(contains(prometheus, "# TYPE concierge_voice_audio_seconds_total counter")) << prometheus;
  EXPECT_TRUE(contains(prometheus, "concierge_voice_audio_seconds_total " + std::to_string(audio_seconds).substr(0, 4)))
      << prometheus;
}

TEST(E2ELive, BargeInClearsTheLineAndTheBookingGoesOn) {
  LiveRigOptions options;
  const json confirm{{"confirmation_number", "8812"}, {"date", tomorrow_iso()}, {"time", "19:00"}, {"party_size", 4}};
  options.script.steps = {
      ls::callee_says("Hello, Demo Restaurant.", 300),
      ls::agent_says_interrupted(
          "Hi! I'd like to book a table for four people tomorrow at seven in the evening, under Alex Morgan.", 3000,
          fl::BargeIn{2000, 600, 3, "Sorry, one moment, for how many people?"}),
      ls::delay(1000),
      ls::agent_says("For four people.", 400),
      ls::delay(400 + 400),
      ls::callee_says("Done. Your confirmation number is 8812.", 400),
      ls::function_call("confirm_reservation", confirm.dump()),
      ls::wait_for("response.item.create"),
      ls::wait_for("response.create"),
      ls::agent_says("Thank you, goodbye!", 400),
      ls::function_call("end_call", json{{"reason", "confirmed"}, {"summary", "Booked, 8812"}}.dump()),
      ls::wait_for("response.item.create"),
  };
  LiveRig rig(options);
  const std::string id = rig.place(structured_fields(kRestaurantPhone));
  const json record = rig.wait_for_end(id, 30s);
  EXPECT_EQ(record["status"], "completed") << record.dump(2) << rig.daemon().output();
  EXPECT_EQ(record["result"].value("confirmation_number", ""), "8812");
  const auto calls = rig.twilio().calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].clears, 1u);
  EXPECT_GT(calls[0].agent_bytes_dropped, 0u) << "the clear came while the line still held audio";
  // None of the old reply's tail reached the line.
  EXPECT_EQ(calls[0].agent_bytes_received, rig.live().agent_audio_bytes_sent() - rig.live().late_audio_bytes_sent());
  EXPECT_TRUE(contains(transcript_text(record), "[interrupted]")) << transcript_text(record);
}

TEST(E2ELive, AnErrorEventIsRecordedAndTheCallGoesOn) {
  LiveRigOptions options;
  auto steps = options.script.steps;
  steps.insert(steps.begin() + 1, ls::send_error("server_error", "The server had a hiccup"));
  options.script.steps = steps;
  LiveRig rig(options);
  const std::string id = rig.place(structured_fields(kRestaurantPhone));
  const json record = rig.wait_for_end(id, 30s);
  EXPECT_EQ(record["status"], "completed") << record.dump(2) << rig.daemon().output();
  EXPECT_TRUE(record["result"].value("success", false));
  EXPECT_TRUE(rig.daemon().process().wait_for_output("The server had a hiccup", 3s)) << rig.daemon().output();
}

TEST(E2ELive, EachCloseReasonFailsTheCallWithWhatToDo) {
  for (const auto& [reason, says] : std::vector<std::pair<std::string, std::string>>{
           {"expired", "duration limit"}, {"content", "safety filter"}, {"connection_lost", "can be retried"}}) {
    LiveRigOptions options;
    options.script.steps = {ls::callee_says("Hello, Demo Restaurant.", 300), ls::delay(200), ls::close_session(reason)};
    LiveRig rig(options);
    const std::string id = rig.place(structured_fields(kRestaurantPhone));
    const json record = rig.wait_for_end(id, 30s);
    EXPECT_EQ(record["status"], "failed") << reason << record.dump(2);
    EXPECT_TRUE(contains(failure_reason(record), says)) << reason << ": " << failure_reason(record);
    EXPECT_TRUE(contains(failure_reason(record), reason)) << failure_reason(record);
    // The hang-up reaches Twilio from a REST worker thread a moment after the record ends: wait for it.
    EXPECT_TRUE(rig.twilio().wait_for([](const ft::FakeTwilio& t) { return !t.records_of("rest.update").empty(); }, 5s))
        << "the daemon hangs up the line";
    EXPECT_EQ(rig.twilio().records_of("rest.update").size(), 1u) << "the daemon hangs up the line once";
  }
}

TEST(E2ELive, TheSocketDroppingMidCallFailsTheCall) {
  LiveRigOptions options;
  options.script.steps = {ls::callee_says("Hello, Demo Restaurant.", 300), ls::agent_says("Hi!", 300),
                          ls::drop_connection()};
  LiveRig rig(options);
  const std::string id = rig.place(structured_fields(kRestaurantPhone));
  const json record = rig.wait_for_end(id, 30s);
  EXPECT_EQ(record["status"], "failed") << record.dump(2);
  EXPECT_TRUE(contains(failure_reason(record), "GPT-Live")) << failure_reason(record);
  EXPECT_TRUE(contains(failure_reason(record), "during the call")) << failure_reason(record);
  // The daemon keeps serving.
  EXPECT_EQ(testing::http_get(rig.url() + "/health").status, 200);
}

TEST(E2ELive, AWrongKeyFailsTheCallWithAClearReason) {
  LiveRigOptions options;
  options.env["OPENAI_API_KEY"] = "sk-wrong";
  LiveRig rig(options);
  const std::string id = rig.place(structured_fields(kRestaurantPhone));
  const json record = rig.wait_for_end(id, 30s);
  EXPECT_EQ(record["status"], "failed");
  EXPECT_TRUE(contains(failure_reason(record), "HTTP 401")) << failure_reason(record);
  EXPECT_TRUE(contains(failure_reason(record), "check OPENAI_API_KEY"));
}

// SDK 1.5 line events through the whole daemon: Twilio's answering-machine detection says a person answered, the
// reservation agent's note goes to GPT-Live as silent context (session.thinking.append; the conformance test types
// it), the fake acknowledges it, and the booking goes on to its confirmation.
TEST(E2ELive, TwiliosVerdictReachesGptLiveAsANoteAndTheBookingGoesOn) {
  LiveRigOptions options;
  options.env["TWILIO_MACHINE_DETECTION"] = "Enable";
  options.twilio.amd_verdict = [](const ft::CreatedCall&) { return std::string("human"); };
  options.twilio.amd_after = 300ms;
  LiveRig rig(options);
  const auto cli = rig.book("Book a table at Demo Restaurant for 4 people tomorrow at 7pm");
  EXPECT_EQ(cli.status, 0) << cli.output << "\n--- daemon ---\n" << rig.daemon().output();
  EXPECT_TRUE(contains(cli.output, "Reservation confirmed!")) << cli.output;
  const json record = rig.record(rig.only_call_id());
  EXPECT_EQ(record["answered_by"], "human") << record.dump(2);
  auto& live = rig.live();
  const auto notes = live.client_events("session.thinking.append");
  ASSERT_EQ(notes.size(), 1u) << rig.daemon().output();
  EXPECT_TRUE(contains(notes[0].value("content", ""), "a person answered")) << notes[0].dump();
  EXPECT_TRUE(notes[0]["delegation_id"].is_null());
  EXPECT_TRUE(live.client_events("session.commentary.append").empty());  // a person, not the agent's turn
  int acknowledged = 0;
  for (const auto& e : live.server_events()) acknowledged += e.value("type", "") == "session.thinking.appended";
  EXPECT_EQ(acknowledged, 1);
  EXPECT_TRUE(live.errors_sent().empty()) << live.errors_sent().front().dump();
  EXPECT_TRUE(live.script_finished()) << live.script_failure();
}

}  // namespace
}  // namespace concierge::e2e
