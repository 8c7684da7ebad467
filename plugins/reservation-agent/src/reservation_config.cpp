#include "reservation_config.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>

#include <date/tz.h>

#include "concierge/config.hpp"
#include "concierge/speech/spoken.hpp"
#include "phone_number.hpp"

namespace concierge::reservation {
namespace chr = std::chrono;

std::optional<TimeZone> parse_time_zone(std::string_view text) {
  // A named zone: "Area/Location" (or a bare name the database knows, like "EST5EDT").
  if (text.find('/') != std::string_view::npos) {
    try {
      TimeZone zone;
      zone.local = false;
      zone.named = date::locate_zone(std::string(text));
      zone.text = std::string(text);
      return zone;
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  std::string t;
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) t.push_back(static_cast<char>(std::toupper(c)));
  if (t.empty() || t == "LOCAL") return TimeZone{};
  std::string_view rest = t;
  if (rest.substr(0, 3) == "UTC" || rest.substr(0, 3) == "GMT") rest.remove_prefix(3);
  if (rest.empty() || rest == "Z") return TimeZone{false, 0, std::string(text)};
  if (rest[0] != '+' && rest[0] != '-') return std::nullopt;
  const int sign = rest[0] == '-' ? -1 : 1;
  rest.remove_prefix(1);
  std::string digits;
  bool colon = false;
  for (char c : rest) {
    if (std::isdigit(static_cast<unsigned char>(c))) digits.push_back(c);
    else if (c == ':' && !colon) colon = true;
    else return std::nullopt;
  }
  int hours = 0, minutes = 0;
  if (digits.size() == 1 || digits.size() == 2) {
    if (colon) return std::nullopt;
    hours = std::stoi(digits);
  } else if (digits.size() == 3 || digits.size() == 4) {
    hours = std::stoi(digits.substr(0, digits.size() - 2));
    minutes = std::stoi(digits.substr(digits.size() - 2));
  } else {
    return std::nullopt;
  }
  if (hours > 14 || minutes > 59) return std::nullopt;
  return TimeZone{false, sign * (hours * 60 + minutes), std::string(text)};
}

LocalTime local_time(const TimeZone& zone, chr::system_clock::time_point at) {
  if (zone.local) {
    const std::time_t t = chr::system_clock::to_time_t(at);
    std::tm tm{};
    localtime_r(&t, &tm);
    return LocalTime{chr::year_month_day{chr::year{tm.tm_year + 1900}, chr::month{static_cast<unsigned>(tm.tm_mon + 1)},
                                         chr::day{static_cast<unsigned>(tm.tm_mday)}},
                     tm.tm_hour * 60 + tm.tm_min};
  }
  if (zone.named) {
    const auto info = zone.named->get_info(chr::floor<chr::seconds>(at));
    const auto shifted = chr::floor<chr::minutes>(at) + chr::duration_cast<chr::minutes>(info.offset);
    const auto day = chr::floor<chr::days>(shifted);
    return LocalTime{chr::year_month_day{day}, static_cast<int>((shifted - day).count())};
  }
  const auto shifted = chr::floor<chr::minutes>(at) + chr::minutes{zone.offset_minutes};
  const auto day = chr::floor<chr::days>(shifted);
  return LocalTime{chr::year_month_day{day}, static_cast<int>((shifted - day).count())};
}

bool local_time_exists(const TimeZone& zone, chr::year_month_day day, int minutes) {
  if (!zone.named) return true;
  const date::local_days local_day{date::year{static_cast<int>(day.year())} /
                                   date::month{static_cast<unsigned>(day.month())} /
                                   date::day{static_cast<unsigned>(day.day())}};
  const date::local_seconds at{local_day.time_since_epoch() + chr::minutes{minutes}};
  return zone.named->get_info(at).result != date::local_info::nonexistent;
}

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

std::string OpeningHours::describe_day(chr::year_month_day date) const {
  std::string out;
  static const std::vector<Service> none;
  const auto& services = by_weekday[weekday_index(date)] ? *by_weekday[weekday_index(date)] : none;
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

namespace {

OpeningHours hours_of(const ConfigNode& node) {
  node.allow_only({"default", "mon", "tue", "wed", "thu", "fri", "sat", "sun"});
  OpeningHours hours;
  auto services_at = [&](std::string_view key) {
    std::string error;
    auto services = parse_services(node.required_string(key), &error);
    if (!services) node.fail(key, error);
    return *services;
  };
  if (node.has("default")) {
    const auto all = services_at("default");
    for (auto& day : hours.by_weekday) day = all;
  }
  for (std::size_t d = 0; d < kDayKeys.size(); ++d)
    if (node.has(kDayKeys[d])) hours.by_weekday[d] = services_at(kDayKeys[d]);
  return hours;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string required_phone(const ConfigNode& node, std::string_view key, const std::string& region) {
  const std::string text = node.required_string(key);
  auto e164 = normalize_phone_number(text, region);
  if (!e164) node.fail(key, "\"" + text + "\" is not a phone number (write it in E.164, like +15551234567)");
  return *e164;
}

TimeZone zone_of(const ConfigNode& node, std::string_view key) {
  const std::string text = node.get_string(key, "local");
  auto zone = parse_time_zone(text);
  if (!zone)
    node.fail(key, "\"" + text + "\" is not a time zone: use local, UTC, a fixed offset like UTC-05:00 or a name from "
                   "the tz database like America/New_York");
  return *zone;
}

}  // namespace

ReservationConfig parse_reservation_config(const YAML::Node& block, const std::string& path) {
  const ConfigNode root(block, path);
  root.allow_only({"restaurants", "customer", "time_tolerance_minutes", "max_party_size", "time_zone", "today",
                   "date_order", "phone_region", "disclosure", "voicemail"});
  ReservationConfig config;
  config.phone_region = root.get_string("phone_region", "US");
  config.disclosure = root.get_string("disclosure", config.disclosure);
  for (std::size_t open = config.disclosure.find('{'); open != std::string::npos;
       open = config.disclosure.find('{', open + 1))
    if (config.disclosure.compare(open, 10, "{customer}") != 0)
      root.fail("disclosure", "the only placeholder is {customer} (the name the booking is under)");
  if (config.disclosure.size() > 300 || config.disclosure.find_first_of("\n<>") != std::string::npos)
    root.fail("disclosure", "write one short sentence (at most 300 characters, no line breaks, '<' or '>')");
  if (auto voicemail = root.optional_child("voicemail")) {
    voicemail->allow_only({"policy", "message"});
    const std::string policy = voicemail->get_string("policy", "hang_up");
    if (policy == "leave_message") config.leave_voicemail = true;
    else if (policy != "hang_up")
      voicemail->fail("policy", "\"" + policy + "\" is not a voicemail policy: use hang_up or leave_message");
    config.voicemail_message = voicemail->get_string("message", "");
    static const std::array<std::string_view, 6> known = {"{customer}", "{customer_phone}", "{restaurant}",
                                                          "{party_size}", "{date}", "{time}"};
    const std::string& m = config.voicemail_message;
    for (std::size_t open = m.find('{'); open != std::string::npos; open = m.find('{', open + 1))
      if (std::none_of(known.begin(), known.end(), [&](std::string_view k) { return m.compare(open, k.size(), k) == 0; }))
        voicemail->fail("message", "unknown placeholder (known: {customer}, {customer_phone}, {restaurant}, "
                                   "{party_size}, {date}, {time})");
    if (m.size() > 600 || m.find_first_of("\n<>") != std::string::npos)
      voicemail->fail("message", "write a short message (at most 600 characters, no line breaks, '<' or '>')");
  }
  if (!is_phone_region(config.phone_region))
    root.fail("phone_region", "\"" + config.phone_region +
                                  "\" is not a region libphonenumber knows: use an ISO 3166 code like US, GB or DE");

  if (root.has("restaurants")) {
    const YAML::Node list = block["restaurants"];
    if (!list.IsSequence() && !list.IsNull()) root.fail("restaurants", "expected a list of {name, phone} entries");
    std::size_t index = 0;
    for (const auto& item : list) {
      const ConfigNode entry(item, root.key_path("restaurants") + "[" + std::to_string(index++) + "]");
      entry.allow_only({"name", "phone", "aliases", "time_zone", "opening_hours"});
      Restaurant r;
      r.name = entry.required_string("name");
      r.phone = required_phone(entry, "phone", config.phone_region);
      r.aliases = entry.get_string_list("aliases");
      if (entry.has("time_zone")) r.time_zone = zone_of(entry, "time_zone");
      if (auto hours = entry.optional_child("opening_hours")) r.hours = hours_of(*hours);
      for (const Restaurant& other : config.restaurants) {
        if (lower(other.name) == lower(r.name)) entry.fail("name", "\"" + r.name + "\" is listed twice");
      }
      config.restaurants.push_back(std::move(r));
    }
    if (config.restaurants.empty())
      root.fail("restaurants", "the list is empty: leave the key out for the default (Demo Restaurant) or add one");
  } else {
    config.restaurants.push_back(Restaurant{"Demo Restaurant", "+1234567890", {}, std::nullopt, std::nullopt});
  }

  if (auto customer = root.optional_child("customer")) {
    customer->allow_only({"name", "phone"});
    config.customer.name = customer->get_string("name", "");
    const std::string phone = customer->get_string("phone", "");
    if (!phone.empty()) {
      auto e164 = normalize_phone_number(phone, config.phone_region);
      if (!e164) customer->fail("phone", "\"" + phone + "\" is not a phone number (write it in E.164, like +15551234567)");
      config.customer.phone = *e164;
    }
  }

  config.time_tolerance_minutes = static_cast<int>(root.get_int("time_tolerance_minutes", 60, 0, 240));
  config.max_party_size = static_cast<int>(root.get_int("max_party_size", 20, 1, 200));
  config.time_zone = zone_of(root, "time_zone");
  const std::string order = root.get_string("date_order", "month_first");
  if (order == "month_first") config.date_order = DateOrder::month_first;
  else if (order == "day_first") config.date_order = DateOrder::day_first;
  else if (order == "ask") config.date_order = DateOrder::ask;
  else root.fail("date_order", "\"" + order + "\" is not a date order: use month_first (12/5 is December 5), "
                               "day_first (12/5 is 12 May) or ask (a date that reads both ways is asked back)");
  const std::string today = root.get_string("today", "");
  if (!today.empty()) {
    config.today = parse_iso_date(today);
    if (!config.today) root.fail("today", "\"" + today + "\" is not a date (write it as YYYY-MM-DD)");
  }
  return config;
}

}  // namespace concierge::reservation
