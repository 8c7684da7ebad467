// The voice side of real calls: barge-in (Twilio clear + a correct conversation.item.truncate), OpenAI error events,
// and the OpenAI WebSocket dropping mid-call (the call fails with its reason; the daemon and its records survive).
#include "e2e.hpp"

namespace concierge::e2e {
namespace {

// The restaurant talks over the agent's first reply: OpenAI has sent 2 s of it at once (faster than real time, as it
// does), the line has played about 0.6 s when speech_started arrives, and 3 more deltas of the reply are already on
// the wire. Then the conversation goes on to a booking.
fo::FakeScript barge_in_script(const std::string& date) {
  fo::FakeScript script;
  fo::BargeIn barge_in;
  barge_in.after_audio_ms = 2000;
  barge_in.wait_ms = 600;
  barge_in.late_deltas = 3;
  barge_in.callee_text = "Sorry, one moment, for how many people?";
  const json confirm{{"confirmation_number", "8812"}, {"date", date}, {"time", "19:00"}, {"party_size", 4}};
  script.steps = {
      step::callee_says("Hello, Demo Restaurant.", 300),
      step::agent_says_interrupted(
          "Hi! I'd like to book a table for four people tomorrow at seven in the evening, under Alex Morgan.", 3000,
          barge_in),
      step::agent_says("For four people.", 400),
      step::delay(400 + 400),
      step::callee_says("Done. Your confirmation number is 8812.", 400),
      step::function_call("confirm_reservation", confirm.dump()),
      step::wait_for("conversation.item.create"),
      step::wait_for("response.create"),
      step::agent_says("Thank you, goodbye!", 400),
      step::function_call("end_call", json{{"reason", "confirmed"}, {"summary", "Booked, 8812"}}.dump()),
      step::wait_for("conversation.item.create"),
  };
  return script;
}

// `server_cancels`: OpenAI's own VAD cancels the reply (interrupt_response), so our response.cancel comes second and
// is answered response_cancel_not_active; otherwise the reply stays in flight until our cancel arrives.
void expect_barge_in_handled(bool server_cancels) {
  RigOptions options;
  options.script = barge_in_script(tomorrow_iso());
  options.script.server_cancels_on_speech = server_cancels;
  Rig rig(options);
  const std::string id = rig.place(structured_fields(kRestaurantPhone));
  const json record = rig.wait_for_end(id, 30s);
  EXPECT_EQ(record["status"], "completed") << record.dump(2) << rig.daemon().output();
  EXPECT_TRUE(record["result"].value("success", false)) << record.dump(2);
  EXPECT_EQ(record["result"].value("confirmation_number", ""), "8812");
  EXPECT_TRUE(rig.openai().script_finished()) << rig.openai().script_failure();

  // Twilio got exactly one clear, while it still held unplayed agent audio.
  const auto calls = rig.twilio().calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].clears, 1u);
  EXPECT_GT(calls[0].agent_bytes_dropped, 0u) << "the clear came while the line still held audio";
  // The first reply's audio as the line got it: every media message before the clear.
  std::size_t first_reply_bytes = 0;
  std::size_t dropped_by_clear = 0;
  for (const auto& r : rig.twilio().records()) {
    if (r.kind == "clear.in") {
      dropped_by_clear = std::stoul(r.detail);
      break;
    }
    if (r.kind == "media.in") first_reply_bytes += std::stoul(r.detail);
  }
  EXPECT_EQ(first_reply_bytes, 2000u * 8) << "the 2 s sent before the barge-in, and none of the late deltas";
  const double heard_ms = static_cast<double>(first_reply_bytes - dropped_by_clear) / 8.0;

  // OpenAI got one truncate for that item, at what the callee heard, never past the audio sent to the line.
  const auto truncates = rig.openai().client_events("conversation.item.truncate");
  ASSERT_EQ(truncates.size(), 1u);
  const json& t = truncates[0];
  EXPECT_EQ(t["content_index"], 0);
  const int audio_end_ms = t["audio_end_ms"];
  std::printf("barge-in: truncate at %d ms; the line played %.0f ms of the 2000 ms it had\n", audio_end_ms, heard_ms);
  EXPECT_LE(audio_end_ms, 2000) << "past the audio sent: the server would refuse it";
  // The plugin knows what was heard from Twilio's marks, which reach it a little after the audio played, and later
  // still on a loaded machine (599 ms against 680 played, once, beside five builds): a generous lower bound.
  EXPECT_GE(audio_end_ms, heard_ms - 250) << "far less than the callee actually heard";
  EXPECT_LE(audio_end_ms, heard_ms + 400) << "far more than the callee heard";
  for (const auto& e : rig.openai().errors_sent())
    EXPECT_EQ(e["error"]["code"], "response_cancel_not_active") << "the fake refused a client event: " << e.dump();
  if (!server_cancels) {
    EXPECT_TRUE(rig.openai().errors_sent().empty()) << "our cancel found the reply in flight";
  }
  // (The fake itself checks item_id: a truncate of an unknown or non-assistant item is answered with an error.)
  EXPECT_EQ(rig.openai().client_events("response.cancel").size(), 1u);

