// Calls as they really go, over the production config (config/twilio.yaml: twilio + openai-realtime +
// reservation-agent) and the CLI: a phone menu before the booking, Twilio's asynchronous answering-machine detection
// (machine_end_beep: a message is left; human: never), the host's own beep detector on a line without Twilio's
// detection, and a verdict that is not one.
#include "e2e.hpp"

namespace concierge::e2e {
namespace {

// Callee "speech" for calls where a beep detector listens: its pitch jumps every 10 ms, so no block holds one steady
// tone (the other tests' steady 350 Hz "speech" is, to a beep detector, a beep).
std::vector<std::uint8_t> line_cases_speech(std::chrono::milliseconds duration) {
  static const double kPitches[] = {310, 620, 450, 880, 530, 760};
  std::vector<std::uint8_t> out;
  for (int slice = 0; slice * 10 < duration.count(); ++slice) {
    const auto part = ft::tone_mulaw(kPitches[slice % 6], 10ms);
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

// The callee's audio in step with `script`, as callee_audio_for, but speech-like; `after_first` is played after
// the first utterance (a beep, a key press).
std::shared_ptr<ft::SegmentScript> line_cases_callee(const fo::FakeScript& script,
                                                     const std::function<void(ft::SegmentScript&)>& after_first = {}) {
  auto audio = std::make_shared<ft::SegmentScript>();
  audio->pause(100ms);
  bool first = true;
  for (const auto& s : script.steps) {
    using K = fo::ScriptStep::Kind;
    if (s.kind == K::callee_says) {
      audio->say(line_cases_speech(std::chrono::milliseconds(s.ms)));
      if (first && after_first) after_first(*audio);
      first = false;
    } else if (s.kind == K::agent_says || s.kind == K::delay) {
      audio->pause(std::chrono::milliseconds(s.ms));
    }
  }
  audio->stay_on_line();
  return audio;
}

RigOptions line_cases_rig(fo::FakeScript script, std::shared_ptr<ft::SegmentScript> callee = nullptr) {
  RigOptions options;
  if (!callee) callee = line_cases_callee(script);
  options.script = std::move(script);
  options.twilio.callee = [callee](const ft::CreatedCall&) { return callee; };
  return options;
}

const std::string kBooking = "Book a table at Demo Restaurant for 4 people tomorrow at 7pm";

// ---- a phone menu ------------------------------------------------------------------------------------------------

// The menu answers; the model presses 1 (the SDK's press_keys tool); the daemon plays the keypad tone on Twilio's
// line in the audio (Media Streams have no send-DTMF message), and the fake line hears it with a DTMF detector, as
// a phone menu does; a person answers and the table is booked.
TEST(E2EPhoneMenu, TheMenuIsNavigatedWithAKeyPlayedInBandAndThenTheTableIsBooked) {
  Rig rig(line_cases_rig(
      fo::phone_menu_script("4711", json{{"date", tomorrow_iso()}, {"time", "19:00"}, {"party_size", 4}})));
  const auto cli = rig.book(kBooking);
  EXPECT_EQ(cli.status, 0) << cli.output << "\n--- daemon ---\n" << rig.daemon().output();
  EXPECT_TRUE(contains(cli.output, "Restaurant: Thank you for calling Demo Restaurant. For reservations, press 1."))
      << cli.output;
  EXPECT_TRUE(contains(cli.output, "Reservation confirmed!")) << cli.output;
  EXPECT_TRUE(contains(cli.output, "Confirmation: 4711")) << cli.output;
  const json record = rig.record(rig.only_call_id());
  EXPECT_TRUE(contains(transcript_text(record), "agent pressed 1")) << transcript_text(record);
  const auto outputs = rig.openai().client_events("conversation.item.create");
  ASSERT_FALSE(outputs.empty());
  EXPECT_EQ(parse(outputs[0]["item"]["output"].get<std::string>())["pressed"], "1");
  // The key reached the line as tones: the fake Twilio heard exactly "1" in the agent's audio.
  const auto calls = rig.twilio().calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].keys_heard, "1");
  EXPECT_EQ(rig.twilio().records_of("dtmf.heard").size(), 1u);
  EXPECT_TRUE(rig.openai().script_finished()) << rig.openai().script_failure();
}

// A menu whose options never reach a person: the model presses 1 (hours), hears the menu again and hangs up rather
// than talk to a machine; the CLI says so in its own words.
TEST(E2EPhoneMenu, AMenuThatNeverReachesAPersonEndsWithThatOutcome) {
  fo::FakeScript script;
  const std::string menu = "Thank you for calling Demo Restaurant. For our opening hours, press 1. For our address, "
                           "press 2.";
  script.steps = {
      fo::step::callee_says(menu, 900),
      fo::step::function_call("press_keys", json{{"keys", "1"}}.dump()),
      fo::step::wait_for("conversation.item.create"),
      fo::step::wait_for("response.create"),
      fo::step::delay(500),
      fo::step::callee_says("We are open daily from 5 PM to 10 PM. " + menu, 1200),
      fo::step::function_call("end_call", json{{"reason", "menu_dead_end"},
                                               {"summary", "The menu only has hours and the address."}}
                                              .dump()),
      fo::step::wait_for("conversation.item.create"),
  };
  Rig rig(line_cases_rig(script));
  const auto cli = rig.book(kBooking);
  EXPECT_EQ(cli.status, 1) << cli.output << "\n--- daemon ---\n" << rig.daemon().output();
  EXPECT_TRUE(contains(cli.output, "Booking failed: An automated phone menu answered at Demo Restaurant, and none of "
                                   "its options reached reservations or a person"))
      << cli.output;
  EXPECT_TRUE(contains(cli.output, "  Outcome: a phone menu answered and none of its options reached a person"))
      << cli.output;
  const json record = rig.record(rig.only_call_id());
  EXPECT_EQ(record["result"]["outcome"], "menu_dead_end") << record.dump(2);
  const auto calls = rig.twilio().calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].keys_heard, "1");
  EXPECT_TRUE(rig.openai().script_finished()) << rig.openai().script_failure();
}

