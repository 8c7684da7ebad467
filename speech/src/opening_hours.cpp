#include "concierge/speech/opening_hours.hpp"

#include <algorithm>
#include <cctype>

#include "concierge/config.hpp"
#include "concierge/speech/spoken.hpp"

namespace concierge {
namespace chr = std::chrono;

namespace {

constexpr std::array<std::string_view, 7> kDayKeys = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
constexpr std::array<std::string_view, 7> kDayNames = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// "17:00", "9:30", "24:00" -> minutes; nullopt otherwise.
std::optional<int> clock_minutes(std::string_view text) {
  text = trimmed(text);
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 2 || text.size() != colon + 3) return std::nullopt;
  int h = 0, m = 0;
  for (std::size_t k = 0; k < text.size(); ++k) {
    if (k == colon) continue;
    if (!std::isdigit(static_cast<unsigned char>(text[k]))) return std::nullopt;
    (k < colon ? h : m) = (k < colon ? h : m) * 10 + (text[k] - '0');
  }
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
  return h * 60 + m;
}

unsigned weekday_index(chr::year_month_day date) { return chr::weekday{chr::sys_days{date}}.c_encoding(); }

}  // namespace

std::optional<std::vector<OpeningHours::Service>> parse_services(std::string_view text, std::string* error) {
  std::vector<OpeningHours::Service> services;
  text = trimmed(text);
  if (text == "closed") return services;
  std::size_t from = 0;
  while (from <= text.size()) {
    const std::size_t comma = std::min(text.find(',', from), text.size());
    const std::string_view piece = trimmed(text.substr(from, comma - from));
    const auto dash = piece.find('-');
    std::optional<int> open, close;
    if (dash != std::string_view::npos) {
      open = clock_minutes(piece.substr(0, dash));
      close = clock_minutes(piece.substr(dash + 1));
    }
    if (!open || !close || *open == 24 * 60) {
      *error = "expected \"HH:MM-HH:MM\" (several separated by commas) or \"closed\", found \"" + std::string(text) +
               "\"";
      return std::nullopt;
    }
    // A closing time at or before the opening time is after midnight: "18:00-01:00" runs until 1 AM.
    int end = *close <= *open ? *close + 24 * 60 : *close;
    if (end - *open > 20 * 60) {
      *error = "\"" + std::string(piece) + "\" is longer than 20 hours; write each service as HH:MM-HH:MM";
      return std::nullopt;
    }
    if (!services.empty() && *open < services.back().close) {
      *error = "\"" + std::string(piece) + "\" overlaps or comes before the service before it; list them in order";
      return std::nullopt;
    }
    services.push_back(OpeningHours::Service{*open, end});
    from = comma + 1;
  }
  return services;
}

bool OpeningHours::open_at(chr::year_month_day date, int minutes) const {
  const auto& today = by_weekday[weekday_index(date)];
  if (!today) return true;
  for (const Service& s : *today)
    if (minutes >= s.open && minutes < s.close) return true;
  const chr::year_month_day day_before{chr::sys_days{date} - chr::days{1}};
  if (const auto& before = by_weekday[weekday_index(day_before)])
    for (const Service& s : *before)
      if (minutes + 24 * 60 >= s.open && minutes + 24 * 60 < s.close) return true;
  return false;
}

bool OpeningHours::open_on(chr::year_month_day date) const {
  const auto& day = by_weekday[weekday_index(date)];
  return !day || !day->empty();
}

const std::vector<OpeningHours::Service>& OpeningHours::services_on(chr::year_month_day date) const {
  static const std::vector<Service> none;
  const auto& day = by_weekday[weekday_index(date)];
  return day ? *day : none;
}

OpeningHours OpeningHours::every_day(std::vector<Service> services) {
  OpeningHours hours;
  for (auto& day : hours.by_weekday) day = services;
  return hours;
}

std::string OpeningHours::describe_day(chr::year_month_day date) const {
  std::string out;
  const auto& services = services_on(date);
  for (std::size_t k = 0; k < services.size(); ++k) {
    if (k) out += k + 1 == services.size() ? " and " : ", ";
    out += say_time(services[k].open) + " to " + say_time(services[k].close % (24 * 60));
  }
  return out;
}

std::string OpeningHours::open_days() const {
  // Monday first, as people list a week; runs of three or more days are "Tuesday to Sunday".
  constexpr std::array<unsigned, 7> order = {1, 2, 3, 4, 5, 6, 0};
  std::vector<std::string> parts;
  std::size_t open_count = 0;
  for (std::size_t k = 0; k < order.size();) {
    const auto open = [&](std::size_t i) { return by_weekday[order[i]] && !by_weekday[order[i]]->empty(); };
    if (!open(k)) {
      ++k;
      continue;
    }
    std::size_t end = k;
    while (end + 1 < order.size() && open(end + 1)) ++end;
    open_count += end - k + 1;
    if (end - k >= 2) parts.push_back(std::string(kDayNames[order[k]]) + " to " + std::string(kDayNames[order[end]]));
    else
      for (std::size_t d = k; d <= end; ++d) parts.push_back(std::string(kDayNames[order[d]]));
    k = end + 1;
  }
  if (open_count == 7) return "every day";
  std::string out;
  for (std::size_t k = 0; k < parts.size(); ++k) out += (k ? (k + 1 == parts.size() ? " and " : ", ") : "") + parts[k];
  return out;
}


OpeningHours read_opening_hours(const ConfigNode& node, OpeningHours base) {
  node.allow_only({"default", "mon", "tue", "wed", "thu", "fri", "sat", "sun"});
  auto services_at = [&](std::string_view key) {
    std::string error;
    auto services = parse_services(node.required_string(key), &error);
    if (!services) node.fail(key, error);
    return *services;
  };
  if (node.has("default")) {
    const auto all = services_at("default");
    for (auto& day : base.by_weekday) day = all;
  }
  for (std::size_t d = 0; d < kDayKeys.size(); ++d)
    if (node.has(kDayKeys[d])) base.by_weekday[d] = services_at(kDayKeys[d]);
  return base;
}

}  // namespace concierge
