// The per-call session: instructions, tools, tool-call validation and judging the outcome.
#include <gtest/gtest.h>

#include "reservation_agent.hpp"
#include "reservation_session.hpp"
#include "test_support.hpp"

namespace concierge::reservation {
namespace {

// A line event as the host makes one (concierge/line_event.hpp).
LineEvent line(std::string_view kind, std::string_view detail = "", double beep_hz = 0) {
  LineEvent event;
  event.kind = kind;
  event.detail = detail;
  event.beep_hz = beep_hz;
  return event;
}

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    agent_ = std::make_unique<ReservationAgent>(testing::directory_config());
    plan_ = agent_->plan({"Book a table at Demo Restaurant for 4 people tomorrow at 7pm", {}});
    ASSERT_TRUE(plan_.ready) << plan_.question;
    session_ = agent_->open_session(plan_);
  }

  ToolResult call(const std::string& name, const char* arguments) {
    return session_->on_tool_call(ToolCall{"call-1", name, nlohmann::json::parse(arguments)});
  }
  void callee(const std::string& text) { session_->on_transcript({Speaker::callee, text, {}}); }
  void agent(const std::string& text) { session_->on_transcript({Speaker::agent, text, {}}); }
  static bool ok(const ToolResult& r) { return r.output.value("ok", false); }
  static std::string error(const ToolResult& r) { return r.output.value("error", ""); }

  std::unique_ptr<ReservationAgent> agent_;
  TaskPlan plan_;
  std::unique_ptr<AgentSession> session_;
};

TEST_F(SessionTest, InstructionsCarryTheBookingAndTheRules) {
  const std::string s = session_->instructions();
  for (const char* needle : {"Demo Restaurant", "4 people", "Wednesday, November 25", "7 PM", "Alex Morgan",
                             "+15551230000", "between 6 PM and 8 PM", "NEVER invent", "confirm_reservation",
                             "end_call", "\"unavailable\"", "Repeat it back"})
    EXPECT_NE(s.find(needle), std::string::npos) << needle;
}

// Every call opens by saying an automated assistant is calling and for whom: on by default, worded by the config,
// the customer's name filled in inside the data block (never in the instruction text), off with "".
TEST_F(SessionTest, TheCallOpensWithTheDisclosure) {
  EXPECT_EQ(plan_.details["disclosure"], "Hi, this is an automated assistant calling on behalf of Alex Morgan.");
  const std::string s = session_->instructions();
  const auto block_begin = s.find(kBookingDataBegin), block_end = s.find(kBookingDataEnd);
  const auto at = s.find("\"disclosure\": \"Hi, this is an automated assistant calling on behalf of Alex Morgan.\"");
  ASSERT_NE(at, std::string::npos) << s;
  EXPECT_TRUE(at > block_begin && at < block_end);
  EXPECT_NE(s.find("first say the disclosure from the data, word for word"), std::string::npos);

  ReservationConfig config = testing::directory_config();
  config.disclosure = "Good evening, I am {customer}'s digital assistant, an automated caller.";
  const TaskPlan worded = ReservationAgent(config).plan({"Book Demo Restaurant for 2 tomorrow at 7pm", {}});
  EXPECT_EQ(worded.details["disclosure"], "Good evening, I am Alex Morgan's digital assistant, an automated caller.");
  config.disclosure = "";
  const ReservationAgent quiet(config);
  const TaskPlan off = quiet.plan({"Book Demo Restaurant for 2 tomorrow at 7pm", {}});
  EXPECT_EQ(off.details["disclosure"], "");
  const std::string plain = quiet.open_session(off)->instructions();
  EXPECT_EQ(plain.find("disclosure"), std::string::npos);
  EXPECT_NE(plain.find("greet them and ask for the table"), std::string::npos);
}