  // The late deltas of the cancelled reply never reached the line.
  const std::size_t sent = rig.openai().agent_audio_sent().size();
  const std::size_t late = rig.openai().late_audio_bytes_sent();
  EXPECT_GT(late, 0u);
  EXPECT_EQ(calls[0].agent_bytes_received, sent - late);

  // The record tells the story.
  EXPECT_EQ(record["metrics"].value("interruptions", 0), 1);
  const std::string transcript = transcript_text(record);
  EXPECT_TRUE(contains(transcript, "system: (callee interrupted the agent)")) << transcript;
  EXPECT_TRUE(contains(transcript, "[interrupted]")) << transcript;
  EXPECT_TRUE(contains(transcript, "callee: Sorry, one moment, for how many people?")) << transcript;
}

TEST(E2EVoice, BargeInClearsTheLineAndTruncatesAtWhatWasHeard) { expect_barge_in_handled(true); }

TEST(E2EVoice, BargeInWhenOnlyOurCancelStopsTheReply) { expect_barge_in_handled(false); }

TEST(E2EVoice, AnOpenAIErrorEventIsRecordedAndTheCallGoesOn) {
  RigOptions options;
  options.script = booking_script("5150", tomorrow_iso());
  // A real error the server sends mid-call (e.g. when two response.create cross): not fatal.
  options.script.steps.insert(
      options.script.steps.begin() + 1,
      step::send_error("conversation_already_has_active_response",
                       "Conversation already has an active response in progress: resp_1. Wait until the response is "
                       "finished before creating a new one."));
  Rig rig(options);
  const std::string id = rig.place(structured_fields(kRestaurantPhone));
  const json record = rig.wait_for_end(id, 30s);
  EXPECT_EQ(record["status"], "completed") << record.dump(2);
  EXPECT_TRUE(record["result"].value("success", false));
  EXPECT_EQ(record["result"].value("confirmation_number", ""), "5150");
  EXPECT_EQ(record["metrics"].value("errors", 0), 1);
  EXPECT_TRUE(contains(transcript_text(record),
                       "system: voice model: OpenAI Realtime error conversation_already_has_active_response: "
                       "Conversation already has an active response in progress"))
      << transcript_text(record);
  EXPECT_TRUE(rig.logged("OpenAI Realtime error conversation_already_has_active_response"));
}

TEST(E2EVoice, AToolCallWithWrongDetailsIsAnsweredWithTheAgentsError) {
  RigOptions options;
  const std::string date = tomorrow_iso();
  options.script = booking_script("6060", date);
  // The model first books for 5 (the restaurant misheard); the agent refuses, then the right call goes through.
  const json wrong{{"confirmation_number", "6060"}, {"date", date}, {"time", "19:00"}, {"party_size", 5}};
  auto at = options.script.steps.begin() + 7;  // before the correct confirm_reservation
  at = options.script.steps.insert(at, step::function_call("confirm_reservation", wrong.dump()));
  at = options.script.steps.insert(at + 1, step::wait_for("conversation.item.create"));
  options.script.steps.insert(at + 1, step::wait_for("response.create"));
  Rig rig(options);
  const std::string id = rig.place(structured_fields(kRestaurantPhone));
  const json record = rig.wait_for_end(id, 30s);
  EXPECT_TRUE(record["result"].value("success", false)) << record.dump(2);
  const auto items = rig.openai().client_events("conversation.item.create");
  ASSERT_EQ(items.size(), 3u);
  const json refused = parse(items[0]["item"]["output"].get<std::string>());
  EXPECT_EQ(refused["ok"], false);
  EXPECT_TRUE(contains(refused.value("error", ""), "the booking is for 4 people, not 5")) << refused.dump();
  EXPECT_EQ(parse(items[1]["item"]["output"].get<std::string>())["ok"], true);
  EXPECT_TRUE(rig.openai().errors_sent().empty());
}

TEST(E2EVoice, AWrongOpenAIKeyFailsTheCallWithAClearReasonAndHangsUp) {
  RigOptions options;
  options.env["OPENAI_API_KEY"] = "sk-revoked";
  Rig rig(options);
  const std::string id = rig.place(structured_fields(kRestaurantPhone));
  const json record = rig.wait_for_end(id, 20s);
  EXPECT_EQ(record["status"], "failed");
  EXPECT_TRUE(contains(failure_reason(record), "OpenAI refused the API key (HTTP 401")) << failure_reason(record);
  EXPECT_TRUE(contains(failure_reason(record), "check OPENAI_API_KEY"));
  EXPECT_FALSE(contains(rig.daemon().output(), "sk-revoked")) << "the key is never logged";
  EXPECT_EQ(rig.openai().upgrades_refused(), 1);
  // The hang-up goes out as the call ends (on a worker thread), so it may reach Twilio just after the record says so.
  EXPECT_TRUE(rig.twilio().wait_for([](const ft::FakeTwilio& t) { return !t.records_of("rest.update").empty(); }, 5s))
      << "the line is hung up";
  EXPECT_EQ(rig.twilio().records_of("rest.update").size(), 1u);
}

