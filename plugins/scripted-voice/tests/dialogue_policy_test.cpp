// The scripted voice's decisions, table-driven from what the callee says.
#include <gtest/gtest.h>

#include "conversation_harness.hpp"
#include "dialogue_policy.hpp"

namespace concierge::scripted {
namespace {

using Stage = DialoguePolicy::Stage;

struct Turn {
  std::string callee;
  std::string expect_say;   // a fragment of the first Say, "" for none
  std::string expect_tool;  // the tool called in the plan, "" for none
  Stage expect_stage;
};

std::string first_say(const Plan& plan) {
  for (const auto& a : plan)
    if (a.kind == Action::Kind::say) return a.text;
  return "";
}
const Action* tool_in(const Plan& plan) {
  for (const auto& a : plan)
    if (a.kind == Action::Kind::call_tool) return &a;
  return nullptr;
}

void play(DialoguePolicy& policy, const std::vector<Turn>& turns) {
  for (const auto& turn : turns) {
    const Plan plan = policy.on_callee_text(turn.callee);
    const std::string said = first_say(plan);
    if (turn.expect_say.empty()) EXPECT_EQ(said, "") << turn.callee;
    else EXPECT_NE(said.find(turn.expect_say), std::string::npos) << "callee: " << turn.callee << "\nagent: " << said;
    const Action* tool = tool_in(plan);
    EXPECT_EQ(tool ? tool->tool : "", turn.expect_tool) << turn.callee;
    EXPECT_EQ(to_string(policy.stage()), to_string(turn.expect_stage)) << turn.callee;
  }
}

DialoguePolicy policy() { return DialoguePolicy(ReservationTask::from_json(testing::demo_task())); }

TEST(DialoguePolicy, TheDisclosureOpensTheRequest) {
  nlohmann::json task = testing::demo_task();
  task["disclosure"] = "Hi, this is an automated assistant calling on behalf of Alex Morgan.";
  DialoguePolicy p(ReservationTask::from_json(task));
  EXPECT_EQ(first_say(p.on_callee_text("Thank you for calling Demo Restaurant, how can I help you?")),
            "Hi, this is an automated assistant calling on behalf of Alex Morgan. I'd like to book a table for 4 "
            "people on Wednesday, November 25 at 7 PM, please.");
}

// Voicemail: hang up by default; with a message, it is said only after a beep, never on a greeting's words alone,
// and never to a person.
TEST(Voicemail, HangUpOrLeaveTheMessageOnlyAfterTheBeep) {
  const std::string greeting = "Hi, you've reached Demo Restaurant. Please leave a message after the tone.";
  DialoguePolicy hang_up(ReservationTask::from_json(testing::demo_task()));
  auto plan = hang_up.on_callee_text(greeting);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].tool, "end_call");
  EXPECT_EQ(plan[0].arguments["reason"], "voicemail");

  nlohmann::json task = testing::demo_task();
  task["voicemail"] = {{"policy", "leave_message"}, {"message", "Please call Alex back."}};
  DialoguePolicy leave(ReservationTask::from_json(task));
  EXPECT_TRUE(leave.on_beep().empty());  // no greeting yet: a beep-like sound is not voicemail
  EXPECT_TRUE(leave.on_callee_text(greeting).empty());
  EXPECT_EQ(leave.stage(), DialoguePolicy::Stage::voicemail);
  const auto message = leave.on_beep();
  ASSERT_EQ(message.size(), 2u);
  EXPECT_EQ(first_say(message), "Please call Alex back.");
  EXPECT_EQ(message[1].arguments["reason"], "voicemail_left");

  DialoguePolicy no_beep(ReservationTask::from_json(task));
  no_beep.on_callee_text(greeting);
  const auto silence = no_beep.on_silence();
  ASSERT_EQ(silence.size(), 1u);
  EXPECT_EQ(silence[0].arguments["reason"], "voicemail");

  DialoguePolicy person(ReservationTask::from_json(task));
  person.on_callee_text("Thank you for calling Demo Restaurant, how can I help you?");
  EXPECT_TRUE(person.on_beep().empty());
  EXPECT_FALSE(DialoguePolicy::is_voicemail_greeting("Thank you for calling, how can I help?"));
}

