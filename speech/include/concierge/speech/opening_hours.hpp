#pragma once
// A restaurant's opening hours, as both sides of the offline call state them: the reservation agent's directory
// (a closed day or hour is said before the phone rings) and the simulated restaurant (which tables it offers).
//
// YAML shape, one place for both: {default: "17:00-22:00", mon: closed, sat: "12:00-14:30, 18:00-23:30"}.
// - a day's value is "HH:MM-HH:MM", several of them separated by commas (split services, in order), or "closed";
// - a service may run past midnight ("18:00-01:00"): its late part belongs to the day it started on, so 00:30 on
//   Sunday is inside Saturday's service; a service lasts at most 20 hours;
// - `default` applies to every day without a key of its own; a day with neither keeps what the reader started from
//   (the agent: not given, so nothing is checked that day; the simulated line: its built-in 17:00-22:00).
// Times are the restaurant's wall clock, minutes since its midnight.
#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace concierge {

class ConfigNode;

struct OpeningHours {
  struct Service {
    int open = 0;   // minutes since the day's midnight
    int close = 0;  // > open; past 24:00 for a service that runs past midnight
  };
  // Index: std::chrono::weekday::c_encoding() (0 = Sunday). Empty: closed that day; nullopt: not given, so
  // nothing is known (open_at and open_on say true).
  std::array<std::optional<std::vector<Service>>, 7> by_weekday;

  // The same services every day.
  static OpeningHours every_day(std::vector<Service> services);

  // The services that start on `date`: empty when closed or not given.
  const std::vector<Service>& services_on(std::chrono::year_month_day date) const;
  // Is `minutes` on `date` inside a service (this day's, or the day before's late part)? True on a day whose
  // hours are not given.
  bool open_at(std::chrono::year_month_day date, int minutes) const;
  // False only when the day's hours are given and it has no service of its own.
  bool open_on(std::chrono::year_month_day date) const;
  // "5 PM to 10 PM" / "noon to 2:30 PM and 6 PM to 11:30 PM" for that day; "" when closed or not given.
  std::string describe_day(std::chrono::year_month_day date) const;
  // "Tuesday to Sunday" style list of the weekdays with a service ("every day" when all are).
  std::string open_days() const;
};

// "17:00-22:00", "12:00-14:30, 18:00-23:30", "closed"; nullopt (and `error` set) for anything else.
std::optional<std::vector<OpeningHours::Service>> parse_services(std::string_view text, std::string* error);

// Reads the YAML shape above from `node` over `base` (days the node does not name keep base's value). Unknown keys
// and malformed values are config errors naming the key path and line (ConfigNode::fail).
OpeningHours read_opening_hours(const ConfigNode& node, OpeningHours base = {});

}  // namespace concierge
