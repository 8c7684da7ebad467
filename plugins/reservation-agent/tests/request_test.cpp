// plan(): request phrasings -> restaurant, date, time and party size, or the question to ask.
#include <gtest/gtest.h>

#include "request_planner.hpp"
#include "test_support.hpp"

namespace concierge::reservation {
namespace {

struct Phrasing {
  const char* text;
  const char* fields;  // JSON, "" for none
  // Expected when ready:
  const char* restaurant;
  const char* date;
  const char* time;
  int party_size;
  // Expected when not ready (a part of the question); nullptr when the plan must be ready.
  const char* question;
};

Phrasing ok(const char* text, const char* restaurant, const char* date, const char* time, int party,
            const char* fields = "") {
  return Phrasing{text, fields, restaurant, date, time, party, nullptr};
}
Phrasing asks(const char* text, const char* question, const char* fields = "") {
  return Phrasing{text, fields, nullptr, nullptr, nullptr, 0, question};
}

const Phrasing kPhrasings[] = {
    ok("Book a table at Demo Restaurant for 4 people tomorrow at 7pm", "Demo Restaurant", "2026-11-25", "19:00", 4),
    ok("table for two at Luigi's Trattoria on Friday at 7:30 pm", "Luigi's Trattoria", "2026-11-27", "19:30", 2),
    // "next Friday" said on a Tuesday: this week's Friday or the following week's? Asked, never guessed.
    asks("Can you get us a table for six at the Golden Dragon next Friday at 8",
         "it could be this Friday (27 November) or the next (4 December)"),
    ok("Can you get us a table for six at the Golden Dragon next Monday at 8", "The Golden Dragon", "2026-11-30",
       "20:00", 6),
    ok("party of four at demo restaurant on Dec 3 at 19:00", "Demo Restaurant", "2026-12-03", "19:00", 4),
    ok("Reserve Demo Restaurant, December 3rd, 6:45pm, 3 guests", "Demo Restaurant", "2026-12-03", "18:45", 3),
    ok("I need a reservation for 2 at Demo Restaurant on 3 December at noon", "Demo Restaurant", "2026-12-03",
       "12:00", 2),
    ok("Demo Restaurant 2026-12-10 18:30 party of 5", "Demo Restaurant", "2026-12-10", "18:30", 5),
    ok("Book Demo Restaurant for tonight at 9 for 2 people", "Demo Restaurant", "2026-11-24", "21:00", 2),
    ok("Dinner for 4 at Demo Restaurant today at 8:15pm", "Demo Restaurant", "2026-11-24", "20:15", 4),
    ok("at demo for 3 people on Thursday at half past seven", "Demo Restaurant", "2026-11-26", "19:30", 3),
    ok("Get me a table for twelve at Demo Restaurant on the 3rd of December at 7", "Demo Restaurant", "2026-12-03",
       "19:00", 12),
    ok("4 people, Demo Restaurant, Saturday, 7 o'clock", "Demo Restaurant", "2026-11-28", "19:00", 4),
    ok("Book a table at Demo Restaurant for a party of eight, next Tuesday, 6pm", "Demo Restaurant", "2026-12-01",
       "18:00", 8),
    ok("Please reserve a table for 1 at Demo Restaurant on 12/5 at 7:30", "Demo Restaurant", "2026-12-05", "19:30",
       1),
    ok("Demo Restaurant, four people, Wednesday at seven thirty", "Demo Restaurant", "2026-11-25", "19:30", 4),
    ok("Book Demo Restaurant for 2 adults on Sunday at 1pm", "Demo Restaurant", "2026-11-29", "13:00", 2),
    ok("Book Demo Restaurant for 2 on Sunday at 11", "Demo Restaurant", "2026-11-29", "11:00", 2),
    ok("table for 3 at Demo Restaurant, Jan 5, 8pm", "Demo Restaurant", "2027-01-05", "20:00", 3),
    ok("Book a table for four at Demo Restaurant in 3 days at 6:30pm", "Demo Restaurant", "2026-11-27", "18:30", 4),
    ok("Book a table for 2 at Demo Restaurant the day after tomorrow at 7 pm", "Demo Restaurant", "2026-11-26",
       "19:00", 2),
    ok("We'd like a table for 5 at Demo Restaurant on Dec. 24 at 7:00 PM", "Demo Restaurant", "2026-12-24", "19:00",
       5),
    ok("Book a table for two at Demo Restaurant tomorrow at quarter to eight", "Demo Restaurant", "2026-11-25",
       "19:45", 2),
    ok("Book a table at Demo Restaurant for 4 people on 2026-11-30 at 19:00", "Demo Restaurant", "2026-11-30",
       "19:00", 4),
    ok("Book a table for 4 at Demo Restaurant at 8pm on Friday the 27th", "Demo Restaurant", "2026-11-27", "20:00", 4),
    ok("Book for 4 at +1234567890 tomorrow 7pm", "Demo Restaurant", "2026-11-25", "19:00", 4),
    ok("Call +1 555 987 6543 and book a table for 2 tomorrow at 8pm", "+15559876543", "2026-11-25", "20:00", 2),
    ok("Book a table for 2 at Chez Panisse (555) 987-6543 tomorrow at 8pm", "Chez Panisse", "2026-11-25", "20:00", 2),
    ok("BOOK A TABLE FOR 2 AT DEMO RESTAURANT TOMORROW AT 7PM", "Demo Restaurant", "2026-11-25", "19:00", 2),
    ok("book demo restaurant tomorrow 7pm for 4 with a window seat", "Demo Restaurant", "2026-11-25", "19:00", 4),
    ok("a table for 2 at Golden Dragon at noon on Monday", "The Golden Dragon", "2026-11-30", "12:00", 2),
    ok("Book a table for 4 at Demo Restaurant tomorrow at 7pm, my number is 555 123 4567", "Demo Restaurant",
       "2026-11-25", "19:00", 4),
    ok("I want to eat at Demo Restaurant on Saturday night at 9 with 3 friends", "Demo Restaurant", "2026-11-28",
       "21:00", 4),
    ok("Book a table at Demo Restaurant for me and my wife tomorrow at 7pm", "Demo Restaurant", "2026-11-25", "19:00",
       2),
    ok("Need a table at Luigi's Trattoria for my family of 5 Wednesday week at 6", "Luigi's Trattoria", "2026-12-02",
       "18:00", 5),
    ok("Demo Restaurant table 4 people 25 nov 19:00", "Demo Restaurant", "2026-11-25", "19:00", 4),
    ok("Could you book Demo for four tomorrow evening at 8?", "Demo Restaurant", "2026-11-25", "20:00", 4),
    // Structured fields, alone and winning over the text.
    ok("", "Demo Restaurant", "2026-11-25", "19:00", 4,
       R"({"restaurant": "Demo Restaurant", "date": "2026-11-25", "time": "19:00", "party_size": 4})"),
    ok("Book Demo Restaurant for 4 tomorrow at 7pm", "Demo Restaurant", "2026-11-25", "20:30", 6,
       R"({"party_size": 6, "time": "20:30"})"),
    ok("", "Luigi's Trattoria", "2026-11-25", "19:00", 2,
       R"({"restaurant": "luigi's", "date": "tomorrow", "time": "7pm", "party_size": "two"})"),
    ok("", "+15552223333", "2026-11-26", "18:00", 2,
       R"({"phone_number": "+1 555 222 3333", "date": "2026-11-26", "time": "18:00", "party_size": 2})"),
    ok("", "Chez Panisse", "2026-11-26", "18:00", 2,
       R"({"restaurant": "Chez Panisse", "phone_number": "+15552223333", "date": "2026-11-26", "time": "18:00",
           "party_size": 2})"),
    ok("Book Demo Restaurant for 2 tomorrow", "Demo Restaurant", "2026-11-25", "10:00", 2, R"({"time": "10:00"})"),
    ok("Book Luigi's for 2 on Friday at 7pm", "Demo Restaurant", "2026-11-27", "19:00", 2,
       R"({"restaurant": "Demo Restaurant"})"),
    // Missing, ambiguous or impossible: the question.
    asks("Book a table for 4 at Demo Restaurant tomorrow", "What time should I book?"),
    asks("Book a table at Demo Restaurant tomorrow at 7pm", "How many people is the reservation for?"),
    asks("Book a table for 4 tomorrow at 7pm",
         "Which restaurant? I know: Demo Restaurant, Luigi's Trattoria, The Golden Dragon."),
    asks("Book a table for 4 at Demo Restaurant at 7pm", "Which date should I book?"),
    asks("Book a table for 30 people at Demo Restaurant tomorrow at 7pm",
         "For more than 20 people, please call Demo Restaurant at +1234567890 directly"),
    asks("Book a table for 4 at Demo Restaurant on December 3, 2025 at 7pm",
         "Wednesday, December 3, 2025 is in the past."),
    asks("Book a table for 4 at Chez Panisse tomorrow at 7pm", "I don't have a phone number for Chez Panisse."),
    asks("table for 4 at Demo Restaurant and Luigi's tomorrow at 7",
         "Which restaurant: Demo Restaurant or Luigi's Trattoria?"),
    asks("Book a table for 4 at Demo Restaurant on Friday, December 3 at 7pm",
         "3 December is a Thursday, not a Friday."),
    asks("Book a table for 0 people at Demo Restaurant tomorrow at 7pm", "at least one person"),
    asks("", "What would you like me to book?"),
    asks("Book Demo Restaurant for 2 tomorrow at 7pm", "I don't know the field \"resturant\"",
         R"({"resturant": "Demo Restaurant"})"),
    asks("", "I couldn't read the date \"2026-13-01\"",
         R"({"restaurant": "Demo Restaurant", "date": "2026-13-01", "time": "19:00", "party_size": 2})"),
    asks("", "The party size must be a whole number",
         R"({"restaurant": "Demo Restaurant", "date": "2026-11-25", "time": "19:00", "party_size": "lots"})"),
    asks("Book Demo Restaurant for 2 tomorrow at 7pm", "is not a phone number I can dial",
         R"({"phone_number": "call me"})"),
    asks("Book a table at Demo Restaurant", "Which date should I book?"),
};

class RequestPhrasing : public ::testing::TestWithParam<Phrasing> {};

TEST_P(RequestPhrasing, PlansOrAsks) {
  const Phrasing& p = GetParam();
  RequestPlanner planner(testing::directory_config());
  TaskRequest request;
  request.text = p.text;
  if (*p.fields) request.fields = nlohmann::json::parse(p.fields);
  const TaskPlan plan = planner.plan(request);
  if (p.question) {
    EXPECT_FALSE(plan.ready);
    EXPECT_NE(plan.question.find(p.question), std::string::npos) << "question: " << plan.question;
    return;
  }
  ASSERT_TRUE(plan.ready) << plan.question;
  EXPECT_EQ(plan.details["restaurant"], p.restaurant);
  EXPECT_EQ(plan.callee_name, p.restaurant);
  EXPECT_EQ(plan.details["date"], p.date);
  EXPECT_EQ(plan.details["time"], p.time);
  EXPECT_EQ(plan.details["party_size"], p.party_size);
}

void PrintTo(const Phrasing& p, std::ostream* os) { *os << '"' << p.text << "\" fields " << p.fields; }

INSTANTIATE_TEST_SUITE_P(Phrasings, RequestPhrasing, ::testing::ValuesIn(kPhrasings),
                         [](const ::testing::TestParamInfo<Phrasing>& info) {
                           const Phrasing& p = info.param;
                           return testing::case_name(info.index, *p.text ? p.text : p.fields);
                         });

TEST(RequestPlanner, ProducesTheArchitectureSchemaAndSummary) {
  RequestPlanner planner(testing::directory_config());
  const TaskPlan plan = planner.plan({"Book a table at Demo Restaurant for 4 people tomorrow at 7pm", {}});
  ASSERT_TRUE(plan.ready) << plan.question;
  const nlohmann::json expected = {
      {"restaurant", "Demo Restaurant"}, {"phone_number", "+1234567890"},  {"date", "2026-11-25"},
      {"date_spoken", "Wednesday, November 25"}, {"time", "19:00"},      {"time_spoken", "7 PM"},
      {"party_size", 4},                 {"customer_name", "Alex Morgan"}, {"customer_phone", "+15551230000"},
      {"time_tolerance_minutes", 60},    {"special_requests", ""},
      {"disclosure", "Hi, this is an automated assistant calling on behalf of Alex Morgan."},
      {"voicemail", {{"policy", "hang_up"}, {"message", ""}}}};
  EXPECT_EQ(plan.details, expected);
  EXPECT_EQ(plan.summary, "table for 4 at Demo Restaurant, Wed 25 Nov 2026 at 19:00");
  EXPECT_EQ(plan.callee_name, "Demo Restaurant");
  EXPECT_EQ(plan.phone_number, "+1234567890");
}

TEST(RequestPlanner, ReadsNameAndSpecialRequestsFromText) {
  RequestPlanner planner(testing::directory_config());
  const TaskPlan plan = planner.plan(
      {"Book a table for 2 at Demo Restaurant tomorrow at 7pm under the name Jamie Lee, with a window seat", {}});
  ASSERT_TRUE(plan.ready) << plan.question;
  EXPECT_EQ(plan.details["customer_name"], "Jamie Lee");
  EXPECT_EQ(plan.details["special_requests"], "a window seat");
}

TEST(RequestPlanner, TellsTheCustomersNumberFromTheRestaurants) {
  RequestPlanner planner(testing::directory_config());
  const TaskPlan plan = planner.plan(
      {"Call +1 555 987 6543 for a table for 2 tomorrow at 8pm, reach me at (555) 222-3333. I'm Sam Jones", {}});
  ASSERT_TRUE(plan.ready) << plan.question;
  EXPECT_EQ(plan.phone_number, "+15559876543");
  EXPECT_EQ(plan.details["customer_phone"], "+15552223333");
  EXPECT_EQ(plan.details["customer_name"], "Sam Jones");
  const TaskPlan mine = planner.plan({"Book Demo Restaurant for 4 tomorrow at 7pm, my number is 555 123 4567", {}});
  EXPECT_EQ(mine.phone_number, "+1234567890");
  EXPECT_EQ(mine.details["customer_phone"], "+15551234567");
}

TEST(RequestPlanner, AsksForANameWhenNoneIsConfigured) {
  ReservationConfig config = testing::directory_config();
  config.customer = {};
  RequestPlanner planner(config);
  const TaskPlan plan = planner.plan({"Book a table at Demo Restaurant for 4 people tomorrow at 7pm", {}});
  EXPECT_FALSE(plan.ready);
  EXPECT_EQ(plan.question, "What name should the reservation be under?");
  EXPECT_EQ(plan.details["party_size"], 4);  // what was understood travels with the question
}

TEST(RequestPlanner, ListsEveryMissingPieceInOneAnswer) {
  RequestPlanner planner(testing::directory_config());
  const TaskPlan plan = planner.plan({"Book a table at Demo Restaurant", {}});
  EXPECT_FALSE(plan.ready);
  EXPECT_NE(plan.question.find("Which date"), std::string::npos);
  EXPECT_NE(plan.question.find("What time"), std::string::npos);
  EXPECT_NE(plan.question.find("How many people"), std::string::npos);
}

TEST(RequestPlanner, RefusesATimeThatHasPassedToday) {
  ReservationConfig config = testing::directory_config();
  config.today.reset();
  config.time_zone = *parse_time_zone("UTC");
  // 2026-11-24 20:00 UTC
  const auto now = std::chrono::sys_days{std::chrono::year{2026} / 11 / 24} + std::chrono::hours{20};
  RequestPlanner planner(config, [now] { return now; });
  const TaskPlan late = planner.plan({"Book Demo Restaurant for 2 today at 7pm", {}});
  EXPECT_FALSE(late.ready);
  EXPECT_NE(late.question.find("It is already past 7 PM today"), std::string::npos) << late.question;
  const TaskPlan later = planner.plan({"Book Demo Restaurant for 2 today at 9pm", {}});
  EXPECT_TRUE(later.ready) << later.question;
  EXPECT_EQ(later.details["date"], "2026-11-24");
}

TEST(RequestPlanner, UsesTheRestaurantsTimeZoneForToday) {
  ReservationConfig config = testing::directory_config();
  config.today.reset();
  config.time_zone = *parse_time_zone("UTC");
  config.restaurants[1].time_zone = *parse_time_zone("UTC+10:00");
  // 2026-11-24 20:00 UTC is already 2026-11-25 06:00 at UTC+10.
  const auto now = std::chrono::sys_days{std::chrono::year{2026} / 11 / 24} + std::chrono::hours{20};
  RequestPlanner planner(config, [now] { return now; });
  EXPECT_EQ(planner.plan({"Book Luigi's for 2 tomorrow at 7pm", {}}).details["date"], "2026-11-26");
  EXPECT_EQ(planner.plan({"Book Demo Restaurant for 2 tomorrow at 7pm", {}}).details["date"], "2026-11-25");
}

// Opening hours in the directory: a closed day or hour is asked back before dialing, with the hours in words.
TEST(RequestPlanner, AClosedDayOrHourIsSaidBeforeDialing) {
  ReservationConfig config = testing::directory_config();  // today: Tuesday 24 November 2026
  std::string error;
  OpeningHours hours;
  for (auto& day : hours.by_weekday) day = *parse_services("17:00-22:00", &error);
  hours.by_weekday[1] = *parse_services("closed", &error);  // Mondays
  config.restaurants[0].hours = hours;
  RequestPlanner planner(config);

  const TaskPlan monday = planner.plan({"Book a table at Demo Restaurant for 2 on Monday at 7pm", {}});
  ASSERT_FALSE(monday.ready);
  EXPECT_NE(monday.question.find("Demo Restaurant is closed on Mondays (it takes tables Tuesday to Sunday)"),
            std::string::npos)
      << monday.question;
  EXPECT_EQ(monday.reading["questions"][0]["field"], "date");
  EXPECT_EQ(monday.reading["questions"][0]["kind"], "closed");
  EXPECT_FALSE(monday.details.contains("date"));
  EXPECT_EQ(monday.details["time"], "19:00");  // the rest of what was understood stays

  const TaskPlan early = planner.plan({"Book a table at Demo Restaurant for 2 tomorrow at 4pm", {}});
  ASSERT_FALSE(early.ready);
  EXPECT_NE(early.question.find("takes tables on Wednesday, November 25 from 5 PM to 10 PM, not at 4 PM"),
            std::string::npos)
      << early.question;
  EXPECT_EQ(early.reading["questions"][0]["field"], "time");
  EXPECT_EQ(early.reading["questions"][0]["kind"], "closed");

  // Structured fields are checked the same way; an open day and hour is planned as before.
  const TaskPlan fields = planner.plan({"", {{"restaurant", "Demo Restaurant"}, {"date", "2026-11-30"},
                                              {"time", "19:00"}, {"party_size", 2}}});
  EXPECT_FALSE(fields.ready);
  EXPECT_TRUE(planner.plan({"Book a table at Demo Restaurant for 2 tomorrow at 9:30pm", {}}).ready);
  // A restaurant without hours in the directory is not checked.
  EXPECT_TRUE(planner.plan({"Book Luigi's for 2 on Monday at 7pm", {}}).ready);
}

TEST(RequestPlanner, TheRestaurantsHoursSettleATimeWithoutAmOrPm) {
  ReservationConfig config = testing::directory_config();  // today: Tuesday 24 November 2026
  std::string error;
  OpeningHours afternoon_and_evening;  // Demo Restaurant: 15:00-23:00 every day
  for (auto& day : afternoon_and_evening.by_weekday) day = *parse_services("15:00-23:00", &error);
  config.restaurants[0].hours = afternoon_and_evening;
  OpeningHours breakfast_and_lunch;  // Luigi's: 08:00-15:00
  for (auto& day : breakfast_and_lunch.by_weekday) day = *parse_services("08:00-15:00", &error);
  config.restaurants[1].hours = breakfast_and_lunch;
  RequestPlanner planner(config);

  // "at 4" reads 4 PM by the dinner rule, outside the usual dining hours: only 4 PM is inside Demo's service.
  const TaskPlan four = planner.plan({"Book a table at Demo Restaurant for 2 tomorrow at 4", {}});
  ASSERT_TRUE(four.ready) << four.question;
  EXPECT_EQ(four.details["time"], "16:00");
  EXPECT_EQ(four.reading["fields"]["time"]["how"], "opening hours");
  EXPECT_EQ(four.reading["fields"]["time"]["text"], "4");
  // "10:45" reads 10:45 PM by the dinner rule; Luigi's serves only the morning one.
  const TaskPlan morning = planner.plan({"Book Luigi's for 2 tomorrow at 10:45", {}});
  ASSERT_TRUE(morning.ready) << morning.question;
  EXPECT_EQ(morning.details["time"], "10:45");
  // Both halves inside a service (a day open round the clock), or neither: still asked, never guessed.
  OpeningHours all_day;
  for (auto& day : all_day.by_weekday) day = *parse_services("00:00-12:00, 12:00-23:00", &error);
  config.restaurants[0].hours = all_day;
  const TaskPlan both = RequestPlanner(config).plan({"Book a table at Demo Restaurant for 2 tomorrow at 4", {}});
  ASSERT_FALSE(both.ready);
  EXPECT_EQ(both.reading["questions"][0]["field"], "time");
  EXPECT_EQ(both.reading["questions"][0]["kind"], "doubtful");
  const TaskPlan neither = planner.plan({"Book Luigi's for 2 tomorrow at 4", {}});
  ASSERT_FALSE(neither.ready);
  EXPECT_EQ(neither.reading["questions"][0]["field"], "time");
  // A time said with its half of the day is never moved to the other half.
  const TaskPlan said_am = planner.plan({"Book a table at Demo Restaurant for 2 tomorrow at 4am", {}});
  EXPECT_FALSE(said_am.ready);
}

TEST(RequestPlanner, PhoneNumbersAreReadInTheConfiguredRegion) {
  ReservationConfig config = testing::directory_config();
  config.phone_region = "GB";
  RequestPlanner planner(config);
  const TaskPlan plan = planner.plan({"Book a table at The Ivy on 020 7836 4751 for 2 tomorrow at 7pm", {}});
  ASSERT_TRUE(plan.ready) << plan.question;
  EXPECT_EQ(plan.phone_number, "+442078364751");
}

}  // namespace
}  // namespace concierge::reservation
