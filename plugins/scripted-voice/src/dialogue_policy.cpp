#include "dialogue_policy.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "concierge/speech/spoken.hpp"

namespace concierge::scripted {
namespace {

bool has_word(const std::vector<std::string>& words, std::string_view word) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

bool contains(const std::string& lower_text, std::initializer_list<std::string_view> phrases) {
  return std::any_of(phrases.begin(), phrases.end(),
                     [&](std::string_view p) { return lower_text.find(p) != std::string::npos; });
}

// Every time of day in a sentence, in order ("we don't have 7 PM, but I could do 8:30 PM" -> 19:00, 20:30).
std::vector<int> times_in(std::string_view text) {
  std::vector<int> times;
  std::size_t offset = 0;
  while (offset < text.size()) {
    const auto found = find_time_of_day(text.substr(offset));
    if (!found) break;
    times.push_back(found->first);
    // Continue after the word the time starts with, and after an "am"/"pm" that belongs to it.
    std::size_t next = offset + found->second;
    while (next < text.size() && !std::isspace(static_cast<unsigned char>(text[next]))) ++next;
    for (std::string_view suffix : {" pm", " am", " p.m.", " a.m.", " o'clock"})
      if (to_lower(text.substr(next, suffix.size())) == suffix) next += suffix.size();
    offset = next;
  }
  return times;
}

bool is_affirmative(std::string_view text) {
  const auto words = words_of(text);
  for (std::string_view w : {"yes", "yeah", "yep", "correct", "right", "exactly", "perfect", "great"})
    if (has_word(words, w)) return true;
  return false;
}

bool is_negative(std::string_view text) {
  const auto words = words_of(text);
  return has_word(words, "no") || has_word(words, "not") || has_word(words, "wrong") || has_word(words, "nope");
}

}  // namespace

std::string_view to_string(DialoguePolicy::Stage stage) {
  switch (stage) {
    case DialoguePolicy::Stage::waiting_for_greeting: return "waiting_for_greeting";
    case DialoguePolicy::Stage::negotiating: return "negotiating";
    case DialoguePolicy::Stage::readback: return "readback";
    case DialoguePolicy::Stage::confirming: return "confirming";
    case DialoguePolicy::Stage::voicemail: return "voicemail";
    case DialoguePolicy::Stage::ended: return "ended";
  }
  return "?";
}

ReservationTask ReservationTask::from_json(const nlohmann::json& task) {
  if (!task.is_object()) throw std::invalid_argument("the task is not a JSON object");
  auto text = [&](const char* key, bool required) -> std::string {
    if (!task.contains(key) || task[key].is_null()) {
      if (required) throw std::invalid_argument(std::string("the task has no \"") + key + "\"");
      return {};
    }
    if (!task[key].is_string()) throw std::invalid_argument(std::string("task.") + key + " is not a string");
    return task[key].get<std::string>();
  };
  ReservationTask t;
  t.restaurant = text("restaurant", false);
  t.date = text("date", true);
  const auto date = parse_iso_date(t.date);
  if (!date) throw std::invalid_argument("task.date is not a YYYY-MM-DD date: " + t.date);
  t.date_spoken = text("date_spoken", false);
  if (t.date_spoken.empty()) t.date_spoken = say_date(*date, *date);
  const auto time = parse_time_of_day(text("time", true));
  if (!time) throw std::invalid_argument("task.time is not a time of day: " + task["time"].dump());
  t.time = *time;
  t.time_spoken = text("time_spoken", false);
  if (t.time_spoken.empty()) t.time_spoken = say_time(t.time);
  if (!task.contains("party_size") || !task["party_size"].is_number_integer() || task["party_size"].get<int>() < 1)
    throw std::invalid_argument("task.party_size must be a positive whole number");
  t.party_size = task["party_size"].get<int>();
  t.customer_name = text("customer_name", true);
  t.customer_phone = text("customer_phone", true);
  if (task.contains("time_tolerance_minutes") && task["time_tolerance_minutes"].is_number_integer())
    t.time_tolerance_minutes = std::max(0, task["time_tolerance_minutes"].get<int>());
  t.special_requests = text("special_requests", false);
  t.disclosure = text("disclosure", false);
  if (const auto vm = task.find("voicemail"); vm != task.end() && vm->is_object() &&
                                              vm->value("policy", "") == "leave_message" &&
                                              vm->contains("message") && (*vm)["message"].is_string())
    t.voicemail_message = (*vm)["message"].get<std::string>();
  return t;
}

DialoguePolicy::DialoguePolicy(ReservationTask task, int max_misunderstandings)
    : task_(std::move(task)), max_misunderstandings_(max_misunderstandings) {}

std::string DialoguePolicy::speak_phone_number(std::string_view number) {
  std::string digits;
  for (char c : number)
    if (std::isdigit(static_cast<unsigned char>(c))) digits.push_back(c);
  // A North American number is said without its country code, as 3-3-4; others in threes, the rest at the end.
  if (digits.size() == 11 && digits[0] == '1') digits.erase(0, 1);
  std::vector<std::size_t> groups;
  if (digits.size() == 10) groups = {3, 3, 4};
  else
    for (std::size_t left = digits.size(); left > 0;) {
      const std::size_t g = left > 4 ? 3 : left;
      groups.push_back(g);
      left -= g;
    }
  std::string spoken;
  std::size_t pos = 0;
  for (std::size_t g : groups) {
    if (!spoken.empty()) spoken += ", ";
    for (std::size_t i = 0; i < g; ++i) spoken += (i ? " " : "") + say_number(digits[pos + i] - '0');
    pos += g;
  }
  return spoken;
}

std::string DialoguePolicy::request_sentence() const {
  // The disclosure (who is calling, for whom) opens the request when the task carries one.
  return (task_.disclosure.empty() ? std::string("Hi, ") : task_.disclosure + " ") +
         "I'd like to book a table for " + std::to_string(task_.party_size) +
         (task_.party_size == 1 ? " person" : " people") + " on " + task_.date_spoken + " at " + task_.time_spoken +
         ", please.";
}

Plan DialoguePolicy::say(std::string text) {
  last_said_ = text;
  return {Action::say(std::move(text))};
}

Plan DialoguePolicy::end_call(std::string goodbye, std::string reason, std::string summary) {
  stage_ = Stage::ended;
  last_said_ = goodbye;
  return {Action::say(std::move(goodbye)),
          Action::call("end_call", {{"reason", std::move(reason)}, {"summary", std::move(summary)}})};
}

Plan DialoguePolicy::misunderstood() {
  if (++misunderstandings_ > max_misunderstandings_)
    return end_call("I'm sorry, I'm having trouble understanding. I'll call back later. Goodbye!", "other",
                    "Gave up after " + std::to_string(misunderstandings_) + " misunderstandings.");
  return say("Sorry, could you say that again?");
}

void DialoguePolicy::on_interrupted(std::string_view said) { interrupted_ = std::string(said); }

bool DialoguePolicy::is_voicemail_greeting(std::string_view text) {
  const std::string l = to_lower(text);
  return contains(l, {"leave a message", "leave your message", "after the tone", "after the beep", "voicemail",
                      "voice mail", "mailbox", "record your message"});
}

Plan DialoguePolicy::on_beep() {
  if (stage_ != Stage::voicemail || task_.voicemail_message.empty()) return {};
  stage_ = Stage::ended;
  last_said_ = task_.voicemail_message;
  return {Action::say(task_.voicemail_message),
          Action::call("end_call", {{"reason", "voicemail_left"}, {"summary", "Left a voicemail message."}})};
}

Plan DialoguePolicy::on_silence() {
  if (stage_ == Stage::voicemail) {  // the greeting ended and no beep came: no message without one
    stage_ = Stage::ended;
    return {Action::call("end_call", {{"reason", "voicemail"},
                                      {"summary", "Voicemail answered and no beep was heard; no message was left."}})};
  }
  if (stage_ == Stage::ended || stage_ == Stage::confirming) return {};
  if (++silences_ > 1)
    return end_call("I can't hear anyone, so I'll try again later. Goodbye!", "other",
                    "Nobody spoke on the line.");
  return say("Hello? Is anyone there?");
}

bool DialoguePolicy::is_menu(std::string_view text) {
  const std::string l = to_lower(text);
  for (std::size_t at = l.find("press "); at != std::string::npos; at = l.find("press ", at + 1)) {
    const std::string_view rest = std::string_view(l).substr(at + 6);
    if (!rest.empty() && (std::isdigit(static_cast<unsigned char>(rest[0])) || rest[0] == '*' || rest[0] == '#'))
      return true;
    for (std::string_view word : {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"})
      if (rest.substr(0, word.size()) == word) return true;
  }
  return false;
}

std::optional<std::string> DialoguePolicy::menu_choice(std::string_view text) {
  // Menus read options as "For <what>, press <key>." or "Press <key> for <what>,". Split into clauses at punctuation;
  // a clause with "press <key>" and other words is its own option ("press 3 to make a reservation"), a bare
  // "press <key>" belongs to the clause before it ("for reservations", "press 1").
  static constexpr std::string_view kKeyWords[][2] = {{"zero", "0"}, {"one", "1"},   {"two", "2"},  {"three", "3"},
                                                       {"four", "4"}, {"five", "5"},  {"six", "6"},  {"seven", "7"},
                                                       {"eight", "8"}, {"nine", "9"}, {"star", "*"}, {"pound", "#"},
                                                       {"hash", "#"}};
  struct Clause {
    std::string text, key;  // key: the "press <key>" in it, if any
    std::string rest;       // the clause without "press <key>"
  };
  std::vector<Clause> clauses;
  const std::string l = to_lower(text);
  std::size_t from = 0;
  while (from < l.size()) {
    std::size_t stop = l.find_first_of(".,;!?", from);
    if (stop == std::string::npos) stop = l.size();
    Clause c{l.substr(from, stop - from), {}, {}};
    c.rest = c.text;
    if (const std::size_t at = c.text.find("press "); at != std::string::npos) {
      std::size_t key_end = at + 6;
      while (key_end < c.text.size() && std::isalnum(static_cast<unsigned char>(c.text[key_end]))) ++key_end;
      const std::string word = c.text.substr(at + 6, key_end - at - 6);
      if (word.size() == 1 && std::isdigit(static_cast<unsigned char>(word[0]))) c.key = word;
      for (const auto& [name, digit] : kKeyWords)
        if (word == name) c.key = digit;
      if (key_end < c.text.size() && (c.text[key_end] == '*' || c.text[key_end] == '#') && word.empty())
        c.key = c.text.substr(key_end, 1), ++key_end;
      if (!c.key.empty()) c.rest = c.text.substr(0, at) + " " + c.text.substr(key_end);
    }
    clauses.push_back(std::move(c));
    from = stop + 1;
  }
  auto has_words = [](const std::string& t) {
    return std::any_of(t.begin(), t.end(), [](unsigned char ch) { return std::isalpha(ch); });
  };
  struct Option {
    std::string key, what;
  };
  std::vector<Option> options;
  for (std::size_t i = 0; i < clauses.size(); ++i) {
    if (clauses[i].key.empty()) continue;
    std::string what = clauses[i].rest;
    if (!has_words(what) && i > 0 && clauses[i - 1].key.empty()) what = clauses[i - 1].text;
    options.push_back({clauses[i].key, what});
  }
  for (const auto& o : options)
    if (contains(o.what, {"reserv", "booking", "book a", "table"})) return o.key;
  for (const auto& o : options)
    if (contains(o.what, {"operator", "speak", "talk", "someone", "person", "host", "staff", "representative",
                          "front desk", "all other", "anything else"}))
      return o.key;
  return std::nullopt;
}

Plan DialoguePolicy::on_callee_text(std::string_view text) {
  if (stage_ == Stage::ended || stage_ == Stage::confirming) return {};
  silences_ = 0;
  const std::string l = to_lower(text);
  const auto words = words_of(text);

  // A phone menu before any person: press the key it names (at most a few times: a menu that never reaches anyone
  // is given up on below, by the misunderstanding count).
  if (stage_ == Stage::waiting_for_greeting) {
    if (const auto key = menu_choice(text); key && menu_presses_ < 3) {
      ++menu_presses_;
      return {Action::call("press_keys", {{"keys", *key}})};
    }
    // A menu (it reads "press <key>" options) with nothing for reservations or a person, or one still reading itself
    // after three presses: it leads nowhere, and talking to it would not help.
    if (is_menu(text))
      return {Action::call("end_call", {{"reason", "menu_dead_end"},
                                        {"summary", "The phone menu has no option for reservations or a person."}})};
    if (contains(l, {"please hold", "connecting you", "connect you", "transferring", "transfer you"})) return {};
  }

  if (stage_ == Stage::voicemail) return {};  // more of the greeting: the beep decides
  if (stage_ == Stage::waiting_for_greeting && is_voicemail_greeting(text)) {
    if (task_.voicemail_message.empty()) {
      stage_ = Stage::ended;
      return {Action::call("end_call", {{"reason", "voicemail"}, {"summary", "Voicemail answered; no message left."}})};
    }
    stage_ = Stage::voicemail;
    return {};
  }
  if (stage_ == Stage::waiting_for_greeting) {
    if (contains(l, {"hold on", "one moment", "one second", "just a moment"}) && !contains(l, {"go ahead"})) return {};
    stage_ = Stage::negotiating;
    return say(request_sentence());
  }

  // After being talked over: say again what was cut off.
  if (contains(l, {"go ahead", "carry on", "continue"}) && !interrupted_.empty()) {
    std::string again = std::move(interrupted_);
    interrupted_.clear();
    return say(std::move(again));
  }
  if (contains(l, {"hold on", "one moment", "one second", "just a moment", "bear with me"})) return {};

  // A confirmation number, given or corrected.
  std::optional<std::string> code = find_confirmation_code(text);
  if (!code && stage_ == Stage::readback && is_negative(text)) {
    // "No, sorry, it's four five seven two": the correction follows "it's" / "is".
    std::size_t at = l.rfind("it's");
    at = at == std::string::npos ? l.rfind(" is ") : at + 4;
    if (at != std::string::npos) {
      std::string corrected = normalize_spoken_code(text.substr(at));
      if (corrected.size() >= 3) code = corrected;
    }
  }
  if (code) {
    if (++readback_attempts_ > 3)
      return end_call("I'm sorry, I'll call back to check the number. Goodbye!", "other",
                      "Could not agree on the confirmation number.");
    code_ = *code;
    stage_ = Stage::readback;
    return say("Let me read that back: " + spell_code(code_) + ".");
  }
  if (stage_ == Stage::readback) {
    if (is_affirmative(text) && !is_negative(text)) {
      stage_ = Stage::confirming;
      return {Action::call("confirm_reservation",
                           {{"confirmation_number", code_},
                            {"date", task_.date},
                            {"time", format_hh_mm(agreed_time_.value_or(task_.time))},
                            {"party_size", task_.party_size}})};
    }
  }

  if (contains(l, {"repeat", "say that again", "pardon", "didn't catch", "didn't get that"}))
    return last_said_.empty() ? misunderstood() : say(last_said_);
  if (contains(l, {"still there", "are you there"})) return say("Yes, I'm still here.");

  // An offer: a time that is neither the one asked for nor one already agreed. The last one said is the offer
  // ("we don't have 7 PM, but I could do 8:30 PM"; "we're open 5 to 10, I could do 9:30").
  const auto times = times_in(text);
  std::optional<int> offered;
  for (int t : times)
    if (t != task_.time && (!agreed_time_ || t != *agreed_time_)) offered = t;
  if (offered && stage_ == Stage::negotiating) {
    const int difference = std::abs(*offered - task_.time);
    if (difference <= task_.time_tolerance_minutes) {
      agreed_time_ = *offered;
      return say("Yes, " + say_time(*offered) + " works for us.");
    }
    return end_call("Unfortunately " + say_time(*offered) + " doesn't work for us. Thank you anyway, goodbye!",
                    "declined",
                    "The restaurant offered " + say_time(*offered) + " instead of " + task_.time_spoken + ", " +
                        std::to_string(difference) + " minutes off (the tolerance is " +
                        std::to_string(task_.time_tolerance_minutes) + "); declined.");
  }
  if (contains(l, {"fully booked", "booked up", "no tables", "nothing available", "no availability",
                   "we're closed", "we are closed", "don't have anything", "no table"}))
    return end_call("I understand. Thank you anyway, goodbye!", "unavailable",
                    "The restaurant has no table for " + std::to_string(task_.party_size) + " on " +
                        task_.date_spoken + " at " + task_.time_spoken + ".");

  if (has_word(words, "name")) return say("It's under " + task_.customer_name + ".");
  if (contains(l, {"phone", "reach you", "contact number", "call you", "callback number"}))
    return say("Sure, it's " + speak_phone_number(task_.customer_phone) + ".");
  if (contains(l, {"how many", "party size", "how large"}))
    return say("For " + std::to_string(task_.party_size) + (task_.party_size == 1 ? " person." : " people."));
  if (contains(l, {"which day", "what day", "what date", "which date", "for when"}))
    return say("On " + task_.date_spoken + ".");
  if (contains(l, {"what time", "which time", "time would you like"}))
    return say("At " + task_.time_spoken + ".");
  if (contains(l, {"goodbye", "bye"}) || (stage_ == Stage::negotiating && contains(l, {"couldn't help"})))
    return end_call("Goodbye!", "other", "The restaurant ended the conversation before a booking was made.");
  return misunderstood();
}

Plan DialoguePolicy::on_tool_result(std::string_view tool, const nlohmann::json& output) {
  if (tool != "confirm_reservation" || stage_ != Stage::confirming) return {};
  const bool ok = output.is_object() && output.value("ok", false);
  const std::string time_spoken = say_time(agreed_time_.value_or(task_.time));
  if (!ok)
    return end_call("Thank you, I'll have to call back about this. Goodbye!", "other",
                    "The booking could not be recorded: " +
                        (output.is_object() && output.contains("error") ? output["error"].dump() : output.dump()));
  return end_call("Perfect, thank you so much. Goodbye!", "confirmed",
                  "Booked a table for " + std::to_string(task_.party_size) + " on " + task_.date_spoken + " at " +
                      time_spoken + ", confirmation number " + code_ + ".");
}

}  // namespace concierge::scripted
