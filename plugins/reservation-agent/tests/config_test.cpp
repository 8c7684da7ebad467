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

TEST(ReservationConfig, OpeningHoursPerWeekday) {
  const ReservationConfig config = parse_reservation_config(YAML::Load(R"(
restaurants:
  - name: Demo
    phone: "+15551230001"
    opening_hours: {default: "17:00-22:00", mon: closed, sat: "12:00-14:30, 18:00-01:00"}
)"),
                                                            kPath);
  const OpeningHours& hours = *config.restaurants[0].hours;
  namespace chr = std::chrono;
  const chr::year_month_day monday = chr::year{2026} / 11 / 30, tuesday = chr::year{2026} / 12 / 1,
                            saturday = chr::year{2026} / 12 / 5, sunday = chr::year{2026} / 12 / 6;
  EXPECT_FALSE(hours.open_on(monday));
  EXPECT_FALSE(hours.open_at(monday, 19 * 60));
  EXPECT_TRUE(hours.open_at(tuesday, 17 * 60));
  EXPECT_FALSE(hours.open_at(tuesday, 22 * 60));  // closing time: no table at 10 PM
  EXPECT_FALSE(hours.open_at(tuesday, 16 * 60 + 59));
  EXPECT_TRUE(hours.open_at(saturday, 13 * 60));
  EXPECT_FALSE(hours.open_at(saturday, 15 * 60));
  EXPECT_TRUE(hours.open_at(saturday, 23 * 60 + 30));
  EXPECT_TRUE(hours.open_at(sunday, 30));  // Saturday's late service, past midnight
  EXPECT_FALSE(hours.open_at(sunday, 60));
  EXPECT_EQ(hours.describe_day(saturday), "noon to 2:30 PM and 6 PM to 1 AM");
  EXPECT_EQ(hours.open_days(), "Tuesday to Sunday");

  // Without a default, a day that is not listed is not checked.
  const ReservationConfig partial = parse_reservation_config(
      YAML::Load("restaurants:\n  - {name: D, phone: \"+15551230001\", opening_hours: {mon: closed, tue: closed}}\n"),
      kPath);
  EXPECT_FALSE(partial.restaurants[0].hours->open_on(monday));
  EXPECT_TRUE(partial.restaurants[0].hours->open_at(chr::year{2026} / 12 / 2, 3 * 60));
  EXPECT_EQ(partial.restaurants[0].hours->open_days(), "");
  EXPECT_FALSE(config.restaurants.empty());
}

TEST(ReservationConfig, OpeningHoursErrorsNameTheDay) {
  for (const char* bad : {"\"5pm-10pm\"", "\"17:00\"", "\"17:00-25:00\"", "\"18:00-22:00, 12:00-14:00\"",
                          "\"06:00-05:00\"", "shut", "\"\""}) {
    const ConfigError e = error_of(std::string("restaurants:\n  - name: D\n    phone: \"+15551230001\"\n"
                                               "    opening_hours:\n      fri: ") +
                                   bad + "\n");
    EXPECT_EQ(e.key_path(), kPath + ".restaurants[0].opening_hours.fri") << bad;
    EXPECT_EQ(e.line(), 5) << bad;
  }
  EXPECT_EQ(error_of("restaurants:\n  - name: D\n    phone: \"+15551230001\"\n    opening_hours: {friday: closed}\n")
                .key_path(),
            kPath + ".restaurants[0].opening_hours.friday");
}

TEST(ReservationConfig, DisclosureIsOnByDefaultAndChecked) {
  EXPECT_NE(parse_reservation_config(YAML::Load("{}"), kPath).disclosure.find("automated assistant"),
            std::string::npos);
  EXPECT_EQ(parse_reservation_config(YAML::Load("disclosure: \"\"\n"), kPath).disclosure, "");
  const ConfigError placeholder = error_of("disclosure: \"Calling for {name}\"\n");
  EXPECT_EQ(placeholder.key_path(), kPath + ".disclosure");
  EXPECT_NE(placeholder.message().find("{customer}"), std::string::npos);
  EXPECT_EQ(error_of("disclosure: \"<b>hi</b>\"\n").key_path(), kPath + ".disclosure");
}

TEST(ReservationConfig, VoicemailPolicy) {
  EXPECT_FALSE(parse_reservation_config(YAML::Load("{}"), kPath).leave_voicemail);
  const ReservationConfig leave = parse_reservation_config(
      YAML::Load("voicemail: {policy: leave_message, message: \"{customer} wants a table at {time}\"}\n"), kPath);
  EXPECT_TRUE(leave.leave_voicemail);
  EXPECT_EQ(leave.voicemail_message, "{customer} wants a table at {time}");
  EXPECT_EQ(error_of("voicemail: {policy: beep}\n").key_path(), kPath + ".voicemail.policy");
  EXPECT_EQ(error_of("voicemail: {policy: leave_message, message: \"call {me}\"}\n").key_path(),
            kPath + ".voicemail.message");
  EXPECT_EQ(error_of("voicemail: {polcy: hang_up}\n").key_path(), kPath + ".voicemail.polcy");
}

TEST(ReservationConfig, PhoneRegionReadsNationalNumbers) {
  const ReservationConfig uk = parse_reservation_config(YAML::Load(R"(
phone_region: GB
restaurants:
  - {name: The Ivy, phone: "020 7836 4751"}
customer: {phone: "07700 900123"}
)"),
                                                        kPath);
  EXPECT_EQ(uk.restaurants[0].phone, "+442078364751");
  EXPECT_EQ(uk.customer.phone, "+447700900123");
  EXPECT_EQ(parse_reservation_config(YAML::Load("{}"), kPath).phone_region, "US");
  const ConfigError bad = error_of("phone_region: England\n");
  EXPECT_EQ(bad.key_path(), kPath + ".phone_region");
  EXPECT_NE(bad.message().find("ISO 3166"), std::string::npos);
  // The same national number is refused where the region does not make it one.
  EXPECT_EQ(error_of("restaurants:\n  - {name: I, phone: \"020 7836 4751\"}\n").key_path(),
            kPath + ".restaurants[0].phone");
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