// ---- Twilio's answering-machine detection -------------------------------------------------------------------------

// An AnsweredBy that is no verdict (the bytes %FF), signed: refused with 400, nothing recorded, the call goes on.
TEST(E2EMachineDetection, AVerdictThatIsNotAWordChangesNothingAndTheCallGoesOn) {
  RigOptions options = line_cases_rig(booking_script("4711", tomorrow_iso()));
  options.env["TWILIO_MACHINE_DETECTION"] = "DetectMessageEnd";
  options.twilio.amd_verdict = [](const ft::CreatedCall&) { return std::string("\xFF"); };
  options.twilio.amd_after = 300ms;
  Rig rig(options);
  const auto cli = rig.book(kBooking);
  EXPECT_EQ(cli.status, 0) << cli.output << "\n--- daemon ---\n" << rig.daemon().output();
  EXPECT_TRUE(contains(cli.output, "Reservation confirmed!")) << cli.output;
  const auto amd = rig.twilio().records_of("amd");
  ASSERT_EQ(amd.size(), 1u);
  EXPECT_EQ(amd[0].detail, "\xFF -> 400");
  const json record = rig.record(rig.only_call_id());
  EXPECT_EQ(record.value("answered_by", ""), "") << record.dump(2);
  EXPECT_FALSE(contains(transcript_text(record), "answering-machine detection")) << transcript_text(record);
  EXPECT_TRUE(rig.logged("AnsweredBy that is not a verdict"));
  // The create asked for the asynchronous detection, its callback on the public domain.
  const std::string& form = rig.twilio().records_of("rest.create").at(0).detail;
  for (const std::string& field : {std::string("MachineDetection=DetectMessageEnd"), std::string("AsyncAmd=true"),
                                  "AsyncAmdStatusCallback=https%3A%2F%2F" + kPublicDomain + "%2Ftwilio%2Famd",
                                  std::string("AsyncAmdStatusCallbackMethod=POST")})
    EXPECT_TRUE(contains(form, field)) << field << " in " << form;
}