TEST(DialoguePolicy, ConfirmedBooking) {
  auto p = policy();
  play(p, {
      {"Thank you for calling Demo Restaurant, how can I help you?",
       "Hi, I'd like to book a table for 4 people on Wednesday, November 25 at 7 PM, please.", "",
       Stage::negotiating},
      {"Yes, we have a table for 4 on Wednesday, November 25 at 7 PM. Can I get a name for the reservation?",
       "It's under Alex Morgan.", "", Stage::negotiating},
      {"And a phone number, in case we need to reach you?",
       "Sure, it's five five five, one two three, zero zero zero zero.", "", Stage::negotiating},
      {"You're all set. Your confirmation number is four five seven two.",
       "Let me read that back: four five seven two.", "", Stage::readback},
  });
  const Plan confirm = p.on_callee_text("Yes, that's right. We look forward to seeing you!");
  ASSERT_EQ(confirm.size(), 1u);
  EXPECT_EQ(confirm[0].tool, "confirm_reservation");
  EXPECT_EQ(confirm[0].arguments,
            (nlohmann::json{{"confirmation_number", "4572"}, {"date", "2026-11-25"}, {"time", "19:00"},
                            {"party_size", 4}}));
  EXPECT_EQ(p.stage(), Stage::confirming);
  EXPECT_TRUE(p.on_callee_text("Anything else?").empty()) << "waits for the tool result";
  const Plan bye = p.on_tool_result("confirm_reservation", {{"ok", true}});
  ASSERT_EQ(bye.size(), 2u);
  EXPECT_EQ(bye[0].kind, Action::Kind::say);
  EXPECT_EQ(bye[1].tool, "end_call");
  EXPECT_EQ(bye[1].arguments["reason"], "confirmed");
  EXPECT_NE(bye[1].arguments["summary"].get<std::string>().find("4572"), std::string::npos);
  EXPECT_EQ(p.stage(), Stage::ended);
  EXPECT_TRUE(p.on_callee_text("Goodbye!").empty());
}

TEST(DialoguePolicy, OffersWithinToleranceAreAcceptedOthersDeclined) {
  struct Case {
    std::string offer;
    std::string expect_say;
    std::string expect_tool;
    Stage stage;
    std::optional<int> agreed;
  };
  for (const Case& c : std::vector<Case>{
           {"I'm sorry, we don't have anything at 7 PM, but I could do 7:30 PM. Would that work?",
            "Yes, 7:30 PM works for us.", "", Stage::negotiating, 19 * 60 + 30},
           {"We're full at seven, how about 6 PM?", "Yes, 6 PM works", "", Stage::negotiating, 18 * 60},
           {"Nothing at 7 PM, but I could do 8 PM. Would that work?", "8 PM works", "", Stage::negotiating, 20 * 60},
           {"We don't have anything at 7 PM, but I could do 9 PM.", "9 PM doesn't work for us", "end_call",
            Stage::ended, std::nullopt},
           {"On Wednesdays we're open from 5 PM to 10 PM. I could do 9:30 PM. Would that work for you?",
            "9:30 PM doesn't work", "end_call", Stage::ended, std::nullopt},
       }) {
    auto p = policy();
    p.on_callee_text("Hello, Demo Restaurant.");
    play(p, {{c.offer, c.expect_say, c.expect_tool, c.stage}});
    EXPECT_EQ(p.agreed_time(), c.agreed) << c.offer;
  }
  auto p = policy();
  p.on_callee_text("Hello.");
  const Plan plan = p.on_callee_text("We don't have 7 PM, but I could do 9 PM.");
  EXPECT_EQ(plan.back().arguments["reason"], "declined");
}

TEST(DialoguePolicy, FullyBookedEndsAsUnavailable) {
  for (std::string text : {"I'm sorry, we're fully booked on Wednesday, November 25.",
                           "Sorry, we're closed on Wednesdays.", "We have no tables left that evening."}) {
    auto p = policy();
    p.on_callee_text("Hello.");
    const Plan plan = p.on_callee_text(text);
    ASSERT_EQ(plan.size(), 2u) << text;
    EXPECT_NE(plan[0].text.find("Thank you anyway"), std::string::npos);
    EXPECT_EQ(plan[1].arguments["reason"], "unavailable") << text;
  }
}

