// The restaurant's side of the conversation, from text alone.
#include <gtest/gtest.h>

#include "concierge/speech/spoken.hpp"
#include "restaurant_dialogue.hpp"

namespace concierge::sim {
namespace {

using State = RestaurantDialogue::State;

LineSettings settings() {
  LineSettings s = parse_line_settings(ConfigNode(YAML::Load(R"(
restaurant:
  today: "2026-11-20"
  opening_hours: {default: "17:00-22:00", mon: closed}
  tables_per_slot: 1
)"),
                                                  "sim"));
  return s;
}

struct Step {
  std::string agent;
  std::string expect_in_reply;  // a fragment of the restaurant's answer
  State expect_state;
};

void run_steps(RestaurantDialogue& d, const std::vector<Step>& steps) {
  for (const auto& step : steps) {
    const auto reply = d.on_agent_text(step.agent);
    EXPECT_NE(reply.text.find(step.expect_in_reply), std::string::npos)
        << "agent: " << step.agent << "\nrestaurant: " << reply.text;
    EXPECT_EQ(to_string(d.state()), to_string(step.expect_state)) << step.agent;
  }
}

TEST(RestaurantDialogue, BooksAnAvailableTableAndChecksTheReadBack) {
  const auto s = settings();
  auto ledger = std::make_shared<BookingLedger>();
  RestaurantDialogue d(s, Scenario{ScenarioOutcome::available, std::nullopt, false}, ledger, 11);
  EXPECT_NE(d.greeting().find("Thank you for calling Demo Restaurant"), std::string::npos);
  run_steps(d, {
      {"Hi, I'd like to book a table for 4 people on Wednesday, November 25 at 7 PM, please.",
       "we have a table for 4 on Wednesday, November 25 at 7 PM", State::awaiting_name},
      {"It's under Alex Morgan.", "Thank you, Alex Morgan", State::awaiting_phone},
      {"Sure, it's five five five, one two three, zero zero zero zero.", "Your confirmation number is",
       State::awaiting_readback},
  });
  const std::string code = d.confirmation_code();
  ASSERT_EQ(code.size(), 4u);
  EXPECT_EQ(d.customer_phone(), "5551230000");
  EXPECT_EQ(ledger->booked(*d.date(), 19 * 60), 1);
  run_steps(d, {
      {"Let me read that back: one one one one.", "No, sorry, it's", State::awaiting_readback},
      {"Let me read that back: " + spell_code(code) + ".", "Yes, that's right", State::awaiting_goodbye},
      {"Perfect, thank you so much. Goodbye!", "goodbye", State::finished},
  });
}

TEST(RestaurantDialogue, AsksForWhatIsMissing) {
  const auto s = settings();
  RestaurantDialogue d(s, Scenario{ScenarioOutcome::available, std::nullopt, false}, std::make_shared<BookingLedger>(), 1);
  run_steps(d, {
      {"Hello, I'd like to make a reservation.", "Sorry, could you repeat that?", State::awaiting_request},
      {"A table on Friday, please.", "for how many people", State::awaiting_request},
      {"Two.", "what time", State::awaiting_request},
      {"At half past seven.", "table for 2 on Friday, November 20 at 7:30 PM", State::awaiting_name},
  });
}

TEST(RestaurantDialogue, OffersTheNextFreeSlotWhenTheTableIsTaken) {
  const auto s = settings();  // one table per slot
  auto ledger = std::make_shared<BookingLedger>();
  ledger->book(std::chrono::year_month_day{std::chrono::year{2026}, std::chrono::November, std::chrono::day{25}},
               19 * 60);
  RestaurantDialogue d(s, Scenario{ScenarioOutcome::available, std::nullopt, false}, ledger, 1);
  run_steps(d, {
      {"A table for 4 on Wednesday, November 25 at 7 PM, please.", "I could do 7:30 PM",
       State::awaiting_offer_answer},
      {"Yes, 7:30 PM works for us.", "7:30 PM it is", State::awaiting_name},
  });
  EXPECT_EQ(d.agreed_time(), 19 * 60 + 30);
}

TEST(RestaurantDialogue, ScenarioOffersAndTheAgentDeclines) {
  const auto s = settings();
  RestaurantDialogue d(s, Scenario{ScenarioOutcome::offer_alternative, 120, false}, std::make_shared<BookingLedger>(), 1);
  run_steps(d, {
      {"A table for 4 on Wednesday, November 25 at 7 PM, please.", "I could do 9 PM", State::awaiting_offer_answer},
      {"Unfortunately 9 PM doesn't work for us. Thank you anyway, goodbye!", "No problem",
       State::awaiting_goodbye},
  });
}

TEST(RestaurantDialogue, OutsideOpeningHoursOffersATimeInside) {
  const auto s = settings();
  RestaurantDialogue d(s, Scenario{ScenarioOutcome::available, std::nullopt, false}, std::make_shared<BookingLedger>(), 1);
  run_steps(d, {{"A table for 2 on Wednesday, November 25 at 11 PM, please.", "I could do 9:30 PM",
                 State::awaiting_offer_answer}});
}

TEST(RestaurantDialogue, ClosedDaysAndFullyBooked) {
  const auto s = settings();
  RestaurantDialogue closed(s, Scenario{}, std::make_shared<BookingLedger>(), 1);
  run_steps(closed, {{"A table for 2 on Monday, November 23 at 7 PM.", "closed on Mondays", State::awaiting_goodbye}});
  RestaurantDialogue full(s, Scenario{ScenarioOutcome::fully_booked, std::nullopt, false}, std::make_shared<BookingLedger>(), 1);
  run_steps(full, {{"A table for 2 on Wednesday, November 25 at 7 PM.", "fully booked", State::awaiting_goodbye}});
}

// The same opening-hours shape as the agent's directory: split services, and a service that runs past midnight
// seats its late tables on the next day's date.
TEST(RestaurantDialogue, SplitServicesAndLateHours) {
  const LineSettings s = parse_line_settings(ConfigNode(YAML::Load(R"(
restaurant:
  today: "2026-11-20"
  opening_hours: {default: "12:00-14:30, 18:00-23:00", sat: "18:00-01:30", sun: closed}
)"),
                                                        "sim"));
  RestaurantDialogue lunch(s, Scenario{ScenarioOutcome::available, std::nullopt, false},
                           std::make_shared<BookingLedger>(), 1);
  run_steps(lunch, {{"A table for 2 on Wednesday, November 25 at 1 PM.", "we have a table for 2", State::awaiting_name}});
  RestaurantDialogue between(s, Scenario{ScenarioOutcome::available, std::nullopt, false},
                             std::make_shared<BookingLedger>(), 1);
  run_steps(between, {{"A table for 2 on Wednesday, November 25 at 4 PM.", "6 PM", State::awaiting_offer_answer}});
  // Sunday is closed, but half past midnight on Sunday is Saturday's late service.
  RestaurantDialogue late(s, Scenario{ScenarioOutcome::available, std::nullopt, false},
                          std::make_shared<BookingLedger>(), 1);
  run_steps(late, {{"A table for 2 on Sunday, November 22 at 12:30 AM.", "we have a table for 2", State::awaiting_name}});
  RestaurantDialogue sunday(s, Scenario{}, std::make_shared<BookingLedger>(), 1);
  run_steps(sunday, {{"A table for 2 on Sunday, November 22 at 7 PM.", "closed on Sundays", State::awaiting_goodbye}});
}

TEST(RestaurantDialogue, ProbabilitiesDecideWhenNoScenarioDoes) {
  auto s = settings();
  s.fully_booked_probability = 1.0;
  RestaurantDialogue d(s, Scenario{}, std::make_shared<BookingLedger>(), 1);
  run_steps(d, {{"A table for 2 on Wednesday, November 25 at 7 PM.", "fully booked", State::awaiting_goodbye}});
  s.fully_booked_probability = 0.0;
  s.offer_alternative_probability = 1.0;
  RestaurantDialogue offer(s, Scenario{}, std::make_shared<BookingLedger>(), 1);
  run_steps(offer, {{"A table for 2 on Wednesday, November 25 at 7 PM.", "Would that work",
                     State::awaiting_offer_answer}});
}

TEST(RestaurantDialogue, GivesUpAfterTooManyMisunderstandings) {
  auto s = settings();
  s.max_repeats = 2;
  RestaurantDialogue d(s, Scenario{}, std::make_shared<BookingLedger>(), 1);
  EXPECT_FALSE(d.on_agent_text("Blah blah.").hang_up_after);
  EXPECT_FALSE(d.on_agent_text("Mumble.").hang_up_after);
  const auto last = d.on_agent_text("Hmm?");
  EXPECT_TRUE(last.hang_up_after);
  EXPECT_NE(last.text.find("can't understand"), std::string::npos);
  EXPECT_EQ(d.state(), State::finished);
}

TEST(RestaurantDialogue, CodesFollowTheFormatAndAreSpokenSoTheyCanBeReadBack) {
  for (const std::string format : {"####", "R-####", "AA###"}) {
    auto s = settings();
    s.confirmation_format = format;
    s.phrases.confirm = "{code}";
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
      RestaurantDialogue d(s, Scenario{ScenarioOutcome::available, std::nullopt, false}, std::make_shared<BookingLedger>(), seed);
      d.on_agent_text("A table for 2 on Wednesday, November 25 at 7 PM.");
      d.on_agent_text("Alex Morgan.");
      const auto spoken = d.on_agent_text("5551230000").text;
      const std::string code = d.confirmation_code();
      ASSERT_EQ(code.size(), format.size());
      for (std::size_t i = 0; i < format.size(); ++i) {
        if (format[i] == '#') EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(code[i]))) << code;
        else if (format[i] == 'A') EXPECT_TRUE(std::isupper(static_cast<unsigned char>(code[i]))) << code;
        else EXPECT_EQ(code[i], format[i]);
      }
      // What the restaurant says is understood as the code by the SDK's reader (the agent's side).
      EXPECT_EQ(normalize_spoken_code(spoken), code) << spoken;
    }
  }
}

}  // namespace
}  // namespace concierge::sim
