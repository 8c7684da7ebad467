// The spoken-text helpers (speech/src/spoken.cpp): numbers, times, dates, party sizes and spelled codes.
#include "concierge/speech/spoken.hpp"

#include <gtest/gtest.h>

namespace chr = std::chrono;
using namespace concierge;

namespace {

constexpr chr::year_month_day kToday{chr::year{2026}, chr::month{11}, chr::day{24}};  // a Tuesday

int hm(int h, int m) { return h * 60 + m; }

TEST(SpokenNumbers, ParsesDigitsAndWords) {
  const std::pair<const char*, int> cases[] = {
      {"4", 4},          {"four", 4},   {"Twenty two", 22}, {"twenty-two", 22}, {"a dozen", 12},
      {"dozen", 12},     {"eleven", 11}, {"ninety", 90},     {"one hundred and five", 105},
      {"two thousand twenty six", 2026}, {"zero", 0},        {"nineteen", 19}};
  for (const auto& [text, value] : cases) {
    SCOPED_TRACE(text);
    ASSERT_TRUE(parse_number(text).has_value());
    EXPECT_EQ(*parse_number(text), value);
  }
}

TEST(SpokenNumbers, RejectsTextThatIsNotOneNumber) {
  for (const char* text : {"", "seven thirty", "four people", "many", "twenty twenty", "one two"}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(parse_number(text).has_value());
  }
}

TEST(SpokenNumbers, SaysNumbersAndReadsThemBack) {
  EXPECT_EQ(say_number(4), "four");
  EXPECT_EQ(say_number(22), "twenty-two");
  EXPECT_EQ(say_number(105), "one hundred five");
  EXPECT_EQ(say_number(2026), "two thousand twenty-six");
  EXPECT_EQ(say_number(-3), "minus three");
  for (int n = 0; n < 3000; n += 7) EXPECT_EQ(parse_number(say_number(n)), n) << n;
}

TEST(SpokenTimes, ParsesTheWaysPeopleSayTimes) {
  const std::pair<const char*, int> cases[] = {
      {"7pm", hm(19, 0)},           {"7 PM", hm(19, 0)},         {"7 p.m.", hm(19, 0)},
      {"7:30 pm", hm(19, 30)},      {"7.30pm", hm(19, 30)},      {"19:00", hm(19, 0)},
      {"07:30", hm(7, 30)},         {"noon", hm(12, 0)},         {"12 noon", hm(12, 0)},
      {"midnight", hm(0, 0)},       {"seven thirty", hm(19, 30)}, {"half past seven", hm(19, 30)},
      {"quarter past 7", hm(19, 15)}, {"quarter to 8", hm(19, 45)}, {"ten past seven", hm(19, 10)},
      {"7 o'clock", hm(19, 0)},     {"7", hm(19, 0)},            {"at 7", hm(19, 0)},
      {"10", hm(22, 0)},            {"11", hm(11, 0)},           {"12", hm(12, 0)},
      {"7 in the morning", hm(7, 0)}, {"eight tonight", hm(20, 0)}, {"9am", hm(9, 0)},
      {"12:30 am", hm(0, 30)},      {"730pm", hm(19, 30)},       {"seven oh five", hm(19, 5)},
      {"seven forty-five", hm(19, 45)}, {"6:45 P.M.", hm(18, 45)}, {"19:00 pm", hm(19, 0)},
      {"10:00", hm(10, 0)},         {"11:45", hm(11, 45)},       {"10:00 pm", hm(22, 0)},
      {"7:30", hm(19, 30)}};
  for (const auto& [text, minutes] : cases) {
    SCOPED_TRACE(text);
    ASSERT_TRUE(parse_time_of_day(text).has_value());
    EXPECT_EQ(*parse_time_of_day(text), minutes);
  }
}

TEST(SpokenTimes, RejectsNonTimes) {
  for (const char* text : {"", "25:00", "7:75", "13am", "tomorrow", "four people", "7 and 8"}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(parse_time_of_day(text).has_value());
  }
}

TEST(SpokenTimes, FindsATimeInASentenceButNotHeadCounts) {
  auto found = find_time_of_day("Book a table for 4 people at 7");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->first, hm(19, 0));
  EXPECT_EQ(found->second, std::string("Book a table for 4 people at ").size());
  EXPECT_EQ(find_time_of_day("we could do eight thirty instead")->first, hm(20, 30));
  EXPECT_EQ(find_time_of_day("for 4 people at 7, confirmation 8812")->first, hm(19, 0));
  EXPECT_EQ(find_time_of_day("on 12/3 at 8")->first, hm(20, 0));
  EXPECT_FALSE(find_time_of_day("party of 7"));
  EXPECT_FALSE(find_time_of_day("table for 4 please"));
  EXPECT_FALSE(find_time_of_day("2 to 4 people"));
  EXPECT_FALSE(find_time_of_day("your confirmation number is 4572"));
}