TEST_F(SessionTest, ToolsMatchTheArchitecture) {
  const auto tools = session_->tools();
  ASSERT_EQ(tools.size(), 3u);
  EXPECT_EQ(tools[2].name, "press_keys");  // the SDK's tool (concierge/dtmf.hpp), played by the host
  EXPECT_EQ(tools[0].name, "confirm_reservation");
  EXPECT_EQ(tools[0].parameters["type"], "object");
  EXPECT_EQ(tools[0].parameters["required"],
            nlohmann::json::parse(R"(["confirmation_number", "date", "time", "party_size"])"));
  EXPECT_EQ(tools[0].parameters["properties"]["party_size"]["type"], "integer");
  EXPECT_EQ(tools[1].name, "end_call");
  EXPECT_EQ(tools[1].parameters["properties"]["reason"]["enum"],
            nlohmann::json::parse(R"(["confirmed", "unavailable", "declined", "no_answer", "menu_dead_end", "voicemail", "voicemail_left", "other"])"));
}

TEST_F(SessionTest, ConfirmReservationValidatesArguments) {
  const struct {
    const char* arguments;
    const char* error_part;
  } bad[] = {
      {R"({"date": "2026-11-25", "time": "19:00", "party_size": 4})", "confirmation_number is required"},
      {R"({"confirmation_number": "", "date": "2026-11-25", "time": "19:00", "party_size": 4})",
       "confirmation_number is required"},
      {R"({"confirmation_number": 4572, "date": "2026-11-25", "time": "19:00", "party_size": 4})",
       "confirmation_number is required"},
      {R"({"confirmation_number": "4572", "time": "19:00", "party_size": 4})", "date is required"},
      {R"({"confirmation_number": "4572", "date": "25/11/2026", "time": "19:00", "party_size": 4})",
       "is not a date"},
      {R"({"confirmation_number": "4572", "date": "2026-11-26", "time": "19:00", "party_size": 4})",
       "is not acceptable"},
      {R"({"confirmation_number": "4572", "date": "2026-11-25", "party_size": 4})", "time is required"},
      {R"({"confirmation_number": "4572", "date": "2026-11-25", "time": "half seven-ish", "party_size": 4})",
       "is not a time"},
      {R"({"confirmation_number": "4572", "date": "2026-11-25", "time": "21:30", "party_size": 4})",
       "more than 60 minutes"},
      {R"({"confirmation_number": "4572", "date": "2026-11-25", "time": "19:00"})", "party_size is required"},
      {R"({"confirmation_number": "4572", "date": "2026-11-25", "time": "19:00", "party_size": 5})",
       "not 5"},
      {R"({"confirmation_number": "4572", "date": "2026-11-25", "time": "19:00", "party_size": 4, "x": 1})",
       "unknown argument \"x\""},
      {R"([1, 2])", "must be a JSON object"},
  };
  for (const auto& b : bad) {
    const ToolResult r = call("confirm_reservation", b.arguments);
    EXPECT_FALSE(ok(r)) << b.arguments;
    EXPECT_FALSE(r.end_call);
    EXPECT_NE(error(r).find(b.error_part), std::string::npos) << b.arguments << " -> " << error(r);
  }
  EXPECT_FALSE(session_->outcome().success);  // nothing invalid was recorded
}

TEST_F(SessionTest, EndCallValidatesAndEndsTheCall) {
  EXPECT_FALSE(ok(call("end_call", R"({"summary": "bye"})")));
  EXPECT_FALSE(ok(call("end_call", R"({"reason": "bored", "summary": "bye"})")));
  EXPECT_FALSE(ok(call("end_call", R"({"reason": "other", "summary": 3})")));
  EXPECT_FALSE(call("end_call", R"({"reason": "bored"})").end_call);
  const ToolResult r = call("end_call", R"({"reason": "other", "summary": "wrong number"})");
  EXPECT_TRUE(ok(r));
  EXPECT_TRUE(r.end_call);
  const ToolResult unknown = call("book_everything", "{}");
  EXPECT_FALSE(ok(unknown));
  EXPECT_NE(error(unknown).find("unknown tool"), std::string::npos);
}

