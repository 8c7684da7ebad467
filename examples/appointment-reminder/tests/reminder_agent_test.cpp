// The agent on its own: planning, its config block and its errors, the tools and the verdict.
#include "reminder_agent.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace {

reminder::ReminderAgent agent() { return reminder::ReminderAgent({"Riverside Dental", "+15550001111"}); }

concierge::TaskPlan ready_plan() {
  concierge::TaskRequest request;
  request.text = "remind +15551230000 of the appointment on 2026-12-03 at 09:30";
  request.fields = {{"patient_name", "Sam Lee"}};
  return agent().plan(request);
}

TEST(ReminderPlan, ReadsTheTextAndLetsFieldsWin) {
  const auto plan = ready_plan();
  ASSERT_TRUE(plan.ready) << plan.question;
  EXPECT_EQ(plan.phone_number, "+15551230000");
  EXPECT_EQ(plan.details["date"], "2026-12-03");
  EXPECT_EQ(plan.details["time"], "09:30");
  EXPECT_EQ(plan.summary, "appointment reminder for Sam Lee at Riverside Dental, 2026-12-03 09:30");

  concierge::TaskRequest request;
  request.text = "remind +15551230000 on 2026-12-03 at 09:30";
  request.fields = {{"time", "14:15"}};
  EXPECT_EQ(agent().plan(request).details["time"], "14:15");
}

TEST(ReminderPlan, AsksForWhatIsMissing) {
  concierge::TaskRequest request;
  request.text = "remind Sam of the appointment on 2026-12-03 at 09:30";
  const auto plan = agent().plan(request);
  EXPECT_FALSE(plan.ready);
  EXPECT_NE(plan.question.find("phone number"), std::string::npos) << plan.question;
  request.text = "remind +15551230000 at 09:30";
  EXPECT_NE(agent().plan(request).question.find("date"), std::string::npos);
}

TEST(ReminderConfig, ErrorsNameTheKey) {
  const auto settings = reminder::read_settings(
      concierge::ConfigNode(YAML::Load("{clinic: Riverside Dental, callback_number: '+15550001111'}"), ""));
  EXPECT_EQ(settings.clinic, "Riverside Dental");
  try {
    reminder::read_settings(concierge::ConfigNode(YAML::Load("{clinik: x}"), "plugins.agent.config"));
    FAIL() << "an unknown key was accepted";
  } catch (const concierge::ConfigError& e) {
    EXPECT_EQ(e.key_path(), "plugins.agent.config.clinik");
  }
  try {
    reminder::read_settings(concierge::ConfigNode(YAML::Load("{clinic: x, callback_number: '555'}"), ""));
    FAIL() << "a bad number was accepted";
  } catch (const concierge::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("callback_number"), std::string::npos) << e.what();
  }
  EXPECT_THROW(reminder::read_settings(concierge::ConfigNode(YAML::Load("{callback_number: '+15550001111'}"), "")),
               concierge::ConfigError);
}

TEST(ReminderSession, RecordsTheAnswerThroughTheTool) {
  const auto a = agent();
  auto session = a.open_session(ready_plan());
  EXPECT_NE(session->instructions().find("Sam Lee"), std::string::npos);
  EXPECT_NE(session->instructions().find("+15550001111"), std::string::npos);
  ASSERT_EQ(session->tools().size(), 2u);
  EXPECT_FALSE(session->outcome().success);

  auto bad = session->on_tool_call({"c1", "record_answer", {{"answer", "maybe"}}});
  EXPECT_TRUE(bad.output.contains("error"));
  EXPECT_FALSE(session->outcome().success);

  session->on_tool_call({"c2", "record_answer", {{"answer", "reschedule"}}});
  // The tool's answer wins over the words said afterwards.
  session->on_transcript({concierge::Speaker::callee, "yes, fine", {}});
  const auto outcome = session->outcome();
  EXPECT_TRUE(outcome.success);
  EXPECT_EQ(outcome.details["answer"], "reschedule");
  EXPECT_EQ(outcome.details["answer_from"], "record_answer");
  EXPECT_TRUE(session->on_tool_call({"c3", "end_call", {{"reason", "done"}}}).end_call);
}

TEST(ReminderSession, FallsBackOnThePatientsWords) {
  const auto a = agent();
  auto session = a.open_session(ready_plan());
  session->on_transcript({concierge::Speaker::agent, "Can you confirm? Or cancel?", {}});
  EXPECT_FALSE(session->outcome().success);  // the agent's own words decide nothing
  session->on_transcript({concierge::Speaker::callee, "I need to cancel, sorry", {}});
  EXPECT_EQ(session->outcome().details["answer"], "cancelled");
  EXPECT_EQ(session->outcome().details["answer_from"], "transcript");
}

}  // namespace