// ---- voicemail: a message only after the greeting has ended, never to a person -----------------------------------

const std::string kLineCasesMessage =
    "Hi, this is an automated assistant calling on behalf of Alex Morgan, hoping to book a table for 4 tomorrow at "
    "7 PM. Please call back. Thank you!";

// The system messages the daemon added to the model's conversation (the agent's notes of line events).
std::string line_cases_notes(fo::FakeOpenAIServer& openai) {
  std::string out;
  for (const auto& e : openai.client_events("conversation.item.create"))
    if (e["item"].value("type", "") == "message") out += e["item"]["content"][0].value("text", "") + "\n";
  return out;
}

// What the agent answered to tool calls (function_call_output items), in order.
std::string line_cases_tool_outputs(fo::FakeOpenAIServer& openai) {
  std::string out;
  for (const auto& e : openai.client_events("conversation.item.create"))
    if (e["item"].value("type", "") == "function_call_output") out += e["item"].value("output", "") + "\n";
  return out;
}

// How long after the media stream started the fake Twilio first logged `kind`.
std::chrono::milliseconds line_cases_into_call(const ft::FakeTwilio& twilio, const std::string& kind) {
  const auto start = twilio.records_of("ws.sent.start");
  const auto records = twilio.records_of(kind);
  if (start.empty() || records.empty()) return std::chrono::milliseconds::max();
  return std::chrono::duration_cast<std::chrono::milliseconds>(records.front().at - start.front().at);
}

// Twilio's detection (DetectMessageEnd) says machine_end_beep once the greeting has ended: the agent's note tells
// the model to leave the message now, and the record says voicemail, with what was said and after what.
TEST(E2EMachineDetection, MachineEndBeepLetsTheMessageBeLeftAndTheRecordSaysVoicemail) {
  RigOptions options = line_cases_rig(fo::voicemail_script(kLineCasesMessage));
  options.env["TWILIO_MACHINE_DETECTION"] = "DetectMessageEnd";
  options.env["VOICEMAIL_POLICY"] = "leave_message";
  options.twilio.amd_verdict = [](const ft::CreatedCall&) { return std::string("machine_end_beep"); };
  options.twilio.amd_after = 2000ms;  // the greeting (0.1 s + 1.5 s) has ended
  Rig rig(options);
  const auto cli = rig.book(kBooking);
  EXPECT_EQ(cli.status, 1) << cli.output << "\n--- daemon ---\n" << rig.daemon().output();
  EXPECT_TRUE(contains(cli.output, "Booking failed: Voicemail answered at Demo Restaurant; a message was left: \"" +
                                       kLineCasesMessage + "\""))
      << cli.output;
  EXPECT_TRUE(contains(cli.output, "  Outcome: voicemail answered, a message was left after the beep")) << cli.output;
  const json record = rig.record(rig.only_call_id());
  EXPECT_EQ(record["answered_by"], "machine_end_beep") << record.dump(2);
  EXPECT_EQ(record["result"]["outcome"], "voicemail_left");
  EXPECT_EQ(record["result"]["details"]["voicemail_after"], "machine_end_beep");
  EXPECT_EQ(record["result"]["details"]["voicemail_message"], kLineCasesMessage);
  EXPECT_TRUE(contains(transcript_text(record), "(answering-machine detection: machine_end_beep)"))
      << transcript_text(record);
  const auto amd = rig.twilio().records_of("amd");
  ASSERT_EQ(amd.size(), 1u);
  EXPECT_EQ(amd[0].detail, "machine_end_beep -> 204");
  EXPECT_TRUE(contains(line_cases_notes(rig.openai()), "its greeting has ended (machine_end_beep)"))
      << line_cases_notes(rig.openai());
  // Never early: no agent audio reached the line before Twilio's verdict was sent.
  EXPECT_GE(line_cases_into_call(rig.twilio(), "media.in"), line_cases_into_call(rig.twilio(), "amd.sent"));
  EXPECT_TRUE(rig.openai().script_finished()) << rig.openai().script_failure();
}

