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

}  // namespace
}  // namespace concierge::e2e
