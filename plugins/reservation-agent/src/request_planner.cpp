#include "request_planner.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <set>

#include "concierge/speech/spoken.hpp"
#include "phone_number.hpp"
#include "user_text.hpp"
#include "request_reader.hpp"

// GCC 12 at -O2 reports std::optional<int> members as "may be used uninitialized" when they are only read after a
// has_value() check (a known false positive); the optionals in plan() are exactly that.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace concierge::reservation {
namespace chr = std::chrono;
namespace {

const std::set<std::string, std::less<>> kKnownFields = {
    "restaurant",    "phone_number",   "date",           "time",
    "party_size",    "customer_name",  "customer_phone", "special_requests",
    "time_tolerance_minutes", "time_zone"};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Lower-case, apostrophes dropped ("Luigi's" -> "luigis"), everything else that is not a letter or digit a space,
// spaces collapsed, one space at each end: so " demo restaurant " can be found as a whole-word substring.
// `origin` maps each output byte back to its offset in the input.
std::string match_form(std::string_view s, std::vector<std::size_t>* origin = nullptr) {
  std::string out = " ";
  if (origin) origin->assign(1, 0);
  for (std::size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\'') continue;
    if (std::isalnum(c)) {
      out.push_back(static_cast<char>(std::tolower(c)));
    } else if (out.back() != ' ') {
      out.push_back(' ');
    } else {
      continue;
    }
    if (origin) origin->push_back(i);
  }
  if (out.back() != ' ') {
    out.push_back(' ');
    if (origin) origin->push_back(s.size());
  }
  return out;
}

bool contains_any(const std::string& haystack, std::initializer_list<std::string_view> needles) {
  return std::any_of(needles.begin(), needles.end(),
                     [&](std::string_view n) { return haystack.find(n) != std::string::npos; });
}

std::string known_restaurants(const ReservationConfig& config) {
  std::string out;
  for (std::size_t k = 0; k < config.restaurants.size(); ++k) {
    if (k) out += ", ";
    out += config.restaurants[k].name;
  }
  return out;
}

const Restaurant* restaurant_by_name(const ReservationConfig& config, std::string_view name) {
  const std::string wanted = match_form(name);
  for (const Restaurant& r : config.restaurants) {
    if (match_form(r.name) == wanted) return &r;
    for (const std::string& alias : r.aliases)
      if (match_form(alias) == wanted) return &r;
  }
  return nullptr;
}

const Restaurant* restaurant_by_phone(const ReservationConfig& config, std::string_view e164) {
  for (const Restaurant& r : config.restaurants)
    if (r.phone == e164) return &r;
  return nullptr;
}

struct Word {
  std::string text;  // as written
  std::size_t begin, end;
};
std::vector<Word> words_of(std::string_view text) {
  std::vector<Word> out;
  std::size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (std::isalnum(c)) {
      std::size_t j = i;
      while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '\'' ||
                                 (text[j] == '-' && j + 1 < text.size() &&
                                  std::isalpha(static_cast<unsigned char>(text[j + 1])))))
        ++j;
      out.push_back(Word{std::string(text.substr(i, j - i)), i, j});
      i = j;
    } else {
      if (c == ',' || c == '.' || c == ';' || c == ':' || c == '!' || c == '?')
        out.push_back(Word{std::string(1, static_cast<char>(c)), i, i + 1});
      ++i;
    }
  }
  return out;
}

// `text` with every {placeholder} of `values` replaced (the config checked that no other placeholder is used).
std::string fill_in(std::string text, std::initializer_list<std::pair<std::string_view, std::string>> values) {
  for (const auto& [key, value] : values)
    for (std::size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + value.size()))
      text.replace(at, key.size(), value);
  return text;
}

// "Mondays": how a closed day is named ("closed on Mondays").
std::string say_weekday_plural(chr::year_month_day date) {
  static const char* const names[] = {"Sundays",   "Mondays", "Tuesdays", "Wednesdays",
                                      "Thursdays", "Fridays", "Saturdays"};
  return names[chr::weekday{chr::sys_days{date}}.c_encoding()];
}