// Twilio says a person answered: the model is told so, and a model that tries to leave a voicemail message anyway is
// refused by the agent; the person's key press (a Media Streams dtmf message) reaches the agent and the record; the
// table is booked.
TEST(E2EMachineDetection, APersonIsNeverLeftAMessageAndTheirKeyReachesTheAgent) {
  fo::FakeScript script =
      fo::person_answers_script("4711", json{{"date", tomorrow_iso()}, {"time", "19:00"}, {"party_size", 4}});
  // After the note that a person answered (step 1): a model that leaves the message all the same.
  script.steps.insert(script.steps.begin() + 2,
                      {fo::step::function_call("end_call", json{{"reason", "voicemail_left"},
                                                                {"summary", "Left a message."}}
                                                               .dump()),
                       fo::step::wait_for("conversation.item.create"), fo::step::wait_for("response.create")});
  RigOptions options =
      line_cases_rig(script, line_cases_callee(script, [](ft::SegmentScript& audio) { audio.press('5'); }));
  options.env["TWILIO_MACHINE_DETECTION"] = "DetectMessageEnd";
  options.env["VOICEMAIL_POLICY"] = "leave_message";
  options.twilio.amd_verdict = [](const ft::CreatedCall&) { return std::string("human"); };
  options.twilio.amd_after = 300ms;
  Rig rig(options);
  const auto cli = rig.book(kBooking);
  EXPECT_EQ(cli.status, 0) << cli.output << "\n--- daemon ---\n" << rig.daemon().output();
  EXPECT_TRUE(contains(cli.output, "Reservation confirmed!")) << cli.output;
  const json record = rig.record(rig.only_call_id());
  EXPECT_EQ(record["answered_by"], "human") << record.dump(2);
  EXPECT_NE(record["result"]["outcome"], "voicemail_left");
  EXPECT_FALSE(record["result"]["details"].contains("voicemail_message")) << record.dump(2);
  EXPECT_EQ(record["result"]["details"]["callee_pressed"], "5");
  const std::string transcript = transcript_text(record);
  EXPECT_TRUE(contains(transcript, "(answering-machine detection: human)")) << transcript;
  EXPECT_TRUE(contains(transcript, "callee pressed 5")) << transcript;
  EXPECT_EQ(rig.twilio().records_of("dtmf.sent").size(), 1u);
  const std::string notes = line_cases_notes(rig.openai());
  EXPECT_TRUE(contains(notes, "a person answered")) << notes;
  EXPECT_TRUE(contains(notes, "pressed the key 5")) << notes;
  EXPECT_TRUE(contains(line_cases_tool_outputs(rig.openai()), "never leave a voicemail message to a person"))
      << line_cases_tool_outputs(rig.openai());
  EXPECT_TRUE(rig.openai().script_finished()) << rig.openai().script_failure();
}