TEST_F(SessionTest, ConfirmedWithMatchingTranscript) {
  agent("Hi, I'd like to book a table for 4 people on Wednesday, November 25 at 7 PM, please.");
  callee("Sure, what name is it under?");
  agent("Alex Morgan.");
  callee("Great, you're all set. Your confirmation number is four five seven two.");
  const ToolResult r = call("confirm_reservation",
                            R"({"confirmation_number": "4572", "date": "2026-11-25", "time": "19:00",
                                "party_size": 4})");
  EXPECT_TRUE(ok(r));
  EXPECT_FALSE(r.end_call);
  EXPECT_TRUE(call("end_call", R"({"reason": "confirmed", "summary": "Booked, confirmation 4572"})").end_call);
  const Outcome o = session_->outcome();
  EXPECT_TRUE(o.success);
  EXPECT_EQ(o.confirmation_number, "4572");
  EXPECT_TRUE(o.failure_reason.empty());
  EXPECT_EQ(o.details["time"], "19:00");
  EXPECT_EQ(o.details["confirmation_verified"], true);
  EXPECT_FALSE(o.details.contains("alternative_time_accepted"));
  EXPECT_EQ(o.details["outcome"], "succeeded");  // the SDK's outcome vocabulary (concierge/outcome_kind.hpp)
}