TEST(DialoguePolicy, AnswersQuestionsAndRepeats) {
  auto p = policy();
  play(p, {
      {"Good evening!", "book a table for 4 people", "", Stage::negotiating},
      {"For how many people?", "For 4 people.", "", Stage::negotiating},
      {"Which day was that?", "On Wednesday, November 25.", "", Stage::negotiating},
      {"And what time?", "At 7 PM.", "", Stage::negotiating},
      {"Sorry, could you repeat that?", "At 7 PM.", "", Stage::negotiating},
      {"Hello? Are you still there?", "Yes, I'm still here.", "", Stage::negotiating},
      {"Can you hold on one second?", "", "", Stage::negotiating},
  });
}

TEST(DialoguePolicy, ReadBackCorrectionsAndLetters) {
  auto p = policy();
  play(p, {
      {"Hi there.", "book a table", "", Stage::negotiating},
      {"Your confirmation number is R as in Robert, dash, four five.", "Let me read that back: R, dash, four, five.",
       "", Stage::readback},
      {"No, sorry, it's R, dash, four six.", "Let me read that back: R, dash, four, six.", "", Stage::readback},
  });
  EXPECT_EQ(p.confirmation_code(), "R-46");
  const Plan plan = p.on_callee_text("Yes, correct.");
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].arguments["confirmation_number"], "R-46");
}

TEST(DialoguePolicy, GoAheadAfterAnInterruptionRepeatsWhatWasCut) {
  auto p = policy();
  const Plan request = p.on_callee_text("Demo Restaurant, how can I help?");
  p.on_interrupted(request[0].text);
  play(p, {{"Sorry, can you hold on one second? Okay, sorry about that, go ahead.", request[0].text, "",
            Stage::negotiating}});
}

TEST(DialoguePolicy, GivesUpPolitelyAfterRepeatedMisunderstandings) {
  DialoguePolicy p(ReservationTask::from_json(testing::demo_task()), 2);
  play(p, {
      {"Hello?", "book a table", "", Stage::negotiating},
      {"Blorp.", "Sorry, could you say that again?", "", Stage::negotiating},
      {"Zzzt.", "Sorry, could you say that again?", "", Stage::negotiating},
      {"Fnord.", "I'll call back later", "end_call", Stage::ended},
  });
}

TEST(DialoguePolicy, SilenceGetsAPromptThenEndsTheCall) {
  auto p = policy();
  EXPECT_EQ(first_say(p.on_silence()), "Hello? Is anyone there?");
  const Plan plan = p.on_silence();
  ASSERT_TRUE(tool_in(plan));
  EXPECT_EQ(tool_in(plan)->arguments["reason"], "other");
}

TEST(ReservationTask, RejectsIncompleteTasks) {
  auto task = testing::demo_task();
  task.erase("party_size");
  EXPECT_THROW(ReservationTask::from_json(task), std::invalid_argument);
  task = testing::demo_task();
  task["date"] = "next week";
  EXPECT_THROW(ReservationTask::from_json(task), std::invalid_argument);
  task = testing::demo_task();
  task.erase("date_spoken");
  task.erase("time_spoken");
  const auto t = ReservationTask::from_json(task);
  EXPECT_EQ(t.time_spoken, "7 PM");
  EXPECT_NE(t.date_spoken.find("November 25"), std::string::npos);
}

TEST(DialoguePolicy, SpeaksPhoneNumbersInGroups) {
  EXPECT_EQ(DialoguePolicy::speak_phone_number("+15551230000"),
            "five five five, one two three, zero zero zero zero");
  EXPECT_EQ(DialoguePolicy::speak_phone_number("+442071234567"),
            "four four two, zero seven one, two three four, five six seven");
}

}  // namespace
}  // namespace concierge::scripted

