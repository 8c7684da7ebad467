// The simulated-telephony YAML block: defaults, every override, and errors that name the key.
#include <gtest/gtest.h>

#include "line_settings.hpp"

namespace concierge::sim {
namespace {

LineSettings parse(const std::string& yaml) { return parse_line_settings(ConfigNode(YAML::Load(yaml), "sim")); }

std::string error_of(const std::string& yaml) {
  try {
    parse(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(LineSettings, EmptyBlockGivesAWorkingRestaurant) {
  const auto s = parse("{}");
  EXPECT_EQ(s.restaurant_name, "Demo Restaurant");
  EXPECT_EQ(s.speed_up, 1.0);
  ASSERT_TRUE(s.opening_hours.by_weekday[3]);
  ASSERT_EQ(s.opening_hours.by_weekday[3]->size(), 1u);
  EXPECT_EQ(s.opening_hours.by_weekday[3]->front().open, 17 * 60);
  EXPECT_EQ(s.opening_hours.by_weekday[3]->front().close, 22 * 60);
  EXPECT_EQ(s.confirmation_format, "####");
  EXPECT_EQ(s.scenario_for("+15551112222").outcome, ScenarioOutcome::normal);
}

TEST(LineSettings, ReadsEveryKey) {
  const auto s = parse(R"(
speed_up: 20
restaurant:
  name: Chez Test
  phone: "+15550001111"
  opening_hours: {default: "12:00-23:00", mon: closed, sat: "18:00-23:30"}
  tables_per_slot: 2
  slot_minutes: 15
  confirmation_format: "R-####"
  phrases: {greeting: "Chez Test, {restaurant} speaking.", goodbye: "Ciao!"}
  offer_alternative_probability: 0.25
  fully_booked_probability: 0.1
  seed: 42
  voice: {pitch_hz: 180, words_per_minute: 150}
  today: "2026-11-20"
  answer_delay_ms: 400
  ring_ms: 1000
scenarios:
  "+15550000001": busy
  "+15550000002": {outcome: offer-alternative, offer_minutes: -45}
  "+15550000003": barge-in
  "+15550000004": dead-end-menu
  "+15550000005": {outcome: fully-booked, phone_menu: true, menu_reaches_person: false}
)");
  EXPECT_EQ(s.speed_up, 20);
  EXPECT_EQ(s.restaurant_name, "Chez Test");
  EXPECT_TRUE(s.opening_hours.by_weekday[1]->empty());  // Monday: closed
  EXPECT_EQ(s.opening_hours.by_weekday[6]->front().open, 18 * 60);
  EXPECT_EQ(s.opening_hours.by_weekday[2]->front().open, 12 * 60);
  EXPECT_EQ(s.tables_per_slot, 2);
  EXPECT_EQ(s.slot_minutes, 15);
  EXPECT_EQ(s.confirmation_format, "R-####");
  EXPECT_EQ(s.phrases.goodbye, "Ciao!");
  EXPECT_EQ(s.phrases.ask_phone, RestaurantPhrases{}.ask_phone);
  EXPECT_DOUBLE_EQ(s.offer_alternative_probability, 0.25);
  EXPECT_EQ(s.seed, 42u);
  EXPECT_EQ(s.voice.pitch_hz, 180);
  EXPECT_EQ(s.answer_delay, std::chrono::milliseconds(400));
  EXPECT_EQ(s.scenario_for("+15550000001").outcome, ScenarioOutcome::busy);
  EXPECT_EQ(s.scenario_for("+15550000002").outcome, ScenarioOutcome::offer_alternative);
  EXPECT_EQ(s.scenario_for("+15550000002").offer_minutes, -45);
  EXPECT_TRUE(s.scenario_for("+15550000003").barge_in);
  EXPECT_EQ(s.scenario_for("+15550000003").outcome, ScenarioOutcome::available);
  EXPECT_TRUE(s.scenario_for("+15550000004").phone_menu);
  EXPECT_FALSE(s.scenario_for("+15550000004").menu_reaches_person);
  EXPECT_TRUE(s.scenario_for("+15550000001").menu_reaches_person);
  EXPECT_FALSE(s.scenario_for("+15550000005").menu_reaches_person);
}

TEST(LineSettings, ErrorsNameTheKey) {
  EXPECT_NE(error_of("restaurant: {nmae: x}").find("sim.restaurant.nmae"), std::string::npos);
  EXPECT_NE(error_of("speedup: 2").find("sim.speedup"), std::string::npos);
  EXPECT_NE(error_of("restaurant: {opening_hours: {mon: \"22:00-20:00\"}}").find("opening_hours.mon"),
            std::string::npos);
  EXPECT_NE(error_of("restaurant: {opening_hours: {mon: late}}").find("HH:MM-HH:MM"), std::string::npos);
  EXPECT_NE(error_of("restaurant: {phrases: {greeting: \"Hi {nmae}\"}}").find("unknown placeholder {nmae}"),
            std::string::npos);
  EXPECT_NE(error_of("restaurant: {phrases: {confirm: \"Done.\"}}").find("{code}"), std::string::npos);
  EXPECT_NE(error_of("restaurant: {phrases: {hello: \"Hi\"}}").find("unknown phrase"), std::string::npos);
  EXPECT_NE(error_of("restaurant: {confirmation_format: \"#a#\"}").find("confirmation_format"), std::string::npos);
  EXPECT_NE(error_of("restaurant: {fully_booked_probability: 2}").find("fully_booked_probability"),
            std::string::npos);
  EXPECT_NE(error_of("scenarios: {\"+1555\": vacation}").find("unknown scenario"), std::string::npos);
  EXPECT_NE(error_of("scenarios: {\"+1555\": {outcome: busy, when: now}}").find("when"), std::string::npos);
}

TEST(LineSettings, FillsPlaceholders) {
  EXPECT_EQ(fill_placeholders("A table for {party_size} at {time}.", {{"party_size", "4"}, {"time", "7 PM"}}),
            "A table for 4 at 7 PM.");
  EXPECT_EQ(fill_placeholders("{missing} stays", {}), "{missing} stays");
}

}  // namespace
}  // namespace concierge::sim