bool is_capitalized(const std::string& w) { return !w.empty() && std::isupper(static_cast<unsigned char>(w[0])); }

bool is_calendar_word(const std::string& w) {
  static const std::set<std::string, std::less<>> words = {
      "monday",  "tuesday",  "wednesday", "thursday", "friday",  "saturday", "sunday",   "january",
      "february", "march",   "april",     "may",      "june",    "july",     "august",   "september",
      "october", "november", "december",  "jan",      "feb",     "mar",      "apr",      "jun",
      "jul",     "aug",      "sep",       "sept",     "oct",     "nov",      "dec",      "today",
      "tomorrow", "tonight", "noon",      "midnight", "i"};
  return words.count(lower(w)) > 0;
}

// Up to four capitalised words from word k ("Alex Morgan", "Luigi's Trattoria"), as written; "" when none.
std::string capitalized_phrase(const std::vector<Word>& words, std::size_t k, std::string_view text) {
  std::size_t end = k;
  while (end < words.size() && end < k + 4 && is_capitalized(words[end].text) && !is_calendar_word(words[end].text))
    ++end;
  if (end == k) return "";
  return std::string(text.substr(words[k].begin, words[end - 1].end - words[k].begin));
}

// "under the name Alex Morgan", "in the name of Alex", "name: Alex", "my name is Alex", "under Alex".
std::string customer_name_in_text(std::string_view text) {
  const auto words = words_of(text);
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string w = lower(words[i].text);
    auto next_is = [&](std::size_t k, std::string_view s) { return k < words.size() && lower(words[k].text) == s; };
    std::size_t start = std::string::npos;
    if (w == "under" && next_is(i + 1, "the") && next_is(i + 2, "name")) start = next_is(i + 3, "of") ? i + 4 : i + 3;
    else if (w == "in" && next_is(i + 1, "the") && next_is(i + 2, "name") && next_is(i + 3, "of")) start = i + 4;
    else if (w == "name" && next_is(i + 1, "is")) start = i + 2;
    else if (w == "name" && next_is(i + 1, ":")) start = i + 2;
    else if (w == "under") start = i + 1;
    else if ((w == "im" || w == "i'm") || (w == "i" && next_is(i + 1, "am"))) start = w == "i" ? i + 2 : i + 1;
    else if (w == "this" && next_is(i + 1, "is")) start = i + 2;
    if (start == std::string::npos) continue;
    if (std::string name = capitalized_phrase(words, start, text); !name.empty()) return name;
  }
  return "";
}

// A restaurant named after "at" that is not in the directory ("at Luigi's tomorrow"), to ask for its number.
std::string unknown_restaurant_in_text(std::string_view text) {
  const auto words = words_of(text);
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    const std::string w = lower(words[i].text);
    if (w != "at" && w != "from" && w != "with") continue;
    if (std::string name = capitalized_phrase(words, i + 1, text); !name.empty()) return name;
  }
  return "";
}

