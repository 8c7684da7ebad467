#pragma once
// The reservation agent's config block, validated once at start-up (unknown keys and wrong types are errors that
// name the key path and the line). Every key has a default, so an empty block works and reaches Demo Restaurant.
#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

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

// When a restaurant seats tables, by weekday: the same YAML shape as the simulated line's `opening_hours`
// ({default: "17:00-22:00", mon: closed, sat: "12:00-14:30, 18:00-23:30"}). A service may run past midnight
// ("18:00-01:00"): its late part belongs to the day it started on. Times are the restaurant's wall clock.
struct OpeningHours {
  struct Service {
    int open = 0;   // minutes since the day's midnight
    int close = 0;  // > open; past 24:00 for a service that runs past midnight
  };
  // Index: std::chrono::weekday::c_encoding() (0 = Sunday). Empty: closed that day; nullopt: not given (no
  // `default` and no key for the day), so nothing is checked on that day.
  std::array<std::optional<std::vector<Service>>, 7> by_weekday;

  // Is a table at `minutes` on `date` inside a service (this day's, or the day before's late part)? True on a day
  // whose hours are not given.
  bool open_at(std::chrono::year_month_day date, int minutes) const;
  // False only when the day's hours are given and it has no service of its own.
  bool open_on(std::chrono::year_month_day date) const;
  // "5 PM to 10 PM" / "noon to 2:30 PM and 6 PM to 11:30 PM" for that day; "" when closed.
  std::string describe_day(std::chrono::year_month_day date) const;
  // "Tuesday to Sunday" style list of the weekdays with a service ("every day" when all are).
  std::string open_days() const;
};
// "17:00-22:00", "12:00-14:30, 18:00-23:30", "closed"; nullopt (and `error` set) for anything else.
std::optional<std::vector<OpeningHours::Service>> parse_services(std::string_view text, std::string* error);

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