TEST_F(SessionTest, SpokenNumberFromTheModelIsNormalized) {
  callee("Confirmation is R as in Robert, 4 5.");
  EXPECT_TRUE(ok(call("confirm_reservation",
                      R"({"confirmation_number": "R as in Robert 4 5", "date": "2026-11-25", "time": "7 PM",
                          "party_size": "four"})")));
  const Outcome o = session_->outcome();
  EXPECT_TRUE(o.success);
  EXPECT_EQ(o.confirmation_number, "R45");
}

TEST_F(SessionTest, AlternativeTimeWithinToleranceShowsInDetails) {
  callee("We're full at 7, but we could do 7:30.");
  callee("Okay, 7:30 for four, confirmation 8812.");
  EXPECT_TRUE(ok(call("confirm_reservation",
                      R"({"confirmation_number": "8812", "date": "2026-11-25", "time": "19:30", "party_size": 4})")));
  call("end_call", R"({"reason": "confirmed", "summary": "Booked 7:30"})");
  const Outcome o = session_->outcome();
  EXPECT_TRUE(o.success);
  EXPECT_EQ(o.confirmation_number, "8812");
  EXPECT_EQ(o.details["time"], "19:30");
  EXPECT_EQ(o.details["time_spoken"], "7:30 PM");
  EXPECT_EQ(o.details["requested_time"], "19:00");
  EXPECT_EQ(o.details["alternative_time_accepted"], true);
}

TEST_F(SessionTest, FullyBooked) {
  callee("I'm sorry, we're fully booked tomorrow evening. The earliest we have is 9:30.");
  EXPECT_TRUE(call("end_call", R"({"reason": "unavailable", "summary": "Fully booked"})").end_call);
  const Outcome o = session_->outcome();
  EXPECT_FALSE(o.success);
  EXPECT_EQ(o.failure_reason, "Demo Restaurant is fully booked at that time (they offered 9:30 PM, outside the "
                              "60-minute window)");
  EXPECT_TRUE(o.confirmation_number.empty());
  EXPECT_EQ(o.details["outcome"], "unavailable");
}

TEST_F(SessionTest, ADeadEndPhoneMenuIsItsOwnOutcome) {
  EXPECT_NE(session_->instructions().find("menu_dead_end"), std::string::npos);
  callee("Thank you for calling. For our opening hours, press 2. For our address, press 3.");
  EXPECT_TRUE(call("end_call", R"({"reason": "menu_dead_end", "summary": "no option for a person"})").end_call);
  const Outcome o = session_->outcome();
  EXPECT_FALSE(o.success);
  EXPECT_EQ(o.failure_reason,
            "An automated phone menu answered at Demo Restaurant, and none of its options reached reservations or a "
            "person");
  EXPECT_EQ(o.details["outcome"], "menu_dead_end");
}

// Voicemail: hang up by default (the instructions say so); with leave_message the rendered message travels in the
// data block, and the record says voicemail and what was said.
TEST_F(SessionTest, VoicemailIsItsOwnOutcomeWithWhatWasSaid) {
  EXPECT_EQ(plan_.details["voicemail"]["policy"], "hang_up");
  EXPECT_NE(session_->instructions().find("do not leave a message: call end_call with reason \"voicemail\""),
            std::string::npos);
  callee("Hi, you've reached Demo Restaurant. Please leave a message after the tone.");
  call("end_call", R"({"reason": "voicemail", "summary": "voicemail"})");
  EXPECT_EQ(session_->outcome().failure_reason, "Voicemail answered at Demo Restaurant; no message was left");
  EXPECT_EQ(session_->outcome().details["outcome"], "voicemail");

  ReservationConfig config = testing::directory_config();
  config.leave_voicemail = true;
  const ReservationAgent agent(config);
  const TaskPlan plan = agent.plan({"Book Demo Restaurant for 2 tomorrow at 7pm", {}});
  const std::string message = plan.details["voicemail"]["message"];
  EXPECT_EQ(message, "Hi, this is an automated assistant calling on behalf of Alex Morgan, hoping to book a table for "
                     "2 people on Wednesday, November 25 at 7 PM. Please call Alex Morgan back at +15551230000. "
                     "Thank you!");
  auto session = agent.open_session(plan);
  const std::string s = session->instructions();
  EXPECT_NE(s.find("\"voicemail_message\": \"Hi, this is an automated assistant"), std::string::npos);
  EXPECT_NE(s.find("wait until its greeting has ended and its beep has sounded"), std::string::npos);
  session->on_transcript({Speaker::callee, "Please leave a message after the tone.", {}});
  EXPECT_TRUE(session->listens_for_beep());  // the host runs its beep detector for this policy
  // The host heard the beep end: the agent's note tells the voice model to leave the message now.
  const std::string note = session->on_line_event(line(line_event::beep, "", 1000.0));
  EXPECT_NE(note.find("say voicemail_message from the data now"), std::string::npos) << note;
  session->on_transcript({Speaker::agent, message, {}});
  EXPECT_TRUE(session->on_tool_call(ToolCall{"c", "end_call", nlohmann::json::parse(R"({"reason": "voicemail_left", "summary": "left"})")}).end_call);
  const Outcome o = session->outcome();
  EXPECT_FALSE(o.success);
  EXPECT_EQ(o.details["voicemail_message"], message);
  EXPECT_EQ(o.details["voicemail_after"], "beep");
  EXPECT_EQ(o.details["outcome"], "voicemail_left");
  EXPECT_EQ(o.failure_reason, "Voicemail answered at Demo Restaurant; a message was left: \"" + message + "\"");
}

// A message is left only after a beep or the provider's machine_end_*, never to a person: end_call refuses
// voicemail_left before either, and after the provider said a human answered.
TEST_F(SessionTest, AVoicemailMessageIsAcceptedOnlyAfterTheBeepOrTheGreetingsEnd) {
  ReservationConfig config = testing::directory_config();
  config.leave_voicemail = true;
  const ReservationAgent agent(config);
  const TaskPlan plan = agent.plan({"Book Demo Restaurant for 2 tomorrow at 7pm", {}});
  const nlohmann::json left = nlohmann::json::parse(R"({"reason": "voicemail_left", "summary": "left"})");
  {
    auto session = agent.open_session(plan);
    EXPECT_TRUE(session->listens_for_beep());  // the host asks when the media starts
    const ToolResult early = session->on_tool_call(ToolCall{"c", "end_call", left});
    EXPECT_FALSE(early.end_call);
    EXPECT_NE(early.output["error"].get<std::string>().find("no voicemail beep has been heard"), std::string::npos);
    // Twilio's asynchronous detection: the greeting ended (no beep of our own needed).
    const std::string note = session->on_line_event(line(line_event::answered_by, "machine_end_silence"));
    EXPECT_NE(note.find("its greeting has ended (machine_end_silence)"), std::string::npos) << note;
    EXPECT_TRUE(session->on_tool_call(ToolCall{"c", "end_call", left}).end_call);
    const Outcome o = session->outcome();
    EXPECT_EQ(o.details["outcome"], "voicemail_left");
    EXPECT_EQ(o.details["voicemail_after"], "machine_end_silence");
  }
  {
    auto session = agent.open_session(plan);
    EXPECT_TRUE(session->listens_for_beep());
    EXPECT_NE(session->on_line_event(line(line_event::answered_by, "human")).find("a person answered"), std::string::npos);
    // A beep-like sound afterwards (a microwave, a phone) opens nothing, and no note tells the model to speak.
    EXPECT_EQ(session->on_line_event(line(line_event::beep, "", 1000.0)), "");
    EXPECT_EQ(session->on_line_event(line(line_event::answered_by, "machine_end_beep")), "");
    const ToolResult refused = session->on_tool_call(ToolCall{"c", "end_call", left});
    EXPECT_FALSE(refused.end_call);
    EXPECT_NE(refused.output["error"].get<std::string>().find("never leave a voicemail message to a person"),
              std::string::npos);
    // The callee's keypad reaches the agent too (Twilio's dtmf stream event) and the record keeps it.
    EXPECT_NE(session->on_line_event(line(line_event::dtmf, "5")).find("pressed the key 5"), std::string::npos);
    EXPECT_EQ(session->outcome().details["callee_pressed"], "5");
  }
  // The hang-up policy: the detector is not asked for, and a machine verdict says to end without a message.
  EXPECT_FALSE(session_->listens_for_beep());
  EXPECT_NE(session_->on_line_event(line(line_event::answered_by, "machine_end_beep"))
                .find("Do not leave a message: call end_call with reason \"voicemail\" now"),
            std::string::npos);
  EXPECT_EQ(session_->on_line_event(line(line_event::beep, "", 1000.0)), "");
}

// Twilio's other verdicts: machine_start (Enable's first word) and unknown open nothing (a message still waits for
// a beep or machine_end_*); fax ends the call without a word, as nobody answered.
TEST_F(SessionTest, MachineStartAndUnknownOpenNothingAndAFaxEndsTheCall) {
  ReservationConfig config = testing::directory_config();
  config.leave_voicemail = true;
  const ReservationAgent agent(config);
  const TaskPlan plan = agent.plan({"Book Demo Restaurant for 2 tomorrow at 7pm", {}});
  const nlohmann::json left = nlohmann::json::parse(R"({"reason": "voicemail_left", "summary": "left"})");
  auto session = agent.open_session(plan);
  EXPECT_TRUE(session->listens_for_beep());
  EXPECT_EQ(session->on_line_event(line(line_event::answered_by, "machine_start")), "");
  EXPECT_EQ(session->on_line_event(line(line_event::answered_by, "unknown")), "");
  EXPECT_FALSE(session->on_tool_call(ToolCall{"c", "end_call", left}).end_call) << "no beep, no machine_end_*";
  const std::string fax = session->on_line_event(line(line_event::answered_by, "fax"));
  EXPECT_NE(fax.find("A fax machine answered. Call end_call with reason \"no_answer\""), std::string::npos) << fax;
  EXPECT_TRUE(session->on_tool_call(ToolCall{"c", "end_call", nlohmann::json::parse(R"({"reason": "no_answer"})")})
                  .end_call);
  EXPECT_EQ(session->outcome().details["outcome"], "no_answer");
  EXPECT_EQ(session->outcome().failure_reason, "Nobody at Demo Restaurant answered the call");
}

TEST_F(SessionTest, FullyBookedFromTheTranscriptAlone) {
  callee("Sorry, we have no tables left tomorrow.");
  EXPECT_EQ(session_->outcome().failure_reason, "Demo Restaurant is fully booked at that time");
}

TEST_F(SessionTest, NoConfirmationNumberGiven) {
  callee("Sure, you're all set for 7, see you then.");
  call("end_call", R"({"reason": "confirmed", "summary": "Booked but they gave no number"})");
  const Outcome o = session_->outcome();
  EXPECT_FALSE(o.success);
  EXPECT_EQ(o.failure_reason, "No confirmation number was given");
}

TEST_F(SessionTest, CallEndedBeforeConfirmation) {
  callee("Demo Restaurant, how can I help?");
  agent("Hi, I'd like to book a table for 4 tomorrow at 7 PM.");
  const Outcome o = session_->outcome();
  EXPECT_FALSE(o.success);
  EXPECT_EQ(o.failure_reason, "The call ended before the booking was confirmed");
  EXPECT_EQ(o.details["outcome"], "not_completed");
}

TEST_F(SessionTest, DeclinedAndNoAnswer) {
  call("end_call", R"({"reason": "declined", "summary": "They only take walk-ins"})");
  EXPECT_EQ(session_->outcome().failure_reason, "Demo Restaurant declined the reservation: They only take walk-ins");
  EXPECT_EQ(session_->outcome().details["outcome"], "declined");
  call("end_call", R"({"reason": "no_answer", "summary": "Voicemail"})");
  EXPECT_EQ(session_->outcome().failure_reason, "Nobody at Demo Restaurant answered the call");
  EXPECT_EQ(session_->outcome().details["outcome"], "no_answer");
}

TEST_F(SessionTest, ConfirmationFromTheTranscriptWhenTheToolWasNotCalled) {
  callee("We can do 7:30 instead.");
  agent("7:30 works.");
  callee("Perfect, your confirmation number is 9 0 1 5.");
  call("end_call", R"({"reason": "confirmed", "summary": "Booked"})");
  const Outcome o = session_->outcome();
  EXPECT_TRUE(o.success);
  EXPECT_EQ(o.confirmation_number, "9015");
  EXPECT_EQ(o.details["confirmation_source"], "transcript");
  EXPECT_EQ(o.details["time"], "19:30");
}

// After "could I have the confirmation number?", a keywordless answer is the number, its correction included; the
// same words without the question are not.
TEST_F(SessionTest, AnAnswerToTheAgentsQuestionIsReadAsTheNumber) {
  callee("Sure, you're all set for 7.");
  callee("It's 4 4 1 2, actually 4 4 2 1.");
  call("end_call", R"({"reason": "confirmed", "summary": "Booked"})");
  EXPECT_FALSE(session_->outcome().success);  // nobody asked: the digits are not taken for a number
  agent("Great, could I have the confirmation number, please?");
  callee("It's 4 4 1 2, actually 4 4 2 1.");
  const Outcome o = session_->outcome();
  EXPECT_TRUE(o.success) << o.failure_reason;
  EXPECT_EQ(o.confirmation_number, "4421");
  EXPECT_EQ(o.details["confirmation_source"], "transcript");
}

TEST_F(SessionTest, TheRestaurantsWordsWinOverAMisheardNumber) {
  callee("Your confirmation number is 4 5 7 2.");
  EXPECT_TRUE(ok(call("confirm_reservation",
                      R"({"confirmation_number": "4752", "date": "2026-11-25", "time": "19:00", "party_size": 4})")));
  const Outcome o = session_->outcome();
  EXPECT_TRUE(o.success);
  EXPECT_EQ(o.confirmation_number, "4572");
  EXPECT_EQ(o.details["confirmation_number_reported"], "4752");
}

TEST_F(SessionTest, AShorterTranscriptReadingNeverOverridesTheToolsNumber) {
  // The restaurant's utterance was cut ("4 8 1"), the model heard all of it: the tool's number stands, the
  // disagreement is recorded, and the model is told to read the number back.
  callee("Your confirmation number is 4 8 1");
  callee("3. Thank you.");
  const ToolResult r =
      call("confirm_reservation", R"({"confirmation_number": "4813", "date": "2026-11-25", "time": "19:00", "party_size": 4})");
  EXPECT_TRUE(ok(r));
  EXPECT_NE(r.output.value("read_back", "").find("four eight one"), std::string::npos) << r.output.dump();
  const Outcome o = session_->outcome();
  EXPECT_TRUE(o.success);
  EXPECT_EQ(o.confirmation_number, "4813");
  EXPECT_EQ(o.details["confirmation_heard"], "481");
  EXPECT_EQ(o.details["confirmation_disagreement"], true);
}

TEST_F(SessionTest, TheRestaurantsCorrectionWinsOverTheNumberItCorrected) {
  callee("Your confirmation number is 4-8-3-1, sorry, that's 4-8-1-3.");
  EXPECT_TRUE(ok(call("confirm_reservation",
                      R"({"confirmation_number": "4831", "date": "2026-11-25", "time": "19:00", "party_size": 4})")));
  const Outcome o = session_->outcome();
  EXPECT_TRUE(o.success);
  EXPECT_EQ(o.confirmation_number, "4813");
  EXPECT_EQ(o.details["confirmation_number_reported"], "4831");
  EXPECT_EQ(o.details["confirmation_corrected_by_restaurant"], true);
}

TEST_F(SessionTest, ARefusedConfirmIsNeverOverriddenByTheTranscript) {
  // The restaurant confirmed another date; the tool refused it; the model still ended the call "confirmed".
  callee("You're all set for Thursday November 26th at 7, your confirmation number is 5 5 1 2.");
  const ToolResult refused =
      call("confirm_reservation", R"({"confirmation_number": "5512", "date": "2026-11-26", "time": "19:00", "party_size": 4})");
  EXPECT_FALSE(ok(refused));
  EXPECT_TRUE(ok(call("end_call", R"({"reason": "confirmed", "summary": "Booked, confirmation 5512."})")));
  const Outcome o = session_->outcome();
  EXPECT_FALSE(o.success);
  EXPECT_EQ(o.confirmation_number, "");
  EXPECT_NE(o.failure_reason.find("does not match the request"), std::string::npos) << o.failure_reason;
  EXPECT_EQ(o.details["confirmation_heard"], "5512");
}

TEST_F(SessionTest, ATranscriptOnlyConfirmationForAnotherDateIsNotASuccess) {
  callee("Okay, booked for 4 on Friday November 27th at 7 pm, confirmation 8 8 1 2.");
  EXPECT_TRUE(ok(call("end_call", R"({"reason": "confirmed", "summary": "Booked."})")));
  const Outcome o = session_->outcome();
  EXPECT_FALSE(o.success);
  EXPECT_NE(o.failure_reason.find("Friday, November 27"), std::string::npos) << o.failure_reason;
}

TEST_F(SessionTest, AnAcceptedAlternativeIsNamedAsSuch) {
  callee("We can do 7:30. Your confirmation number is 4 5 7 2.");
  EXPECT_TRUE(ok(call("confirm_reservation",
                      R"({"confirmation_number": "4572", "date": "2026-11-25", "time": "19:30", "party_size": 4})")));
  const Outcome o = session_->outcome();
  EXPECT_TRUE(o.success);
  EXPECT_EQ(o.details["alternative"], "7:30 PM instead of the requested 7 PM (within the 60-minute tolerance)");
}

TEST_F(SessionTest, ToolNumberWithoutAnyCalleeTextIsKeptButUnverified) {
  EXPECT_TRUE(ok(call("confirm_reservation",
                      R"({"confirmation_number": "ab-12", "date": "2026-11-25", "time": "19:00", "party_size": 4})")));
  const Outcome o = session_->outcome();
  EXPECT_TRUE(o.success);
  EXPECT_EQ(o.confirmation_number, "AB-12");
  EXPECT_EQ(o.details["confirmation_verified"], false);
}

TEST(ReservationAgent, RefusesToOpenASessionForAnUnreadyPlan) {
  ReservationAgent agent(testing::directory_config());
  const TaskPlan plan = agent.plan({"Book a table", {}});
  ASSERT_FALSE(plan.ready);
  EXPECT_THROW(agent.open_session(plan), std::invalid_argument);
  TaskPlan forged;
  forged.ready = true;
  forged.details = {{"restaurant", "X"}};
  EXPECT_THROW(agent.open_session(forged), std::invalid_argument);
}

}  // namespace
}  // namespace concierge::reservation