// Requests people add to a booking: the clause around a known keyword ("with a window seat", "it's a birthday").
std::string special_requests_in_text(std::string_view text) {
  const std::string low = lower(text);
  // An explicit label takes the rest of its sentence.
  for (std::string_view label : {"special requests:", "special request:", "special requests", "special request",
                                 "requests:", "note:"}) {
    if (const auto at = low.find(label); at != std::string::npos) {
      std::size_t from = at + label.size();
      while (from < text.size() && (text[from] == ' ' || text[from] == ':')) ++from;
      std::size_t to = text.find_first_of(".;!?\n", from);
      std::string out(text.substr(from, to == std::string::npos ? std::string::npos : to - from));
      while (!out.empty() && out.back() == ' ') out.pop_back();
      if (!out.empty()) return out;
    }
  }
  static const std::vector<std::string_view> keywords = {
      "window",    "booth",      "outside",  "outdoor",  "patio",     "terrace",   "high chair", "highchair",
      "wheelchair", "accessible", "birthday", "anniversary", "allerg", "gluten",  "vegan",      "vegetarian",
      "quiet",     "stroller",   "pram",     "dog",      "private room", "celebrat", "proposal"};
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  for (std::string_view keyword : keywords) {
    const auto at = low.find(keyword);
    if (at == std::string::npos) continue;
    // Back to the start of the clause: the nearest punctuation, or a word that opens a request.
    std::size_t from = 0;
    if (const auto p = low.find_last_of(",.;!?\n", at); p != std::string::npos) from = p + 1;
    for (std::string_view opener : {" with ", " and ", " preferably ", " ideally ", " if possible "}) {
      const auto o = low.rfind(opener, at);
      if (o != std::string::npos && o + 1 > from) from = o + 1;
    }
    std::size_t to = low.find_first_of(",.;!?\n", at);
    if (to == std::string::npos) to = low.size();
    spans.emplace_back(from, to);
  }
  std::sort(spans.begin(), spans.end());
  std::string out;
  std::size_t covered = 0;
  for (auto [from, to] : spans) {
    if (to <= covered) continue;
    from = std::max(from, covered);
    std::string piece(text.substr(from, to - from));
    const auto trim = [](std::string& s) {
      while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(s.begin());
      while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    };
    trim(piece);
    for (std::string_view opener : {"with ", "and ", "With ", "And "})
      if (piece.rfind(opener, 0) == 0) piece.erase(0, opener.size());
    trim(piece);
    if (!piece.empty()) out += (out.empty() ? "" : "; ") + piece;
    covered = to;
  }
  return out;
}

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

// "\"12/5\": it could be ..." as a sentence: a capital first letter, and a full stop unless it already ends in one.
std::string capitalized(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  while (s.size() >= 2 && s.back() == '.' && (s[s.size() - 2] == '?' || s[s.size() - 2] == '.')) s.pop_back();
  return s;
}

std::string names_or(const std::vector<const Restaurant*>& list) {
  std::string names;
  for (std::size_t k = 0; k < list.size(); ++k)
    names += (k == 0 ? "" : (k + 1 == list.size() ? " or " : ", ")) + list[k]->name;
  return names;
}

// A time said without am/pm that the dinner rule read outside the usual dining hours ("at 4" -> 4 PM) is a doubt
// the restaurant's own hours can settle: when exactly one half of the day is inside a service that day, that is
// the time meant. Both inside, or neither (then the closed-hour question names the hours), it stays a question.
std::optional<int> half_of_day_by_opening_hours(const FieldReading<int>& time, const Restaurant* restaurant,
                                                const std::optional<chr::year_month_day>& date) {
  if (!time.value || !time.doubt_is_dining_hours || !time.other_half || !restaurant || !restaurant->hours || !date)
    return std::nullopt;
  const OpeningHours& hours = *restaurant->hours;  // a day whose hours are not given is open at both: no help
  const bool chosen_open = hours.open_at(*date, *time.value);
  const bool other_open = hours.open_at(*date, *time.other_half);
  if (chosen_open == other_open) return std::nullopt;
  return chosen_open ? *time.value : *time.other_half;
}

}  // namespace

RequestPlanner::RequestPlanner(ReservationConfig config, Clock now) : config_(std::move(config)), now_(std::move(now)) {}

