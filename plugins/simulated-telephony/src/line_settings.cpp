#include "line_settings.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <set>

#include "concierge/speech/spoken.hpp"

namespace concierge::sim {
namespace {


const std::set<std::string, std::less<>>& known_placeholders() {
  static const std::set<std::string, std::less<>> names{
      "restaurant", "party_size", "date", "time", "requested_time", "alternative_time", "name",
      "code",       "weekday",    "open", "close"};
  return names;
}

void check_placeholders(const ConfigNode& node, std::string_view key, const std::string& phrase) {
  for (std::size_t open = phrase.find('{'); open != std::string::npos; open = phrase.find('{', open + 1)) {
    const auto close = phrase.find('}', open);
    if (close == std::string::npos) node.fail(key, "unclosed '{' in phrase");
    const std::string name = phrase.substr(open + 1, close - open - 1);
    if (!known_placeholders().contains(name)) {
      std::string known;
      for (const auto& k : known_placeholders()) known += (known.empty() ? "{" : ", {") + k + "}";
      node.fail(key, "unknown placeholder {" + name + "} (known: " + known + ")");
    }
  }
}

RestaurantPhrases parse_phrases(const ConfigNode& node) {
  RestaurantPhrases p;
  struct Entry { std::string_view key; std::string* value; };
  const Entry entries[] = {
      {"greeting", &p.greeting},         {"ask_party_size", &p.ask_party_size},
      {"ask_date", &p.ask_date},         {"ask_time", &p.ask_time},
      {"available", &p.available},       {"offer", &p.offer},
      {"outside_hours", &p.outside_hours}, {"alternative_accepted", &p.alternative_accepted},
      {"declined", &p.declined},         {"fully_booked", &p.fully_booked},
      {"closed", &p.closed},             {"ask_phone", &p.ask_phone},
      {"confirm", &p.confirm},           {"repeat_code", &p.repeat_code},
      {"readback_correct", &p.readback_correct}, {"readback_wrong", &p.readback_wrong},
      {"goodbye", &p.goodbye},           {"repeat", &p.repeat},
      {"give_up", &p.give_up},           {"idle", &p.idle},
      {"interrupt", &p.interrupt},
      {"menu", &p.menu},
      {"menu_dead_end", &p.menu_dead_end},
      {"menu_address", &p.menu_address},
      {"menu_invalid", &p.menu_invalid},
      {"voicemail_greeting", &p.voicemail_greeting},
      {"menu_hours", &p.menu_hours},
      {"menu_connecting", &p.menu_connecting},
      {"menu_goodbye", &p.menu_goodbye},
  };
  if (node.yaml() && node.yaml().IsMap()) {
    for (const auto& item : node.yaml()) {
      const std::string key = item.first.Scalar();
      const auto found = std::find_if(std::begin(entries), std::end(entries),
                                      [&](const Entry& e) { return e.key == key; });
      if (found == std::end(entries)) {
        std::string known;
        for (const auto& e : entries) known += (known.empty() ? "" : ", ") + std::string(e.key);
        node.fail(key, "unknown phrase (known phrases: " + known + ")");
      }
      const std::string value = node.get_string(key, "");
      if (value.empty()) node.fail(key, "a phrase cannot be empty");
      check_placeholders(node, key, value);
      *found->value = value;
    }
  }
  // The confirmation number must be said, or the call can never succeed.
  if (p.confirm.find("{code}") == std::string::npos) node.fail("confirm", "must contain {code}");
  return p;
}

Scenario parse_scenario(const ConfigNode& scenarios, const std::string& number, const YAML::Node& value) {
  auto outcome_from = [&](const std::string& text, Scenario& s) {
    static const std::pair<std::string_view, ScenarioOutcome> names[] = {
        {"normal", ScenarioOutcome::normal},
        {"available", ScenarioOutcome::available},
        {"busy", ScenarioOutcome::busy},
        {"no-answer", ScenarioOutcome::no_answer},
        {"failed", ScenarioOutcome::failed},
        {"fully-booked", ScenarioOutcome::fully_booked},
        {"offer-alternative", ScenarioOutcome::offer_alternative},
    };
    if (text == "barge-in") {  // shorthand: a table is available, and the restaurant talks over the request once
      s.outcome = ScenarioOutcome::available;
      s.barge_in = true;
      return;
    }
    if (text == "phone-menu") {  // shorthand: a table is available, behind an automated phone menu
      s.outcome = ScenarioOutcome::available;
      s.phone_menu = true;
      return;
    }
    if (text == "voicemail") {  // shorthand: an answering machine with a beep
      s.outcome = ScenarioOutcome::available;
      s.voicemail = true;
      return;
    }
    if (text == "dead-end-menu") {  // shorthand: an automated menu whose options never reach a person
      s.outcome = ScenarioOutcome::available;
      s.phone_menu = true;
      s.menu_reaches_person = false;
      return;
    }
    for (const auto& [name, outcome] : names)
      if (name == text) {
        s.outcome = outcome;
        return;
      }
    scenarios.fail(number, "unknown scenario \"" + text +
                               "\" (known: normal, available, busy, no-answer, failed, fully-booked, "
                               "offer-alternative, barge-in, phone-menu, dead-end-menu, voicemail)");
  };
  Scenario s;
  if (value.IsScalar()) {
    outcome_from(value.Scalar(), s);
    return s;
  }
  const ConfigNode node(value, scenarios.key_path(number));
  node.allow_only({"outcome", "offer_minutes", "barge_in", "phone_menu", "menu_reaches_person", "voicemail",
                   "voicemail_beep"});
  outcome_from(node.get_string("outcome", "normal"), s);
  if (node.has("offer_minutes")) {
    s.offer_minutes = static_cast<int>(node.get_int("offer_minutes", 30, -720, 720));
    if (*s.offer_minutes == 0) node.fail("offer_minutes", "an alternative must differ from the requested time");
  }
  s.barge_in = node.get_bool("barge_in", s.barge_in);
  s.phone_menu = node.get_bool("phone_menu", s.phone_menu);
  s.menu_reaches_person = node.get_bool("menu_reaches_person", s.menu_reaches_person);
  s.voicemail = node.get_bool("voicemail", s.voicemail);
  s.voicemail_beep = node.get_bool("voicemail_beep", s.voicemail_beep);
  return s;
}

std::chrono::milliseconds get_ms(const ConfigNode& node, std::string_view key, long long default_ms) {
  return std::chrono::milliseconds(node.get_int(key, default_ms, 0, 600'000));
}

}  // namespace

std::string_view to_string(ScenarioOutcome outcome) {
  switch (outcome) {
    case ScenarioOutcome::normal: return "normal";
    case ScenarioOutcome::available: return "available";
    case ScenarioOutcome::busy: return "busy";
    case ScenarioOutcome::no_answer: return "no-answer";
    case ScenarioOutcome::failed: return "failed";
    case ScenarioOutcome::fully_booked: return "fully-booked";
    case ScenarioOutcome::offer_alternative: return "offer-alternative";
  }
  return "normal";
}

Scenario LineSettings::scenario_for(const std::string& number) const {
  const auto found = scenarios.find(number);
  return found == scenarios.end() ? Scenario{} : found->second;
}

std::string fill_placeholders(std::string_view pattern, const std::map<std::string, std::string>& values) {
  std::string out;
  out.reserve(pattern.size() + 32);
  std::size_t pos = 0;
  while (pos < pattern.size()) {
    const auto open = pattern.find('{', pos);
    const auto close = open == std::string_view::npos ? open : pattern.find('}', open);
    if (close == std::string_view::npos) {
      out.append(pattern.substr(pos));
      break;
    }
    out.append(pattern.substr(pos, open - pos));
    const auto found = values.find(std::string(pattern.substr(open + 1, close - open - 1)));
    if (found != values.end()) out.append(found->second);
    else out.append(pattern.substr(open, close - open + 1));
    pos = close + 1;
  }
  return out;
}

LineSettings parse_line_settings(const ConfigNode& block) {
  LineSettings s;
  block.allow_only({"restaurant", "speed_up", "scenarios"});
  s.speed_up = block.get_double("speed_up", 1.0, 0.01, 1000.0);

  if (auto r = block.optional_child("restaurant")) {
    r->allow_only({"name", "phone", "opening_hours", "tables_per_slot", "slot_minutes", "confirmation_format",
                   "phrases", "offer_alternative_probability", "fully_booked_probability", "seed", "voice", "today",
                   "dial_ms", "ring_ms", "answer_delay_ms", "hangup_after_goodbye_ms", "idle_prompt_ms",
                   "barge_in_after_ms", "max_repeats", "confirmation_styles"});
    s.restaurant_name = r->get_string("name", s.restaurant_name);
    s.restaurant_phone = r->get_string("phone", s.restaurant_phone);
    if (auto hours = r->optional_child("opening_hours")) s.opening_hours = read_opening_hours(*hours, s.opening_hours);
    s.tables_per_slot = static_cast<int>(r->get_int("tables_per_slot", s.tables_per_slot, 0, 1000));
    s.slot_minutes = static_cast<int>(r->get_int("slot_minutes", s.slot_minutes, 5, 240));
    s.confirmation_format = r->get_string("confirmation_format", s.confirmation_format);
    int random_chars = 0;
    for (char c : s.confirmation_format) {
      if (c == '#' || c == 'A') ++random_chars;
      else if (!(std::isdigit(static_cast<unsigned char>(c)) || std::isupper(static_cast<unsigned char>(c)) ||
                 c == '-'))
        r->fail("confirmation_format", "may hold only '#' (a digit), 'A' (a letter), '-', digits and capitals");
    }
    if (random_chars < 3) r->fail("confirmation_format", "needs at least 3 random characters ('#' or 'A')");
    if (auto phrases = r->optional_child("phrases")) s.phrases = parse_phrases(*phrases);
    s.offer_alternative_probability = r->get_double("offer_alternative_probability", 0.0, 0.0, 1.0);
    s.fully_booked_probability = r->get_double("fully_booked_probability", 0.0, 0.0, 1.0);
    if (r->has("seed"))
      s.seed = static_cast<std::uint64_t>(r->get_int("seed", 1, 0, std::numeric_limits<long long>::max()));
    if (r->has("confirmation_styles")) {
      s.confirmation_styles = r->get_string_list("confirmation_styles");
      if (s.confirmation_styles.empty()) r->fail("confirmation_styles", "needs at least one style");
      for (const std::string& style : s.confirmation_styles)
        if (style != "digits" && style != "words" && style != "grouped" && style != "nato" && style != "names" &&
            style != "correction")
          r->fail("confirmation_styles",
                  "\"" + style + "\" is not a style: use digits, words, grouped, nato, names and/or correction");
    }
    if (auto voice = r->optional_child("voice")) {
      voice->allow_only({"pitch_hz", "words_per_minute"});
      s.voice.pitch_hz = voice->get_double("pitch_hz", s.voice.pitch_hz, 60.0, 400.0);
      s.voice.words_per_minute = voice->get_double("words_per_minute", s.voice.words_per_minute, 60.0, 400.0);
    }
    if (r->has("today")) {
      const auto today = parse_iso_date(r->get_string("today", ""));
      if (!today) r->fail("today", "expected a date as YYYY-MM-DD");
      s.today = *today;
    }
    s.dial = get_ms(*r, "dial_ms", s.dial.count());
    s.ring = get_ms(*r, "ring_ms", s.ring.count());
    s.answer_delay = get_ms(*r, "answer_delay_ms", s.answer_delay.count());
    s.hangup_after_goodbye = get_ms(*r, "hangup_after_goodbye_ms", s.hangup_after_goodbye.count());
    s.idle_prompt = get_ms(*r, "idle_prompt_ms", s.idle_prompt.count());
    s.barge_in_after = get_ms(*r, "barge_in_after_ms", s.barge_in_after.count());
    s.max_repeats = static_cast<int>(r->get_int("max_repeats", s.max_repeats, 0, 20));
  }

  if (auto scenarios = block.optional_child("scenarios")) {
    if (scenarios->yaml() && scenarios->yaml().IsMap())
      for (const auto& item : scenarios->yaml()) {
        const std::string number = item.first.Scalar();
        s.scenarios[number] = parse_scenario(*scenarios, number, item.second);
      }
  }
  return s;
}

}  // namespace concierge::sim
