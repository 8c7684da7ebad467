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
      if (auto hours = entry.optional_child("opening_hours")) r.hours = read_opening_hours(*hours);
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