TaskPlan RequestPlanner::plan(const TaskRequest& request) const {
  TaskPlan plan;
  const std::string& text = request.text;
  const nlohmann::json& fields = request.fields;
  // Every question names its field and kind, so a client can show it beside the field (README: the reading).
  nlohmann::json questions = nlohmann::json::array();
  nlohmann::json read_fields = nlohmann::json::object();
  auto ask_about = [&](std::string field, std::string kind, std::string question, std::string said = "") {
    nlohmann::json q = {{"field", std::move(field)}, {"kind", std::move(kind)}, {"question", std::move(question)}};
    if (!said.empty()) q["text"] = std::move(said);
    questions.push_back(std::move(q));
  };
  auto ask = [&](std::string question) { ask_about("request", "invalid", std::move(question)); };
  auto noted = [&](const char* field, nlohmann::json value, const Source& source, std::string how) {
    nlohmann::json f = {{"value", std::move(value)}, {"how", std::move(how)}};
    if (!source.text.empty()) {
      f["text"] = source.text;
      f["begin"] = source.begin;
      f["end"] = source.end;
    }
    read_fields[field] = std::move(f);
  };

  chr::year_month_day today{};  // set below, once the restaurant's zone is known
  auto finish = [&](ReservationTask* task) {
    plan.reading = {{"fields", read_fields}, {"questions", questions}};
    if (!questions.empty()) {
      plan.ready = false;
      std::string joined;
      for (const auto& q : questions) joined += (joined.empty() ? "" : " ") + q["question"].get<std::string>();
      plan.question = joined;
      return plan;
    }
    plan.ready = true;
    // The read-back a person checks before the phone rings: "Wednesday 2 December at 8:30 PM, 2 people, Demo
    // Restaurant".
    {
      const auto ymd = task->date;
      static const char* const months[] = {"January", "February", "March",     "April",   "May",      "June",
                                           "July",    "August",   "September", "October", "November", "December"};
      static const char* const days[] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
      const unsigned iso = chr::weekday{chr::sys_days{ymd}}.iso_encoding();
      std::string words = std::string(days[iso - 1]) + " " + std::to_string(static_cast<unsigned>(ymd.day())) + " " +
                          months[static_cast<unsigned>(ymd.month()) - 1];
      if (ymd.year() != today.year()) words += " " + std::to_string(static_cast<int>(ymd.year()));
      words += " at " + say_time(task->time_minutes) + ", " + std::to_string(task->party_size) +
               (task->party_size == 1 ? " person, " : " people, ") + task->restaurant;
      if (!task->special_requests.empty()) words += " (" + task->special_requests + ")";
      plan.reading["in_words"] = words;
    }
    plan.callee_name = task->restaurant;
    plan.phone_number = task->phone_number;
    plan.summary = summary_line(*task);
    plan.details = to_details(*task);
    return plan;
  };

  if (!fields.is_null() && !fields.is_object()) {
    ask("The structured fields must be a JSON object.");
    return finish(nullptr);
  }
  const nlohmann::json no_fields = nlohmann::json::object();
  const nlohmann::json& f = fields.is_object() ? fields : no_fields;
  for (const auto& [key, value] : f.items()) {
    if (!kKnownFields.count(key)) {
      std::string known;
      for (const auto& k : kKnownFields) known += (known.empty() ? "" : ", ") + k;
      ask_about(key, "invalid", "I don't know the field " + in_quotes(key) + " (known fields: " + known + ").");
    }
  }
  auto string_field = [&](const char* key) -> std::optional<std::string> {
    const auto it = f.find(key);
    if (it == f.end() || it->is_null()) return std::nullopt;
    if (it->is_string()) {
      std::string s = it->get<std::string>();
      if (s.find_first_not_of(" \t") == std::string::npos) return std::nullopt;
      return s;
    }
    ask_about(key, "invalid", "The field " + in_quotes(key) + " must be text.");
    return std::nullopt;
  };
  if (const std::string problem = request_text_problem(text); !problem.empty()) {
    ask(problem);
    return finish(nullptr);
  }
  if (text.empty() && f.empty()) {
    ask_about("request", "missing",
              "What would you like me to book? For example: \"a table for 4 at Demo Restaurant tomorrow at 7pm\".");
    return finish(nullptr);
  }

  ReservationTask task;
  task.time_tolerance_minutes = config_.time_tolerance_minutes;

  // ---- restaurant and phone number: fields, then the directory by name, then a number in the text.
  const auto field_restaurant = string_field("restaurant");
  const auto field_phone = string_field("phone_number");
  std::optional<std::string> phone;
  if (field_phone) {
    phone = normalize_phone_number(*field_phone, config_.phone_region);
    if (!phone)
      ask_about("phone_number", "invalid",
                in_quotes(*field_phone) + " is not a phone number I can dial. Please give it like +15551234567.");
  }
  // A number the user calls their own ("my number is ...", "reach me at ...") is the customer's, not the
  // restaurant's; the restaurant's may follow it.
  std::optional<PhoneMention> text_phone, text_customer_phone;
  for (std::size_t from = 0; from < text.size();) {
    auto found = find_phone_number(std::string_view(text).substr(from), config_.phone_region);
    if (!found) break;
    found->begin += from;
    found->end += from;
    const std::string before = lower(std::string_view(text).substr(found->begin > 30 ? found->begin - 30 : 0,
                                                                    std::min<std::size_t>(found->begin, 30)));
    const bool customers = contains_any(before, {"my number", "my phone", "my cell", "my mobile", "reach me",
                                                 "text me", "me at", "me on", "call back", "callback"});
    if (customers && !text_customer_phone) text_customer_phone = found;
    else if (!customers && !text_phone) text_phone = found;
    from = found->end;
  }
  auto phone_source = [&](const PhoneMention& m) {
    return Source{text.substr(m.begin, m.end - m.begin), m.begin, m.end};
  };

  // Today in the restaurant's zone depends on the restaurant; the text is read against the default zone's today
  // first and again once the restaurant (and its zone) is known.
  // The user's zone (the `time_zone` field, e.g. sent by a client) stands in for the config's when the restaurant
  // has none of its own.
  TimeZone user_zone = config_.time_zone;
  if (auto field_zone = string_field("time_zone")) {
    if (auto zone = parse_time_zone(*field_zone)) user_zone = *zone;
    else
      ask_about("time_zone", "invalid",
                in_quotes(*field_zone) + " is not a time zone (use a name like America/New_York or an offset like "
                                         "UTC-05:00).");
  }
  auto zone_at = [&](const Restaurant* r) { return r && r->time_zone ? *r->time_zone : user_zone; };
  auto today_at = [&](const Restaurant* r) { return local_time(zone_at(r), now_()); };
  LocalTime now = today_at(nullptr);
  today = config_.today ? *config_.today : now.date;
  RequestReading reading = read_request(text, config_, today);

  const Restaurant* restaurant = nullptr;
  bool restaurant_known = false;
  if (field_restaurant) {
    restaurant = restaurant_by_name(config_, *field_restaurant);
    task.restaurant = restaurant ? restaurant->name : *field_restaurant;
    if (!phone && !field_phone && text_phone) phone = text_phone->e164;
    if (!restaurant && !phone && !field_phone)
      ask_about("restaurant", "missing",
                "I don't have a phone number for " + *field_restaurant + ". What number should I call? I know: " +
                    known_restaurants(config_) + ".",
                *field_restaurant);
    restaurant_known = restaurant || phone;
    noted("restaurant", task.restaurant, Source{}, "field");
  } else if (phone || field_phone) {
    if (phone) restaurant = restaurant_by_phone(config_, *phone);
    task.restaurant = restaurant ? restaurant->name : (phone ? *phone : "");
    restaurant_known = true;
    noted("restaurant", task.restaurant, Source{}, "field phone_number");
  } else if (reading.restaurant.restaurant) {
    restaurant = reading.restaurant.restaurant;
    task.restaurant = restaurant->name;
    if (text_phone) phone = text_phone->e164;  // "call Demo Restaurant on +1 555 ...": the user's number wins
    restaurant_known = true;
    noted("restaurant", task.restaurant, reading.restaurant.source, reading.restaurant.how);
  } else if (text_phone && (restaurant = restaurant_by_phone(config_, text_phone->e164))) {
    phone = text_phone->e164;
    task.restaurant = restaurant->name;
    restaurant_known = true;
    noted("restaurant", task.restaurant, phone_source(*text_phone), "phone number");
  } else if (reading.restaurant.candidates.size() == 1) {
    ask_about("restaurant", "doubtful",
              "Did you mean " + reading.restaurant.candidates[0]->name + "? (you wrote \"" +
                  reading.restaurant.source.text + "\")",
              reading.restaurant.source.text);
  } else if (reading.restaurant.candidates.size() > 1) {
    ask_about("restaurant", "doubtful", "Which restaurant: " + names_or(reading.restaurant.candidates) + "?",
              reading.restaurant.source.text);
  } else if (text_phone) {
    phone = text_phone->e164;
    const std::string name = unknown_restaurant_in_text(text);
    task.restaurant = name.empty() ? *phone : name;
    restaurant_known = true;
    noted("restaurant", task.restaurant, phone_source(*text_phone), "phone number");
  } else if (const std::string unknown = unknown_restaurant_in_text(text); !unknown.empty()) {
    ask_about("restaurant", "missing",
              "I don't have a phone number for " + unknown + ". What number should I call? I know: " +
                  known_restaurants(config_) + ".",
              unknown);
  } else {
    ask_about("restaurant", "missing", "Which restaurant? I know: " + known_restaurants(config_) + ".");
  }
  if (restaurant_known) task.phone_number = phone ? *phone : (restaurant ? restaurant->phone : "");

  // ---- today, in the restaurant's time zone when it has one ("tomorrow" is the restaurant's tomorrow).
  if (restaurant && restaurant->time_zone) {
    now = today_at(restaurant);
    const chr::year_month_day there = config_.today ? *config_.today : now.date;
    if (there != today) {
      today = there;
      reading = read_request(text, config_, today);
    }
  }
  // With a fixed "today" (tests) there is no meaningful "now" to compare a time of day with.
  const bool check_time_passed = !config_.today;

  // ---- date
  std::optional<chr::year_month_day> date;
  if (auto field_date = string_field("date")) {
    date = parse_iso_date(*field_date);
    if (!date) {
      if (auto found = find_date(*field_date, today)) date = found->first;
    }
    if (!date)
      ask_about("date", "invalid",
                "I couldn't read the date " + in_quotes(*field_date) + ". Which date should I book (YYYY-MM-DD)?",
                *field_date);
    if (date) noted("date", format_iso_date(*date), Source{}, "field");
  } else if (reading.date.value && !reading.date.doubt.empty()) {
    ask_about("date", "doubtful",
              capitalized(in_quotes(reading.date.source.text) + ": " + reading.date.doubt + ".") +
                  " Which date should I book?",
              reading.date.source.text);
  } else if (reading.date.value) {
    date = reading.date.value;
    // "tonight" said after midnight: the night that is ending, or the one to come?
    if (reading.said_tonight && check_time_passed && now.minutes < 5 * 60) {
      ask_about("date", "doubtful",
                "It is already past midnight. By \"tonight\" do you mean " + say_date(*date, today) +
                    ", or the night that is ending?",
                reading.date.source.text);
      date.reset();
    } else {
      noted("date", format_iso_date(*date), reading.date.source, reading.date.corrected ? "corrected" : "text");
    }
  } else {
    ask_about("date", "missing", "Which date should I book? For example \"tomorrow\", \"Friday\" or \"December 3\".");
  }
  if (date && chr::sys_days{*date} < chr::sys_days{today}) {
    ask_about("date", "doubtful", say_date(*date, today) + " is in the past. Which date should I book?",
              reading.date.source.text);
    date.reset();
  }
  if (date && chr::sys_days{*date} > chr::sys_days{today} + chr::days{366}) {
    ask_about("date", "doubtful",
              say_date(*date, today) + " is more than a year ahead; restaurants rarely take bookings that far out. "
                                       "Which date should I book?",
              reading.date.source.text);
    date.reset();
  }
  if (!date) read_fields.erase("date");

  // ---- time
  std::optional<int> time;
  if (const auto it = f.find("time"); it != f.end() && !it->is_null()) {
    if (it->is_string()) {
      const std::string s = it->get<std::string>();
      time = parse_hh_mm(s);
      if (!time) time = parse_time_of_day(s);
      if (!time)
        ask_about("time", "invalid", "I couldn't read the time " + in_quotes(s) + ". What time should I book (HH:MM)?",
                  s);
      if (time) noted("time", format_hh_mm(*time), Source{}, "field");
    } else {
      ask_about("time", "invalid", "The field \"time\" must be text like \"19:30\".");
    }
  } else if (const auto settled = half_of_day_by_opening_hours(reading.time, restaurant, date)) {
    // "at 4" is outside the usual dining hours, but the restaurant's hours say which 4 it is.
    time = *settled;
    noted("time", format_hh_mm(*time), reading.time.source, "opening hours");
  } else if (reading.time.value && !reading.time.doubt.empty() && date &&
             !local_time_exists(zone_at(restaurant), *date, *reading.time.value)) {
    // The gap is the stronger reason ("2:30am" is also outside dining hours): say that one.
    ask_about("time", "doubtful",
              say_time(*reading.time.value) + " on " + say_date(*date, today) + " does not exist at " +
                  (task.restaurant.empty() ? std::string("the restaurant") : task.restaurant) +
                  ": the clocks go forward then. What time should I book?",
              reading.time.source.text);
  } else if (reading.time.value && !reading.time.doubt.empty()) {
    ask_about("time", "doubtful",
              capitalized(in_quotes(reading.time.source.text) + ": " + reading.time.doubt + ".") +
                  " What time should I book?",
              reading.time.source.text);
  } else if (reading.time.value) {
    time = reading.time.value;
    noted("time", format_hh_mm(*time), reading.time.source, reading.time.corrected ? "corrected" : "text");
  } else {
    ask_about("time", "missing", "What time should I book? For example \"7pm\" or \"19:30\".");
  }
  // A wall-clock time the restaurant's clocks jump over (the start of daylight saving) does not exist there.
  if (date && time && !local_time_exists(zone_at(restaurant), *date, *time)) {
    ask_about("time", "doubtful",
              say_time(*time) + " on " + say_date(*date, today) + " does not exist at " +
                  (task.restaurant.empty() ? std::string("the restaurant") : task.restaurant) +
                  ": the clocks go forward then. What time should I book?",
              reading.time.source.text);
    time.reset();
    read_fields.erase("time");
  }
  if (date && time && check_time_passed && *date == today && *time <= now.minutes) {
    ask_about("time", "doubtful", "It is already past " + say_time(*time) + " today. Which time or date should I book?",
              reading.time.source.text);
    time.reset();
    read_fields.erase("time");
  }

  // ---- the restaurant's opening hours, when the directory has them: a closed day or hour is said now, before the
  // phone rings, not discovered by the restaurant.
  if (restaurant && restaurant->hours && date) {
    const OpeningHours& hours = *restaurant->hours;
    const bool served_late = time && hours.open_at(*date, *time);  // the day before's service past midnight
    if (!hours.open_on(*date) && !served_late) {
      const std::string days = hours.open_days();
      ask_about("date", "closed",
                restaurant->name + " is closed on " + say_weekday_plural(*date) +
                    (days.empty() ? std::string(".") : " (it takes tables " + days + ").") +
                    " Which date should I book?",
                reading.date.source.text);
      date.reset();
      read_fields.erase("date");
    } else if (time && !hours.open_at(*date, *time)) {
      ask_about("time", "closed",
                restaurant->name + " takes tables on " + say_date(*date, today) + " from " + hours.describe_day(*date) +
                    ", not at " + say_time(*time) + ". What time should I book?",
                reading.time.source.text);
      time.reset();
      read_fields.erase("time");
    }
  }

  // ---- party size
  std::optional<int> party;
  if (const auto it = f.find("party_size"); it != f.end() && !it->is_null()) {
    if (it->is_number_integer()) party = it->get<int>();
    else if (it->is_string()) party = parse_number(it->get<std::string>());
    if (!party)
      ask_about("party_size", "invalid", "The party size must be a whole number. How many people is the reservation for?");
    if (party) noted("party_size", *party, Source{}, "field");
  } else if (reading.party_size.value && !reading.party_size.doubt.empty()) {
    ask_about("party_size", "doubtful",
              capitalized(in_quotes(reading.party_size.source.text) + ": " + reading.party_size.doubt + ".") +
                  " How many people is the reservation for?",
              reading.party_size.source.text);
  } else if (reading.party_size.value) {
    party = reading.party_size.value;
    noted("party_size", *party, reading.party_size.source, reading.party_size.corrected ? "corrected" : "text");
  } else {
    ask_about("party_size", "missing", "How many people is the reservation for?");
  }
  if (party && *party < 1) {
    ask_about("party_size", "invalid", "A reservation needs at least one person. How many people is it for?");
    party.reset();
  }
  if (party && *party > config_.max_party_size) {
    const std::string where =
        restaurant_known ? task.restaurant + (task.phone_number.empty() ? "" : " at " + task.phone_number)
                         : "the restaurant";
    ask_about("party_size", "invalid",
              "For more than " + std::to_string(config_.max_party_size) + " people, please call " + where +
                  " directly: large groups are arranged with the restaurant, not booked in a quick call.");
    party.reset();
  }
  if (!party) read_fields.erase("party_size");

  // ---- customer
  if (auto name = string_field("customer_name")) task.customer_name = *name;
  else if (std::string name = customer_name_in_text(text); !name.empty()) task.customer_name = name;
  else task.customer_name = config_.customer.name;
  if (task.customer_name.empty()) ask_about("customer_name", "missing", "What name should the reservation be under?");
  if (auto customer_phone = string_field("customer_phone")) {
    if (auto e164 = normalize_phone_number(*customer_phone, config_.phone_region)) task.customer_phone = *e164;
    else
      ask_about("customer_phone", "invalid",
                in_quotes(*customer_phone) + " is not a phone number. What number can the restaurant reach you on?");
  } else if (text_customer_phone) {
    task.customer_phone = text_customer_phone->e164;
  } else {
    task.customer_phone = config_.customer.phone;
  }

  if (auto requests = string_field("special_requests")) task.special_requests = *requests;
  else task.special_requests = special_requests_in_text(text);

  if (const auto it = f.find("time_tolerance_minutes"); it != f.end() && !it->is_null()) {
    if (it->is_number_integer() && it->get<int>() >= 0 && it->get<int>() <= 240)
      task.time_tolerance_minutes = it->get<int>();
    else
      ask_about("time_tolerance_minutes", "invalid",
                "The field \"time_tolerance_minutes\" must be a whole number from 0 to 240.");
  }

  // ---- what reaches the voice model: each text field within its character set and length (user_text.hpp),
  // whether it came from a field or out of the request's words.
  for (const auto& [field, value] : {std::pair<const char*, const std::string*>{"restaurant", &task.restaurant},
                                     {"customer_name", &task.customer_name},
                                     {"special_requests", &task.special_requests}})
    if (const std::string problem = user_text_problem(*user_text_rule(field), *value); !problem.empty()) ask(problem);

  // Partial details help the user see what was understood even when a question remains.
  // Partial details help the user see what was understood even when a question remains: only what is sure.
  if (!questions.empty()) {
    nlohmann::json partial = nlohmann::json::object();
    if (restaurant_known && !task.restaurant.empty()) partial["restaurant"] = task.restaurant;
    if (restaurant_known && !task.phone_number.empty()) partial["phone_number"] = task.phone_number;
    if (date) partial["date"] = format_iso_date(*date);
    if (time) partial["time"] = format_hh_mm(*time);
    if (party) partial["party_size"] = *party;
    plan.details = std::move(partial);
    return finish(nullptr);
  }
  task.date = *date;
  task.date_spoken = say_date(*date, today);
  task.time_minutes = *time;
  task.party_size = *party;
  // The disclosure names the customer; the name was checked as user text above.
  task.disclosure = fill_in(config_.disclosure, {{"{customer}", task.customer_name}});
  if (config_.leave_voicemail) {
    std::string message = config_.voicemail_message;
    if (message.empty())
      message = task.customer_phone.empty()
                    ? "Hi, this is an automated assistant calling on behalf of {customer}, hoping to book a table for "
                      "{party_size} on {date} at {time}. We will try calling again later. Thank you!"
                    : "Hi, this is an automated assistant calling on behalf of {customer}, hoping to book a table for "
                      "{party_size} on {date} at {time}. Please call {customer} back at {customer_phone}. Thank you!";
    task.voicemail_message = fill_in(
        message, {{"{customer}", task.customer_name},
                  {"{customer_phone}", task.customer_phone},
                  {"{restaurant}", task.restaurant},
                  {"{party_size}", std::to_string(task.party_size) + (task.party_size == 1 ? " person" : " people")},
                  {"{date}", task.date_spoken},
                  {"{time}", say_time(task.time_minutes)}});
  }
  return finish(&task);
}

}  // namespace concierge::reservation