// OpenAI's socket dies mid-call: the call fails with that reason, Twilio is told to hang up, the daemon keeps serving,
// places the next call, and both records survive a restart (CALL_DATABASE).
TEST(E2EVoice, TheOpenAIConnectionDroppingMidCallFailsOnlyThatCall) {
  RigOptions options;
  options.script.steps = {
      step::callee_says("Hello, Demo Restaurant.", 300),
      step::agent_says("Hi! I'd like to book a table for 4 people tomorrow at 7 PM.", 400),
      step::delay(400 + 300),
      step::callee_says("Let me check.", 300),
      step::drop_connection(),
  };
  Rig rig(options);
  const std::string dropped = rig.place(structured_fields(kRestaurantPhone));
  const json record = rig.wait_for_end(dropped, 20s);
  EXPECT_EQ(record["status"], "failed") << record.dump(2);
  const std::string reason = failure_reason(record);
  EXPECT_TRUE(contains(reason, "the connection to OpenAI Realtime was lost")) << reason;
  EXPECT_TRUE(contains(transcript_text(record), "callee: Let me check.")) << "the transcript up to the drop is kept";
  ASSERT_TRUE(rig.twilio().wait_for([](const ft::FakeTwilio& t) { return !t.records_of("call.end").empty(); }, 5s));
  const auto updates = rig.twilio().records_of("rest.update");
  ASSERT_EQ(updates.size(), 1u) << "the daemon hangs up the line";
  EXPECT_EQ(updates[0].detail, "Status=completed");

  // The daemon carries on: healthy, and the next call books.
  EXPECT_EQ(testing::http_get(rig.url() + "/health").status, 200);
  rig.openai().set_script(booking_script("3141", tomorrow_iso()));
  const std::string next = rig.place(structured_fields(kRestaurantPhone));
  const json booked = rig.wait_for_end(next, 30s);
  EXPECT_TRUE(booked["result"].value("success", false)) << booked.dump(2);
  EXPECT_EQ(booked["result"].value("confirmation_number", ""), "3141");

  // No call record is lost, across a restart too.
  rig.restart_daemon();
  const json after = rig.record(dropped);
  EXPECT_EQ(after["status"], "failed");
  EXPECT_EQ(failure_reason(after), reason);
  EXPECT_EQ(rig.record(next)["result"]["confirmation_number"], "3141");
  EXPECT_EQ(parse(testing::http_get(rig.url() + "/calls").body)["calls"].size(), 2u);
}

// Twilio's media WebSocket dies mid-call (no close frame, no stop). Twilio then runs out of TwiML and ends the call
// ("completed"), which is the status the record takes; the booking failed; the voice session is closed; the daemon
// goes on.
fo::FakeScript media_drop_script() {
  fo::FakeScript script;
  script.steps = {
      step::callee_says("Hello, Demo Restaurant.", 300),
      step::agent_says("Hi! I'd like to book a table for 4 people tomorrow at 7 PM.", 400),
      step::delay(5000),
  };
  return script;
}

TEST(E2EVoice, TheTwilioMediaStreamDroppingMidCallEndsTheCall) {
  RigOptions options;
  options.twilio.drop_media_after_frames = 60;  // 1.2 s into the call
  options.script = media_drop_script();
  Rig rig(options);
  const std::string id = rig.place(structured_fields(kRestaurantPhone));
  const json record = rig.wait_for_end(id, 20s);
  EXPECT_FALSE(rig.twilio().records_of("ws.dropped").empty());
  EXPECT_EQ(record["status"], "completed") << record.dump(2);
  EXPECT_FALSE(record["result"].value("success", true));
  EXPECT_EQ(failure_reason(record), "The call ended before the booking was confirmed");
  EXPECT_TRUE(rig.logged("media stream ended (the media stream closed: connection lost"))
      << rig.daemon().output();
  EXPECT_TRUE(rig.logged("OpenAI Realtime session closed")) << rig.daemon().output();
  EXPECT_EQ(testing::http_get(rig.url() + "/health").status, 200);
  EXPECT_EQ(rig.record(id)["status"], "completed") << "the record is kept";
}

// When Twilio's media stream breaks off and its "completed" callback follows, the record says why the call ended
// (not just that the booking was not confirmed): the user sees it in `concierge status`.
TEST(E2EVoice, ALostMediaStreamIsNamedInTheCallRecord) {
  RigOptions options;
  options.twilio.drop_media_after_frames = 60;
  options.script = media_drop_script();
  Rig rig(options);
  const json record = rig.wait_for_end(rig.place(structured_fields(kRestaurantPhone)), 20s);
  EXPECT_TRUE(contains(failure_reason(record) + " " + record.value("status_reason", ""), "media stream"))
      << record.dump(2);
}

}  // namespace
}  // namespace concierge::e2e
