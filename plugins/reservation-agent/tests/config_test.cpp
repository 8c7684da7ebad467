// The config block: defaults, the directory, and errors that name the key path and the line.
#include <gtest/gtest.h>

#include "concierge/config.hpp"
#include "concierge/speech/spoken.hpp"
#include "reservation_config.hpp"
#include "test_support.hpp"

namespace concierge::reservation {
namespace {

const std::string kPath = "plugins.agent.config";

ConfigError error_of(const std::string& yaml) {
  try {
    parse_reservation_config(YAML::Load(yaml), kPath);
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "no ConfigError for:\n" << yaml;
  return ConfigError("", 0, "");
}

TEST(ReservationConfig, EmptyBlockReachesDemoRestaurant) {
  for (const char* yaml : {"{}", "", "~"}) {
    const ReservationConfig config = parse_reservation_config(YAML::Load(yaml), kPath);
    ASSERT_EQ(config.restaurants.size(), 1u);
    EXPECT_EQ(config.restaurants[0].name, "Demo Restaurant");
    EXPECT_EQ(config.restaurants[0].phone, "+1234567890");
    EXPECT_EQ(config.time_tolerance_minutes, 60);
    EXPECT_EQ(config.max_party_size, 20);
    EXPECT_TRUE(config.time_zone.local);
    EXPECT_FALSE(config.today.has_value());
    EXPECT_TRUE(config.customer.name.empty());
  }
}

TEST(ReservationConfig, ReadsTheDirectory) {
  const ReservationConfig config = testing::directory_config();
  ASSERT_EQ(config.restaurants.size(), 3u);
  EXPECT_EQ(config.restaurants[1].name, "Luigi's Trattoria");
  EXPECT_EQ(config.restaurants[1].phone, "+15551230001");  // normalized to E.164
  EXPECT_EQ(config.restaurants[1].aliases, std::vector<std::string>{"Luigi's"});
  EXPECT_EQ(config.customer.name, "Alex Morgan");
  EXPECT_EQ(config.customer.phone, "+15551230000");
  ASSERT_TRUE(config.today);
  EXPECT_EQ(format_iso_date(*config.today), "2026-11-24");
}

TEST(ReservationConfig, UnknownKeyNamesPathAndLine) {
  const ConfigError e = error_of("time_tolerance_minutes: 30\nrestaurant: Demo\n");
  EXPECT_EQ(e.key_path(), kPath + ".restaurant");
  EXPECT_EQ(e.line(), 2);
  EXPECT_NE(e.message().find("unknown key"), std::string::npos);
}

TEST(ReservationConfig, WrongTypeNamesPathAndLine) {
  const ConfigError e = error_of("customer:\n  name: Alex\ntime_tolerance_minutes: soon\n");
  EXPECT_EQ(e.key_path(), kPath + ".time_tolerance_minutes");
  EXPECT_EQ(e.line(), 3);
  EXPECT_NE(e.message().find("whole number"), std::string::npos);
}

TEST(ReservationConfig, ToleranceOutOfRange) {
  EXPECT_EQ(error_of("time_tolerance_minutes: 1000\n").key_path(), kPath + ".time_tolerance_minutes");
}

TEST(ReservationConfig, RestaurantsMustBeAListOfEntries) {
  EXPECT_EQ(error_of("restaurants: Demo Restaurant\n").key_path(), kPath + ".restaurants");
  EXPECT_EQ(error_of("restaurants: []\n").key_path(), kPath + ".restaurants");
  const ConfigError scalar_item = error_of("restaurants:\n  - Demo Restaurant\n");
  EXPECT_EQ(scalar_item.key_path(), kPath + ".restaurants[0]");
}

TEST(ReservationConfig, EntryErrorsNameTheEntry) {
  const ConfigError missing_phone = error_of("restaurants:\n  - name: Demo\n  - name: Other\n    phone: +15551230001\n");
  EXPECT_EQ(missing_phone.key_path(), kPath + ".restaurants[0].phone");
  const ConfigError bad_phone = error_of("restaurants:\n  - name: Demo\n    phone: call us\n");
  EXPECT_EQ(bad_phone.key_path(), kPath + ".restaurants[0].phone");
  EXPECT_EQ(bad_phone.line(), 3);
  const ConfigError typo = error_of("restaurants:\n  - name: Demo\n    phone: \"+15551230001\"\n    alias: [d]\n");
  EXPECT_EQ(typo.key_path(), kPath + ".restaurants[0].alias");
  EXPECT_EQ(typo.line(), 4);
  const ConfigError twice = error_of(
      "restaurants:\n  - name: Demo\n    phone: \"+15551230001\"\n  - name: demo\n    phone: \"+15551230002\"\n");
  EXPECT_EQ(twice.key_path(), kPath + ".restaurants[1].name");
  const ConfigError empty_name = error_of("restaurants:\n  - name: \"\"\n    phone: \"+15551230001\"\n");
  EXPECT_EQ(empty_name.key_path(), kPath + ".restaurants[0].name");
}

TEST(ReservationConfig, CustomerErrors) {
  EXPECT_EQ(error_of("customer:\n  nmae: Alex\n").key_path(), kPath + ".customer.nmae");
  EXPECT_EQ(error_of("customer:\n  phone: not a number\n").key_path(), kPath + ".customer.phone");
  EXPECT_EQ(error_of("customer: Alex\n").key_path(), kPath + ".customer");
}

TEST(ReservationConfig, TodayAndTimeZone) {
  EXPECT_EQ(error_of("today: tomorrow\n").key_path(), kPath + ".today");
  EXPECT_EQ(error_of("today: 2026-02-30\n").key_path(), kPath + ".today");
  const ConfigError zone = error_of("time_zone: Mars/Olympus_Mons\n");
  EXPECT_EQ(zone.key_path(), kPath + ".time_zone");
  EXPECT_NE(zone.message().find("fixed offset"), std::string::npos);
  EXPECT_EQ(error_of("restaurants:\n  - name: D\n    phone: \"+15551230001\"\n    time_zone: Mars\n").key_path(),
            kPath + ".restaurants[0].time_zone");
  const ReservationConfig config = parse_reservation_config(YAML::Load("time_zone: UTC-05:00\n"), kPath);
  EXPECT_FALSE(config.time_zone.local);
  EXPECT_EQ(config.time_zone.offset_minutes, -300);
}

TEST(TimeZone, ParsesFixedOffsets) {
  EXPECT_TRUE(parse_time_zone("local")->local);
  EXPECT_EQ(parse_time_zone("UTC")->offset_minutes, 0);
  EXPECT_EQ(parse_time_zone("UTC+1")->offset_minutes, 60);
  EXPECT_EQ(parse_time_zone("+05:30")->offset_minutes, 330);
  EXPECT_EQ(parse_time_zone("-0800")->offset_minutes, -480);
  EXPECT_EQ(parse_time_zone("Europe/Paris")->text, "Europe/Paris");
  EXPECT_FALSE(parse_time_zone("Europe/Atlantis"));
  EXPECT_FALSE(parse_time_zone("UTC+25"));
}

}  // namespace
}  // namespace concierge::reservation

namespace concierge::reservation {
namespace {

TEST(TimeZone, NamedZonesKeepDaylightSaving) {
  const TimeZone ny = *parse_time_zone("America/New_York");
  namespace chr = std::chrono;
  // 1 July 2026 16:00 UTC is noon in New York (EDT, UTC-4); 1 December 17:00 UTC is noon too (EST, UTC-5).
  const auto july = chr::sys_days{chr::year{2026} / 7 / 1} + chr::hours{16};
  EXPECT_EQ(local_time(ny, july).minutes, 12 * 60);
  const auto december = chr::sys_days{chr::year{2026} / 12 / 1} + chr::hours{17};
  EXPECT_EQ(local_time(ny, december).minutes, 12 * 60);
  // "Tomorrow" is the restaurant's: at 03:00 UTC on 2 December it is still 1 December in New York.
  const auto late = chr::sys_days{chr::year{2026} / 12 / 2} + chr::hours{3};
  EXPECT_EQ(local_time(ny, late).date, chr::year_month_day{chr::year{2026} / 12 / 1});
  // 2:30 AM on 14 March 2027 does not exist there (clocks go from 2:00 to 3:00).
  EXPECT_FALSE(local_time_exists(ny, chr::year{2027} / 3 / 14, 2 * 60 + 30));
  EXPECT_TRUE(local_time_exists(ny, chr::year{2027} / 3 / 14, 19 * 60));
}

}  // namespace
}  // namespace concierge::reservation
