#pragma once
// The reservation agent's config block, validated once at start-up (unknown keys and wrong types are errors that
// name the key path and the line). Every key has a default, so an empty block works and reaches Demo Restaurant.
#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "concierge/speech/opening_hours.hpp"
#include "concierge/speech/spoken.hpp"

namespace date {
class time_zone;  // libhowardhinnant-date's tz, included by reservation_config.cpp only
}

namespace concierge::reservation {

// Which clock "today" and "now" are read on: the machine's local time, a fixed offset from UTC ("UTC", "UTC+01:00",
// "-05:00"), or a named zone ("America/New_York") from the system's tzdata through libhowardhinnant-date-dev's tz
// (GCC 12's standard library has no time-zone database), daylight saving included.
struct TimeZone {
  bool local = true;
  int offset_minutes = 0;  // when !local and !named
  std::string text = "local";
  const ::date::time_zone* named = nullptr;  // owned by the date library's database (lives for the process)
};
// "local", "UTC", "UTC+1", "UTC-05:00", "+01:00", "-0500", "Europe/Paris"; nullopt for anything else.
std::optional<TimeZone> parse_time_zone(std::string_view text);
// Does this wall-clock time exist in the zone on that day? (No when the clocks jump over it, e.g. 2:30 AM on the
// day daylight saving starts in America/New_York.) Fixed offsets and local time: always.
bool local_time_exists(const TimeZone& zone, std::chrono::year_month_day date, int minutes);

struct LocalTime {
  std::chrono::year_month_day date;
  int minutes = 0;  // since midnight
};
LocalTime local_time(const TimeZone& zone, std::chrono::system_clock::time_point at);

// When a restaurant seats tables, by weekday (the shape and rules: concierge/speech/opening_hours.hpp).
using concierge::OpeningHours;
using concierge::parse_services;

struct Restaurant {
  std::string name;
  std::string phone;  // E.164
  std::vector<std::string> aliases;
  std::optional<TimeZone> time_zone;  // overrides the block's time_zone for dates at this restaurant
  std::optional<OpeningHours> hours;  // unset: unknown, nothing is checked before dialing
};

struct Customer {
  std::string name;   // empty: the agent asks the user
  std::string phone;  // E.164, empty when not configured (the voice model then says it has none to give)
};

struct ReservationConfig {
  std::vector<Restaurant> restaurants;  // default: Demo Restaurant, +1234567890
  Customer customer;
  int time_tolerance_minutes = 60;      // how far from the requested time an alternative may be accepted
  int max_party_size = 20;              // bigger parties are asked to call the restaurant directly
  TimeZone time_zone;                   // default: the machine's local time
  std::optional<std::chrono::year_month_day> today;  // fixed "today" for deterministic tests
  // How "12/5" is read: month_first (US, the default), day_first, or ask when both readings are dates. A date that
  // only reads the other way round ("13/12" with month_first) is asked back, never silently swapped.
  DateOrder date_order = DateOrder::month_first;
  // The ISO 3166 region a phone number without a country code is read in ("(555) 123-4567" in the US, "020 7946
  // 0018" in GB), for the directory's numbers and the request's alike.
  std::string phone_region = "US";
  // Said first on every call: that an automated assistant is calling, and for whom ({customer}: the name the booking
  // is under). On by default, as the law in many places and plain honesty ask; "" turns it off.
  std::string disclosure = "Hi, this is an automated assistant calling on behalf of {customer}.";
  // When voicemail or an answering machine answers: hang up (the default), or leave `voicemail_message` after the
  // beep. Placeholders: {customer}, {customer_phone}, {restaurant}, {party_size}, {date}, {time}. Unset, the message
  // says who is calling, for whom, what was wanted and the customer's number (or that they will call again).
  bool leave_voicemail = false;
  std::string voicemail_message;
};

// Throws concierge::ConfigError naming "<path>.<key>" and the line. `path` is where the block sits
// ("plugins.agent.config").
ReservationConfig parse_reservation_config(const YAML::Node& block, const std::string& path);

}  // namespace concierge::reservation