// No detection at Twilio: the daemon's own beep detector (calls.beep_detection: always) hears the machine's 1 kHz
// beep on the callee's audio. A model that starts the message during the greeting is refused; once the beep has
// ended the agent's note lets it leave the message.
TEST(E2EVoicemail, TheDaemonsBeepDetectorOpensTheWayOnALineWithoutMachineDetection) {
  fo::FakeScript script = fo::voicemail_script(kLineCasesMessage);
  // Right after the greeting, before the beep (step 1): a model that does not wait.
  script.steps.insert(script.steps.begin() + 1,
                      {fo::step::function_call("end_call", json{{"reason", "voicemail_left"},
                                                                {"summary", "Left a message."}}
                                                               .dump()),
                       fo::step::wait_for("conversation.item.create")});
  RigOptions options = line_cases_rig(script, line_cases_callee(script, [](ft::SegmentScript& audio) {
                                        audio.pause(700ms).say(ft::tone_mulaw(1000, 500ms));
                                      }));
  options.env["CALLS_BEEP_DETECTION"] = "always";
  options.env["VOICEMAIL_POLICY"] = "leave_message";
  Rig rig(options);
  const auto cli = rig.book(kBooking);
  EXPECT_EQ(cli.status, 1) << cli.output << "\n--- daemon ---\n" << rig.daemon().output();
  EXPECT_TRUE(contains(cli.output, "  Outcome: voicemail answered, a message was left after the beep")) << cli.output;
  const json record = rig.record(rig.only_call_id());
  EXPECT_EQ(record["result"]["outcome"], "voicemail_left") << record.dump(2);
  EXPECT_EQ(record["result"]["details"]["voicemail_after"], "beep");
  EXPECT_EQ(record.value("answered_by", ""), "");
  EXPECT_TRUE(contains(transcript_text(record), "(a beep on the line, 1000 Hz, has ended)")) << transcript_text(record);
  EXPECT_TRUE(rig.logged("voicemail beep heard (1000 Hz)"));
  EXPECT_TRUE(contains(line_cases_tool_outputs(rig.openai()), "no voicemail beep has been heard"))
      << line_cases_tool_outputs(rig.openai());
  EXPECT_TRUE(contains(line_cases_notes(rig.openai()), "A beep has just sounded on the line"));
  // No detection was asked of Twilio, none came; the message started only after the beep had ended (2.8 s in).
  EXPECT_FALSE(contains(rig.twilio().records_of("rest.create").at(0).detail, "AsyncAmd"));
  EXPECT_TRUE(rig.twilio().records_of("amd").empty());
  EXPECT_GE(line_cases_into_call(rig.twilio(), "media.in"), 2700ms);
  EXPECT_TRUE(rig.openai().script_finished()) << rig.openai().script_failure();
}

// The hang-up policy (the default) with Twilio's detection: machine_end_silence says a machine answered; the agent's
// note tells the model to end the call without a message, and the record says voicemail, no message.
TEST(E2EMachineDetection, UnderTheHangUpPolicyAMachinesVerdictEndsTheCallWithoutAMessage) {
  fo::FakeScript script;
  script.steps = {
      fo::step::callee_says("Hi, you've reached Demo Restaurant. Please leave a message after the tone.", 1500),
      fo::step::wait_for_note("Do not leave a message", 10000),
      fo::step::function_call("end_call", json{{"reason", "voicemail"}, {"summary", "Voicemail."}}.dump()),
      fo::step::wait_for("conversation.item.create"),
  };
  RigOptions options = line_cases_rig(script);
  options.env["TWILIO_MACHINE_DETECTION"] = "DetectMessageEnd";
  options.twilio.amd_verdict = [](const ft::CreatedCall&) { return std::string("machine_end_silence"); };
  options.twilio.amd_after = 2000ms;
  Rig rig(options);
  const auto cli = rig.book(kBooking);
  EXPECT_EQ(cli.status, 1) << cli.output << "\n--- daemon ---\n" << rig.daemon().output();
  EXPECT_TRUE(contains(cli.output, "Booking failed: Voicemail answered at Demo Restaurant; no message was left"))
      << cli.output;
  EXPECT_TRUE(contains(cli.output, "  Outcome: voicemail answered, no message left")) << cli.output;
  const json record = rig.record(rig.only_call_id());
  EXPECT_EQ(record["answered_by"], "machine_end_silence") << record.dump(2);
  EXPECT_EQ(record["result"]["outcome"], "voicemail");
  EXPECT_FALSE(record["result"]["details"].contains("voicemail_message")) << record.dump(2);
  EXPECT_TRUE(rig.openai().script_finished()) << rig.openai().script_failure();
}

}  // namespace
}  // namespace concierge::e2e