namespace concierge::scripted {
namespace {

TEST(PhoneMenu, TheKeyForReservationsElseAPerson) {
  EXPECT_EQ(DialoguePolicy::menu_choice("Thank you for calling Demo Restaurant. For our opening hours, press 2. For "
                                        "reservations, press 1. To speak with someone, press 0."),
            "1");
  EXPECT_EQ(DialoguePolicy::menu_choice("press three to make a reservation, press nine for anything else"), "3");
  EXPECT_EQ(DialoguePolicy::menu_choice("For directions press 2. To speak with a member of staff press 0"), "0");
  EXPECT_EQ(DialoguePolicy::menu_choice("For catering, press 4. For all other calls, press star."), "*");
  EXPECT_EQ(DialoguePolicy::menu_choice("For gift cards press 5."), std::nullopt);  // nothing for us: no key
  EXPECT_EQ(DialoguePolicy::menu_choice("Thank you for calling Demo Restaurant, how can I help you?"), std::nullopt);
  EXPECT_EQ(DialoguePolicy::menu_choice("We're open until ten, so don't press your luck."), std::nullopt);
  EXPECT_EQ(DialoguePolicy::menu_choice("For hours, press 2, for reservations press 1"), "1");
  EXPECT_EQ(DialoguePolicy::menu_choice("Press * to repeat. For the host, press #."), "#");
}

// A menu with nothing for reservations or a person, or one that keeps reading itself after three presses, is a dead
// end: the call is ended with reason menu_dead_end, and the request is never made to the menu.
TEST(PhoneMenu, ADeadEndMenuEndsTheCallWithItsReason) {
  EXPECT_TRUE(DialoguePolicy::is_menu("For our opening hours, press 2. For our address, press three."));
  EXPECT_FALSE(DialoguePolicy::is_menu("We're open until ten, so don't press your luck."));
  EXPECT_FALSE(DialoguePolicy::is_menu("Thank you for calling Demo Restaurant, how can I help you?"));
  DialoguePolicy policy(ReservationTask::from_json(testing::demo_task()));
  auto plan = policy.on_callee_text("Thank you for calling. For our opening hours, press 2. For our address, press 3.");
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].tool, "end_call");
  EXPECT_EQ(plan[0].arguments["reason"], "menu_dead_end");

  DialoguePolicy looping(ReservationTask::from_json(testing::demo_task()));
  for (int press = 0; press < 3; ++press)
    EXPECT_EQ(looping.on_callee_text("Sorry, that is not a valid option. For reservations, press 1.")[0].tool,
              "press_keys");
  const auto given_up = looping.on_callee_text("Sorry, that is not a valid option. For reservations, press 1.");
  ASSERT_EQ(given_up.size(), 1u);
  EXPECT_EQ(given_up[0].tool, "end_call");
  EXPECT_EQ(given_up[0].arguments["reason"], "menu_dead_end");
}

TEST(PhoneMenu, PressesTheKeyWaitsOnHoldThenAsksThePerson) {
  DialoguePolicy policy(ReservationTask::from_json(testing::demo_task()));
  auto plan = policy.on_callee_text("Thank you for calling. For reservations, press 1.");
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].tool, "press_keys");
  EXPECT_EQ(plan[0].arguments, nlohmann::json({{"keys", "1"}}));
  EXPECT_EQ(policy.stage(), DialoguePolicy::Stage::waiting_for_greeting);
  EXPECT_TRUE(policy.on_callee_text("Please hold while I connect you.").empty());
  plan = policy.on_callee_text("Thank you for calling Demo Restaurant, this is Sam. How can I help you?");
  ASSERT_FALSE(plan.empty());
  EXPECT_NE(plan[0].text.find("book a table"), std::string::npos);
  EXPECT_EQ(policy.stage(), DialoguePolicy::Stage::negotiating);
}

TEST(PhoneMenu, AMenuThatNeverEndsIsPressedOnlyThreeTimes) {
  DialoguePolicy policy(ReservationTask::from_json(testing::demo_task()));
  int presses = 0;
  for (int i = 0; i < 5; ++i)
    for (const auto& action : policy.on_callee_text("For reservations, press 1."))
      presses += action.tool == "press_keys";
  EXPECT_EQ(presses, 3);
}

}  // namespace
}  // namespace concierge::scripted
