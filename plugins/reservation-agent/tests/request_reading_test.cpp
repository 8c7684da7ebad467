// The reading plan() returns beside the task: per field, the words it came from; per doubt, a question that names
// its field and kind. And the defined kinds of "not sure", each asked back rather than guessed.
#include <gtest/gtest.h>

#include "request_planner.hpp"
#include "test_support.hpp"

namespace concierge::reservation {
namespace {

TaskPlan plan_text(const std::string& text, const std::string& extra_yaml = "") {
  const auto config = parse_reservation_config(YAML::Load(std::string(testing::kDirectoryYaml) + extra_yaml),
                                               "plugins.agent.config");
  return RequestPlanner(config).plan(TaskRequest{text, nlohmann::json::object()});
}

const nlohmann::json* question_about(const TaskPlan& plan, const std::string& field) {
  for (const auto& q : plan.reading["questions"])
    if (q["field"] == field) return &q;
  return nullptr;
}

TEST(RequestReading, EachFieldCarriesTheWordsItCameFrom) {
  const std::string text = "demo tmrw 7ish 4 ppl";
  const TaskPlan plan = plan_text(text);
  ASSERT_TRUE(plan.ready) << plan.question;
  const auto& fields = plan.reading["fields"];
  EXPECT_EQ(fields["restaurant"]["value"], "Demo Restaurant");
  EXPECT_EQ(fields["restaurant"]["text"], "demo");
  EXPECT_EQ(fields["restaurant"]["how"], "alias");
  EXPECT_EQ(fields["date"]["value"], "2026-11-25");
  EXPECT_EQ(fields["date"]["text"], "tmrw");
  EXPECT_EQ(fields["time"]["value"], "19:00");
  EXPECT_EQ(fields["time"]["text"], "7ish");
  EXPECT_EQ(fields["party_size"]["value"], 4);
  EXPECT_EQ(fields["party_size"]["text"], "4 ppl");
  // begin/end are byte offsets into the request text.
  for (const char* f : {"restaurant", "date", "time", "party_size"}) {
    const std::size_t b = fields[f]["begin"], e = fields[f]["end"];
    EXPECT_EQ(text.substr(b, e - b), fields[f]["text"].get<std::string>()) << f;
  }
  EXPECT_TRUE(plan.reading["questions"].empty());
}

TEST(RequestReading, ACorrectionWinsAndIsMarked) {
  const TaskPlan plan = plan_text("Demo Restaurant tomorrow at 7pm for 4, no wait 5");
  ASSERT_TRUE(plan.ready) << plan.question;
  EXPECT_EQ(plan.details["party_size"], 5);
  EXPECT_EQ(plan.reading["fields"]["party_size"]["how"], "corrected");
  EXPECT_EQ(plan.reading["fields"]["party_size"]["text"], "5");
}

struct Doubt {
  const char* text;
  const char* field;
  const char* kind;
  const char* words;  // a part of the question
  const char* extra_yaml = "";
};

class NotSure : public ::testing::TestWithParam<Doubt> {};

TEST_P(NotSure, IsAskedNeverGuessed) {
  const Doubt& d = GetParam();
  const TaskPlan plan = plan_text(d.text, d.extra_yaml);
  ASSERT_FALSE(plan.ready) << d.text << " -> " << plan.summary;
  const auto* q = question_about(plan, d.field);
  ASSERT_NE(q, nullptr) << d.text << ": " << plan.reading.dump();
  EXPECT_EQ((*q)["kind"], d.kind) << d.text;
  EXPECT_NE((*q)["question"].get<std::string>().find(d.words), std::string::npos) << (*q)["question"];
  // What is doubtful is not in the partial reading.
  EXPECT_FALSE(plan.details.contains(d.field == std::string("party_size") ? "party_size" : d.field)) << d.text;
}

// Today is Tuesday 24 November 2026 (test_support.hpp).
INSTANTIATE_TEST_SUITE_P(
    Kinds, NotSure,
    ::testing::Values(
        Doubt{"Luigi Trattoria tomorrow at 7pm for 2", "restaurant", "doubtful", "Did you mean Luigi's Trattoria?"},
        Doubt{"Dragon tomorrow at 7pm for 2", "restaurant", "doubtful", "Did you mean The Golden Dragon?"},
        Doubt{"Demo Restaurant or Luigi's tomorrow at 7pm for 2", "restaurant", "doubtful",
              "Which restaurant: Demo Restaurant or Luigi's Trattoria?"},
        Doubt{"Demo Restaurant on 12/5 at 7pm for 2", "date", "doubtful", "5 December or 12 May",
              "date_order: ask\n"},
        Doubt{"Demo Restaurant on 13/12 at 7pm for 2", "date", "doubtful", "did you mean 13 December?"},
        Doubt{"Demo Restaurant on 12/13 at 7pm for 2", "date", "doubtful", "did you mean 13 December?",
              "date_order: day_first\n"},
        Doubt{"Demo Restaurant tomorrow at 4 for 2", "time", "doubtful", "outside usual dining hours"},
        Doubt{"Demo Restaurant tomorrow at 10:45 for 2", "time", "doubtful", "in the morning or in the evening"},
        Doubt{"Demo Restaurant tomorrow at 7 or 8 for 2", "time", "doubtful", "two times were given"},
        Doubt{"Demo Restaurant tomorrow at 7pm for 4 or 5 people", "party_size", "doubtful",
              "two party sizes were given"},
        Doubt{"Demo Restaurant Friday or Saturday at 7pm for 2", "date", "doubtful", "two dates were given"},
        Doubt{"Demo Restaurant yesterday at 7pm for 2", "date", "doubtful", "is in the past"},
        Doubt{"Demo Restaurant on Monday the 26th at 7pm for 2", "date", "doubtful",
              "26 November is a Thursday, not a Monday"},
        Doubt{"Demo Restaurant next Thursday at 7pm for 2", "date", "doubtful", "this Thursday (26 November)"},
        Doubt{"Demo Restaurant on Tuesday at 7pm for 2", "date", "doubtful", "today or 1 December?"},
        Doubt{"Demo Restaurant tomorrow at 7pm for 2 adults and a baby", "party_size", "doubtful",
              "does the baby need a seat"},
        Doubt{"Demo Restaurant tomorrow at 7pm", "party_size", "missing", "How many people"}));

// Named zones: "tomorrow" is the restaurant's tomorrow, and a time the clocks skip is asked.
TEST(RequestReading, TheRestaurantsZoneDecidesTodayAndDaylightSaving) {
  const std::string yaml = R"(
restaurants:
  - name: Demo Restaurant
    phone: "+1234567890"
    time_zone: America/New_York
  - name: Tokyo Sushi
    phone: "+81312345678"
    time_zone: Asia/Tokyo
customer: {name: Alex Morgan}
)";
  const auto config = parse_reservation_config(YAML::Load(yaml), "plugins.agent.config");
  namespace chr = std::chrono;
  // 2 December 2026, 03:00 UTC: 22:00 on 1 December in New York, 12:00 on 2 December in Tokyo.
  const auto now = chr::sys_days{chr::year{2026} / 12 / 2} + chr::hours{3};
  const RequestPlanner planner(config, [now] { return now; });
  const TaskPlan ny = planner.plan({"Demo Restaurant tomorrow at 7pm for 2", {}});
  ASSERT_TRUE(ny.ready) << ny.question;
  EXPECT_EQ(ny.details["date"], "2026-12-02");
  const TaskPlan tokyo = planner.plan({"Tokyo Sushi tomorrow at 7pm for 2", {}});
  ASSERT_TRUE(tokyo.ready) << tokyo.question;
  EXPECT_EQ(tokyo.details["date"], "2026-12-03");
  // 14 March 2027: 2:30 AM does not exist in New York.
  const TaskPlan gap = planner.plan({"Demo Restaurant on March 14 2027 at 2:30am for 2", {}});
  ASSERT_FALSE(gap.ready);
  EXPECT_NE(gap.question.find("does not exist at Demo Restaurant"), std::string::npos) << gap.question;
  // The user's zone (a field) stands in for a restaurant without one; a bad one is asked about.
  const TaskPlan bad = planner.plan({"Demo Restaurant tomorrow at 7pm for 2", {{"time_zone", "Nowhere/Land"}}});
  EXPECT_FALSE(bad.ready);
}

TEST(RequestReading, DateOrderIsAConfigSetting) {
  EXPECT_EQ(plan_text("Demo Restaurant on 5/12 at 7pm for 2", "date_order: day_first\n").details["date"],
            "2026-12-05");
  EXPECT_EQ(plan_text("Demo Restaurant on 12/5 at 7pm for 2", "date_order: month_first\n").details["date"],
            "2026-12-05");
  EXPECT_THROW(plan_text("x", "date_order: sideways\n"), std::exception);
}

}  // namespace
}  // namespace concierge::reservation