TEST(SpokenTimes, SaysTimesThatParseBack) {
  EXPECT_EQ(say_time(hm(19, 0)), "7 PM");
  EXPECT_EQ(say_time(hm(19, 30)), "7:30 PM");
  EXPECT_EQ(say_time(hm(9, 5)), "9:05 AM");
  EXPECT_EQ(say_time(hm(12, 0)), "noon");
  EXPECT_EQ(say_time(0), "midnight");
  EXPECT_EQ(format_hh_mm(hm(7, 5)), "07:05");
  for (int m = 0; m < 1440; m += 5) {
    EXPECT_EQ(parse_time_of_day(say_time(m)), m) << say_time(m);
    EXPECT_EQ(parse_time_of_day(format_hh_mm(m)), m) << format_hh_mm(m);  // every HH:MM reads back as itself
  }
}

TEST(SpokenPartySize, FindsHeadCounts) {
  const std::pair<const char*, int> cases[] = {
      {"for 4 people", 4},     {"party of four", 4}, {"table for two", 2}, {"4 guests", 4},
      {"for 4 at 7pm", 4},     {"six of us", 6},     {"2 adults", 2},      {"a 4-person table", 4},
      {"for a dozen", 12},     {"party size: 3", 3}, {"for just one", 1},  {"table of 8", 8},
      {"at 9 with 3 friends", 4}, {"me and my wife", 2},  {"my husband and I", 2}, {"my family of 5", 5}};
  for (const auto& [text, size] : cases) {
    SCOPED_TRACE(text);
    ASSERT_TRUE(find_party_size(text).has_value());
    EXPECT_EQ(*find_party_size(text), size);
  }
}

TEST(SpokenPartySize, TimesAndDatesAreNotHeadCounts) {
  for (const char* text : {"for 7pm", "for 7:30", "booking for 3 December", "for seven thirty", "tomorrow at 7",
                           "for 12/3"}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(find_party_size(text).has_value());
  }
}

TEST(SpokenDates, ResolvesAgainstToday) {
  const std::pair<const char*, const char*> cases[] = {
      {"today", "2026-11-24"},          {"tonight", "2026-11-24"},          {"tomorrow", "2026-11-25"},
      {"the day after tomorrow", "2026-11-26"}, {"in 3 days", "2026-11-27"}, {"on Friday", "2026-11-27"},
      {"Tuesday", "2026-11-24"},        {"next Friday", "2026-12-04"},      {"next Tuesday", "2026-12-01"},
      {"Dec 3", "2026-12-03"},          {"December 3rd", "2026-12-03"},     {"3 December", "2026-12-03"},
      {"the 3rd of December", "2026-12-03"}, {"December third", "2026-12-03"}, {"2026-12-03", "2026-12-03"},
      {"12/3", "2026-12-03"},           {"12/3/2026", "2026-12-03"},        {"Jan 5", "2027-01-05"},
      {"December 3, 2025", "2025-12-03"}, {"the 28th", "2026-11-28"},      {"Wed 25 Nov 2026", "2026-11-25"},
      {"Friday, December 4", "2026-12-04"}};
  for (const auto& [text, iso] : cases) {
    SCOPED_TRACE(text);
    auto found = find_date(text, kToday);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(format_iso_date(found->first), iso);
  }
  EXPECT_FALSE(find_date("may I book a table", kToday));
  EXPECT_FALSE(find_date("February 30", kToday));
}

TEST(SpokenDates, SaysDates) {
  EXPECT_EQ(say_date(*parse_iso_date("2026-11-25"), kToday), "Wednesday, November 25");
  EXPECT_EQ(say_date(*parse_iso_date("2027-01-04"), kToday), "Monday, January 4, 2027");
  EXPECT_EQ(short_date(*parse_iso_date("2026-11-25")), "Wed 25 Nov 2026");
  EXPECT_FALSE(parse_iso_date("2026-02-30"));
  EXPECT_FALSE(parse_iso_date("26-11-25"));
}

TEST(SpokenCodes, NormalizesSpokenCharacters) {
  const std::pair<const char*, const char*> cases[] = {
      {"four five seven two", "4572"}, {"four oh seven", "407"},     {"double seven", "77"},
      {"triple zero one", "0001"},     {"A as in apple", "A"},       {"R dash 4 5", "R-45"},
      {"ABC 123", "ABC123"},           {"forty five seventy two", "4572"}, {"R, four, five", "R45"},
      {"O as in Oscar 1 2", "O12"},    {"4-5-7-2", "4572"},          {"bravo charlie niner", "BC9"},
      {"x-ray 7", "X7"},               {"bee see four four one", "BC441"}, {"aitch zed 9", "HZ9"},
      {"double you 4 2", "W42"},       {"4 4 1, see you then", "441"},     {"let me see, 1 9 9 3", "1993"}};
  for (const auto& [spoken, code] : cases) {
    SCOPED_TRACE(spoken);
    EXPECT_EQ(normalize_spoken_code(spoken), code);
  }
}

TEST(SpokenCodes, SpellsCodesSoTheyNormalizeBack) {
  EXPECT_EQ(spell_code("4572"), "four five seven two");
  EXPECT_EQ(spell_code("R45"), "R, four, five");
  EXPECT_EQ(spell_code("R-45"), "R, dash, four, five");
  for (const char* code : {"4572", "R45", "R-45", "OB1", "XJ-42", "0042", "ZZ9-PLURAL-Z"})
    EXPECT_EQ(normalize_spoken_code(spell_code(code)), code) << code;
}

}  // namespace
