#include "concierge/speech/spoken.hpp"

// How this file reads text: tokenize once (lower-case words, digit runs, single punctuation marks, each with its
// byte range in the original), then match small grammars at a token position. Each matcher returns how far it got,
// so the "find" functions can scan a sentence and the "parse" functions can insist the whole text was consumed.
// The rules themselves are documented in spoken.hpp; comments here explain the non-obvious choices.

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

namespace concierge {
namespace {

namespace chr = std::chrono;

struct Token {
  std::string text;        // lower-case; apostrophes removed ("o'clock" -> "oclock", "it's" -> "its")
  std::size_t begin = 0;   // byte range in the original text
  std::size_t end = 0;
  bool upper = false;      // every letter was a capital in the original ("ABC", "R")
  char punct = 0;          // the character when this token is one punctuation mark
  bool is_word() const { return punct == 0; }
  bool all_digits() const {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
  }
  bool all_letters() const {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isalpha(c); });
  }
  bool has_digit() const {
    return std::any_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
  }
  bool has_letter() const {
    return std::any_of(text.begin(), text.end(), [](unsigned char c) { return std::isalpha(c); });
  }
};
using Tokens = std::vector<Token>;

bool is_punct_token_char(char c) {
  switch (c) {
    case ':': case '-': case '/': case ',': case '.': case '#': case '?': case '!': case ';': case '+':
      return true;
    default:
      return false;
  }
}

Tokens tokenize(std::string_view text) {
  Tokens out;
  std::size_t i = 0;
  const std::size_t n = text.size();
  auto is_apostrophe_at = [&](std::size_t k) -> std::size_t {  // length of an apostrophe at k, 0 if none
    if (k < n && text[k] == '\'') return 1;
    if (k + 2 < n && static_cast<unsigned char>(text[k]) == 0xE2 && static_cast<unsigned char>(text[k + 1]) == 0x80 &&
        static_cast<unsigned char>(text[k + 2]) == 0x99)
      return 3;  // U+2019, the typographic apostrophe phones and word processors insert
    return 0;
  };
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (std::isalnum(c)) {
      Token token;
      token.begin = i;
      bool any_lower = false, any_letter = false;
      while (i < n) {
        const unsigned char d = static_cast<unsigned char>(text[i]);
        if (std::isalnum(d)) {
          if (std::isalpha(d)) {
            any_letter = true;
            if (std::islower(d)) any_lower = true;
          }
          token.text.push_back(static_cast<char>(std::tolower(d)));
          ++i;
          continue;
        }
        // An apostrophe between letters belongs to the word ("o'clock", "it's"), elsewhere it is a quote mark.
        if (std::size_t len = is_apostrophe_at(i); len > 0 && i + len < n &&
                                                   std::isalpha(static_cast<unsigned char>(text[i + len]))) {
          i += len;
          continue;
        }
        break;
      }
      token.end = i;
      token.upper = any_letter && !any_lower;
      out.push_back(std::move(token));
    } else if (c == 0xE2 && i + 2 < n && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(text[i + 2]) == 0x94 || static_cast<unsigned char>(text[i + 2]) == 0x93 ||
                static_cast<unsigned char>(text[i + 2]) == 0xA6)) {
      // An em/en dash or an ellipsis between spoken groups is a pause ("9 1 8 2 — 9 1 8 2"), read as a full stop.
      Token token;
      token.text = ";";
      token.punct = ';';  // ends a spoken code where a '.' between single characters would not
      token.begin = i;
      token.end = i + 3;
      out.push_back(std::move(token));
      i += 3;
    } else if (is_punct_token_char(static_cast<char>(c))) {
      Token token;
      token.text = std::string(1, static_cast<char>(c));
      token.punct = static_cast<char>(c);
      token.begin = i;
      token.end = i + 1;
      out.push_back(std::move(token));
      ++i;
    } else {
      ++i;
    }
  }
  // "p.m." / "7p.m." arrive as ["p" | "7p"] "." "m" ["."]: join them into "pm" / "7pm" so the time grammar sees one
  // meridiem token.
  Tokens merged;
  for (std::size_t k = 0; k < out.size(); ++k) {
    Token token = out[k];
    const char last = token.text.empty() ? 0 : token.text.back();
    const bool meridiem_head = token.is_word() && (last == 'a' || last == 'p') &&
                               (token.text.size() == 1 || std::isdigit(static_cast<unsigned char>(token.text[0])));
    if (meridiem_head && k + 2 < out.size() && out[k + 1].punct == '.' && out[k + 2].text == "m" &&
        out[k + 1].begin == token.end && out[k + 2].begin == out[k + 1].end) {
      token.text += 'm';
      token.end = out[k + 2].end;
      k += 2;
      if (k + 1 < out.size() && out[k + 1].punct == '.' && out[k + 1].begin == token.end) {
        token.end = out[k + 1].end;
        ++k;
      }
    }
    merged.push_back(std::move(token));
  }
  return merged;
}

// ---- number words ---------------------------------------------------------------------------------------------

constexpr std::array<std::string_view, 10> kUnits = {"zero", "one", "two", "three", "four",
                                                      "five", "six", "seven", "eight", "nine"};
constexpr std::array<std::string_view, 10> kTeens = {"ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                                                     "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
constexpr std::array<std::string_view, 10> kTens = {"", "", "twenty", "thirty", "forty",
                                                    "fifty", "sixty", "seventy", "eighty", "ninety"};

int index_of(std::string_view word, const auto& table) {
  for (std::size_t k = 0; k < table.size(); ++k)
    if (!table[k].empty() && table[k] == word) return static_cast<int>(k);
  return -1;
}
int unit_value(std::string_view w) { return index_of(w, kUnits); }
int teen_value(std::string_view w) {
  const int k = index_of(w, kTeens);
  return k < 0 ? -1 : 10 + k;
}
int tens_value(std::string_view w) {
  if (w == "fourty") return 40;  // common misspelling
  const int k = index_of(w, kTens);
  return k < 0 ? -1 : 10 * k;
}

struct NumberMatch {
  int value = 0;
  std::size_t next = 0;  // first token after the number
  bool words = false;    // spelled out rather than digits
};

const Token* at(const Tokens& t, std::size_t i) { return i < t.size() ? &t[i] : nullptr; }
bool text_is(const Tokens& t, std::size_t i, std::string_view word) { return i < t.size() && t[i].text == word; }

// A number at token i: one digit run, or number words by a small grammar ("twenty two", "twenty-two",
// "one hundred and five", "two thousand twenty six", "a dozen"). Stops where the grammar stops, so "seven thirty"
// yields 7 and leaves "thirty" for the caller (the time grammar reads it as minutes).
std::optional<NumberMatch> match_number(const Tokens& t, std::size_t i) {
  const Token* first = at(t, i);
  if (!first || !first->is_word()) return std::nullopt;
  if (first->all_digits()) {
    if (first->text.size() > 9) return std::nullopt;
    return NumberMatch{std::stoi(first->text), i + 1, false};
  }
  if ((first->text == "a" || first->text == "one") && text_is(t, i + 1, "dozen")) return NumberMatch{12, i + 2, true};
  if (first->text == "dozen") return NumberMatch{12, i + 1, true};

  enum class Last { none, unit, teen, tens, hundred, thousand };
  Last last = Last::none;
  int total = 0, current = 0;
  std::size_t k = i, end = i;
  while (k < t.size()) {
    const std::string& w = t[k].text;
    int v;
    if ((v = unit_value(w)) >= 0) {
      if (last == Last::unit || last == Last::teen) break;
      if (last == Last::none && v == 0 && text_is(t, k + 1, "hundred")) break;
      current += v;
      last = Last::unit;
    } else if ((v = teen_value(w)) >= 0) {
      if (last != Last::none && last != Last::hundred && last != Last::thousand) break;
      current += v;
      last = Last::teen;
    } else if ((v = tens_value(w)) >= 0) {
      if (last != Last::none && last != Last::hundred && last != Last::thousand) break;
      current += v;
      last = Last::tens;
      // "twenty-two": the dash belongs to the number when a unit follows it.
      if (text_is(t, k + 1, "-") && k + 2 < t.size() && unit_value(t[k + 2].text) > 0) ++k;
    } else if (w == "hundred") {
      if ((last != Last::unit && last != Last::teen) || current <= 0 || current > 99) break;
      current *= 100;
      last = Last::hundred;
    } else if (w == "thousand") {
      if (last == Last::none || last == Last::thousand || current <= 0) break;
      total += current * 1000;
      current = 0;
      last = Last::thousand;
    } else if (w == "and" && (last == Last::hundred || last == Last::thousand) && k + 1 < t.size() &&
               (unit_value(t[k + 1].text) > 0 || teen_value(t[k + 1].text) > 0 || tens_value(t[k + 1].text) > 0)) {
      ++k;
      continue;  // "one hundred and five": "and" joins, it does not end the number
    } else {
      break;
    }
    ++k;
    end = k;
  }
  if (last == Last::none) return std::nullopt;
  return NumberMatch{total + current, end, true};
}

// Ordinals for days of the month: "3rd", "3", "third", "twenty-first", "thirty first".
std::optional<NumberMatch> match_day_number(const Tokens& t, std::size_t i) {
  static const std::array<std::string_view, 20> ordinals = {
      "",          "first",      "second",     "third",     "fourth",     "fifth",     "sixth",
      "seventh",   "eighth",     "ninth",      "tenth",     "eleventh",   "twelfth",   "thirteenth",
      "fourteenth", "fifteenth", "sixteenth",  "seventeenth", "eighteenth", "nineteenth"};
  const Token* tok = at(t, i);
  if (!tok || !tok->is_word()) return std::nullopt;
  const std::string& w = tok->text;
  std::size_t digits = 0;
  while (digits < w.size() && std::isdigit(static_cast<unsigned char>(w[digits]))) ++digits;
  if (digits > 0 && digits <= 2) {
    const std::string suffix = w.substr(digits);
    if (suffix.empty() || suffix == "st" || suffix == "nd" || suffix == "rd" || suffix == "th") {
      const int day = std::stoi(w.substr(0, digits));
      if (day >= 1 && day <= 31) return NumberMatch{day, i + 1, false};
    }
    return std::nullopt;
  }
  if (const int k = index_of(w, ordinals); k > 0) return NumberMatch{k, i + 1, true};
  if (w == "twentieth") return NumberMatch{20, i + 1, true};
  if (w == "thirtieth") return NumberMatch{30, i + 1, true};
  if (w == "twenty" || w == "thirty") {
    std::size_t k = i + 1;
    if (text_is(t, k, "-")) ++k;
    if (const Token* u = at(t, k)) {
      const int o = index_of(u->text, ordinals);
      if (o >= 1 && o <= 9) {
        const int day = (w == "twenty" ? 20 : 30) + o;
        if (day <= 31) return NumberMatch{day, k + 1, true};
      }
    }
  }
  return std::nullopt;
}

// ---- times of day -----------------------------------------------------------------------------------------------

enum class Meridiem { none, am, pm };

struct TimeMatch {
  int minutes = 0;
  std::size_t begin = 0;  // first token of the time
  std::size_t next = 0;   // first token after it
  bool marked = false;    // said in a way that can only be a time (am/pm, colon, o'clock, "half past", ...)
  bool definite = false;  // morning or evening was said (am/pm, "in the evening", noon, a 24-hour clock)
};

// "in the morning", "tonight", "in the evening", ... after a time: returns the meridiem and advances k.
Meridiem match_day_period(const Tokens& t, std::size_t& k) {
  if (text_is(t, k, "tonight")) { ++k; return Meridiem::pm; }
  if (text_is(t, k, "in") && text_is(t, k + 1, "the")) {
    if (text_is(t, k + 2, "morning")) { k += 3; return Meridiem::am; }
    if (text_is(t, k + 2, "afternoon") || text_is(t, k + 2, "evening")) { k += 3; return Meridiem::pm; }
  }
  if (text_is(t, k, "this") && (text_is(t, k + 1, "evening") || text_is(t, k + 1, "afternoon"))) {
    k += 2;
    return Meridiem::pm;
  }
  if (text_is(t, k, "this") && text_is(t, k + 1, "morning")) { k += 2; return Meridiem::am; }
  if (text_is(t, k, "at") && text_is(t, k + 1, "night")) { k += 2; return Meridiem::pm; }
  return Meridiem::none;
}

Meridiem match_meridiem_word(const Tokens& t, std::size_t& k) {
  if (text_is(t, k, "am")) { ++k; return Meridiem::am; }
  if (text_is(t, k, "pm")) { ++k; return Meridiem::pm; }
  // "7 p m" (a speech recogniser's spelling)
  if ((text_is(t, k, "a") || text_is(t, k, "p")) && text_is(t, k + 1, "m")) {
    const Meridiem m = t[k].text == "a" ? Meridiem::am : Meridiem::pm;
    k += 2;
    return m;
  }
  return Meridiem::none;
}

// Turns hour/minute as said into minutes since midnight by the rules in spoken.hpp; nullopt when impossible.
std::optional<int> resolve_time(int hour, int minute, Meridiem meridiem, bool twenty_four_hour) {
  if (minute < 0 || minute > 59 || hour < 0 || hour > 23) return std::nullopt;
  if (meridiem != Meridiem::none) {
    if (hour < 1 || hour > 12) {
      // "19:00 pm" is still unambiguous; "0 am" is not a way people speak.
      if (hour >= 13 && meridiem == Meridiem::pm) return hour * 60 + minute;
      return std::nullopt;
    }
    if (meridiem == Meridiem::am) return (hour % 12) * 60 + minute;
    return (hour % 12 + 12) * 60 + minute;
  }
  if (twenty_four_hour || hour == 0 || hour >= 13) return hour * 60 + minute;
  // Dinner rule: a bare 1..10 is an evening hour, 11 is late morning, 12 is noon.
  if (hour <= 10) return (hour + 12) * 60 + minute;
  return hour * 60 + minute;
}

// An hour as said before minutes / am / o'clock: digits (with an optional glued am/pm) or words.
struct HourMatch {
  int hour = -1;
  int minute = -1;            // set when the token carried minutes too ("730pm")
  Meridiem meridiem = Meridiem::none;  // set when glued ("7pm")
  bool two_digit_hour = false;  // "07", "10", "19": with a colon, a 24-hour clock
  bool words = false;
  std::size_t next = 0;
};

std::optional<HourMatch> match_hour(const Tokens& t, std::size_t i) {
  const Token* tok = at(t, i);
  if (!tok || !tok->is_word()) return std::nullopt;
  const std::string& w = tok->text;
  std::size_t digits = 0;
  while (digits < w.size() && std::isdigit(static_cast<unsigned char>(w[digits]))) ++digits;
  if (digits > 0) {
    const std::string suffix = w.substr(digits);
    HourMatch h;
    h.next = i + 1;
    h.two_digit_hour = digits == 2;
    if (suffix == "am" || suffix == "a") h.meridiem = Meridiem::am;
    else if (suffix == "pm" || suffix == "p") h.meridiem = Meridiem::pm;
    else if (!suffix.empty()) return std::nullopt;  // "3rd", "4x"
    const int value = std::stoi(w.substr(0, std::min<std::size_t>(digits, 6)));
    if (digits <= 2) {
      h.hour = value;
    } else if ((digits == 3 || digits == 4) && h.meridiem != Meridiem::none) {
      h.hour = value / 100;  // "730pm"
      h.minute = value % 100;
    } else {
      return std::nullopt;
    }
    // A glued "a"/"p" without "m" is only a meridiem when nothing odd follows ("7p" yes).
    return h;
  }
  const auto number = match_number(t, i);
  if (!number || number->value > 23) return std::nullopt;
  // Only a single number word can be an hour ("seven", "eleven", "twenty"), so "seven thirty" splits correctly.
  if (number->next != i + 1) {
    // "twenty one hundred"? Not a way people give dinner times; "twenty-one" as an hour is rare but valid.
    if (!(tens_value(t[i].text) == 20 && number->value <= 23)) return std::nullopt;
  }
  HourMatch h;
  h.hour = number->value;
  h.words = true;
  h.next = number->next;
  return h;
}

// Minutes said after an hour word: "thirty", "fifteen", "forty five", "oh five", "o five".
std::optional<NumberMatch> match_minute_words(const Tokens& t, std::size_t i) {
  const Token* tok = at(t, i);
  if (!tok) return std::nullopt;
  if (tok->text == "oh" || tok->text == "o") {
    const Token* u = at(t, i + 1);
    if (!u) return std::nullopt;
    const int v = u->all_digits() && u->text.size() == 1 ? u->text[0] - '0' : unit_value(u->text);
    if (v >= 1 && v <= 9) return NumberMatch{v, i + 2, true};
    return std::nullopt;
  }
  if (teen_value(tok->text) < 0 && tens_value(tok->text) < 0) return std::nullopt;
  auto number = match_number(t, i);
  if (!number || number->value < 10 || number->value > 59) return std::nullopt;
  return number;
}

bool is_people_word(std::string_view w) {
  return w == "people" || w == "persons" || w == "person" || w == "guests" || w == "guest" || w == "adults" ||
         w == "diners" || w == "pax" || w == "covers" || w == "seats" || w == "of";  // "of" for "six of us"
}

std::optional<int> month_from_word(std::string_view w);

std::optional<TimeMatch> match_time(const Tokens& t, std::size_t i) {
  const Token* tok = at(t, i);
  if (!tok || !tok->is_word()) return std::nullopt;

  if (tok->text == "noon" || tok->text == "midday") return TimeMatch{12 * 60, i, i + 1, true, true};
  if (tok->text == "midnight") return TimeMatch{0, i, i + 1, true, true};

  // "half past seven", "quarter to eight", "ten past seven", "twenty to eight"
  {
    int offset = -1;
    std::size_t k = i;
    if (tok->text == "half") { offset = 30; ++k; }
    else if (tok->text == "quarter") { offset = 15; ++k; }
    else if (auto n = match_number(t, i); n && n->value >= 1 && n->value <= 30 &&
                                          (text_is(t, n->next, "past") || text_is(t, n->next, "to") ||
                                           text_is(t, n->next, "after") || text_is(t, n->next, "minutes"))) {
      offset = n->value;
      k = n->next;
      if (text_is(t, k, "minutes")) ++k;
    }
    if (offset >= 0 && (text_is(t, k, "past") || text_is(t, k, "after") || text_is(t, k, "to") ||
                        text_is(t, k, "before"))) {
      const bool before = t[k].text == "to" || t[k].text == "before";
      // "2 to 4 people" is a range, not 3:58: "to" needs a clock-like offset.
      const bool clock_like = tok->text == "half" || tok->text == "quarter" || offset % 5 == 0;
      if (auto h = match_hour(t, k + 1); h && h->minute < 0 && clock_like && !(before && tok->text == "half")) {
        std::size_t next = h->next;
        if (h->hour >= 1 && h->hour <= 12 && !(at(t, next) && is_people_word(t[next].text))) {
          Meridiem m = h->meridiem;
          if (m == Meridiem::none) m = match_meridiem_word(t, next);
          if (m == Meridiem::none) m = match_day_period(t, next);
          int hour = h->hour, minute = offset;
          if (before) {
            hour = hour == 1 ? 12 : hour - 1;
            minute = 60 - offset;
            // "quarter to one" in the afternoon is 12:45, which the dinner rule would read as 12:45 anyway.
          }
          if (auto m2 = resolve_time(hour, minute, m, false))
            return TimeMatch{*m2, i, next, true, m != Meridiem::none};
        }
      }
    }
  }

  auto h = match_hour(t, i);
  if (!h) return std::nullopt;
  std::size_t k = h->next;
  int hour = h->hour;
  int minute = h->minute >= 0 ? h->minute : 0;
  bool marked = h->meridiem != Meridiem::none;
  bool twenty_four = false;
  Meridiem meridiem = h->meridiem;

  if (h->minute < 0 && meridiem == Meridiem::none) {
    const Token* sep = at(t, k);
    const Token* mm = at(t, k + 1);
    if (sep && mm && !h->words && (sep->punct == ':' || sep->punct == '.') && sep->begin == t[k - 1].end &&
        mm->begin == sep->end) {
      // "7:30", "19:00", "7.30pm", "7:30pm"
      const std::string& w = mm->text;
      if (w.size() >= 2 && std::isdigit(static_cast<unsigned char>(w[0])) &&
          std::isdigit(static_cast<unsigned char>(w[1]))) {
        const std::string suffix = w.substr(2);
        if (suffix.empty() || suffix == "am" || suffix == "pm" || suffix == "a" || suffix == "p") {
          minute = std::stoi(w.substr(0, 2));
          if (suffix == "am" || suffix == "a") meridiem = Meridiem::am;
          if (suffix == "pm" || suffix == "p") meridiem = Meridiem::pm;
          marked = true;
          // "10:00" and "07:30" are how 24-hour times are written (and what HH:MM fields carry), while "7:30" is
          // how people write an evening time; so the hour's digit count decides.
          twenty_four = h->two_digit_hour || hour >= 13 || hour == 0;
          k += 2;
        }
      }
    } else if (auto words = match_minute_words(t, k)) {
      minute = words->value;
      marked = true;
      k = words->next;
    } else if (mm && sep && sep->all_digits() && sep->text.size() == 2 && !h->words) {
      // "7 30 pm": two digit runs are a time only when am/pm follows.
      std::size_t probe = k + 1;
      const Meridiem m = match_meridiem_word(t, probe);
      if (m != Meridiem::none) {
        minute = std::stoi(sep->text);
        k += 1;
        marked = true;
      }
    }
  }
  if (text_is(t, k, "oclock")) {
    ++k;
    marked = true;
  }
  if (meridiem == Meridiem::none) {
    meridiem = match_meridiem_word(t, k);
    if (meridiem != Meridiem::none) marked = true;
  }
  if (meridiem == Meridiem::none) {
    // "7 in the evening" can only be a time; "two tonight" / "two this evening" is as often a head count ("a
    // table for two tonight"), so those periods give the half of the day but do not make a number a time.
    const std::size_t before_period = k;
    meridiem = match_day_period(t, k);
    if (meridiem != Meridiem::none && !text_is(t, before_period, "tonight") && !text_is(t, before_period, "this"))
      marked = true;
  }
  if (text_is(t, k, "noon") && hour == 12 && minute == 0) {  // "12 noon"
    ++k;
    marked = true;
  }
  const auto minutes = resolve_time(hour, minute, meridiem, twenty_four);
  if (!minutes) return std::nullopt;
  // "19:30" and "07:30" can only be read one way; "10:45" is a 24-hour time by the rule above, but people who
  // write it may mean the evening, so it is not definite.
  const bool leading_zero = !h->words && t[i].text.size() >= 2 && t[i].text[0] == '0';
  const bool definite = meridiem != Meridiem::none || (!h->words && (hour >= 13 || hour == 0)) ||
                        (twenty_four && (leading_zero || hour >= 13 || hour == 0));
  return TimeMatch{*minutes, i, k, marked, definite};
}

bool is_time_lead_word(std::string_view w) {
  return w == "at" || w == "around" || w == "about" || w == "by" || w == "until" || w == "till" ||
         w == "approximately" || w == "after" || w == "before" || w == "from";
}

// A time in running text: marked, or introduced by "at"/"around"/..., and not followed by something that makes
// the number a date or a head count.
std::optional<TimeMatch> find_time(const Tokens& t, std::size_t from = 0) {
  for (std::size_t i = from; i < t.size(); ++i) {
    auto m = match_time(t, i);
    if (!m) continue;
    if (const Token* after = at(t, m->next); after && !m->marked) {
      if (after->punct == '/' || after->punct == '-' || after->punct == ':' || is_people_word(after->text) ||
          month_from_word(after->text))
        continue;
    }
    if (!m->marked) {
      if (i == 0 || !is_time_lead_word(t[i - 1].text)) continue;
      // "at 2026" is caught by the hour range; "at 555 1234" by the next token being another digit run.
      // ("at 7 4 people" is a time and a head count.)
      if (const Token* after = at(t, m->next); after && after->all_digits() && after->text.size() >= 3) continue;
    }
    return m;
  }
  return std::nullopt;
}

// ---- dates ------------------------------------------------------------------------------------------------------

std::optional<int> month_from_word(std::string_view w) {
  static const std::array<std::string_view, 12> full = {"january", "february", "march",     "april",
                                                        "may",     "june",     "july",      "august",
                                                        "september", "october", "november", "december"};
  for (std::size_t k = 0; k < full.size(); ++k) {
    if (w == full[k]) return static_cast<int>(k + 1);
    // Three-letter abbreviations, plus "sept"; "may" is already whole.
    if (w.size() == 3 && full[k].substr(0, 3) == w) return static_cast<int>(k + 1);
  }
  if (w == "sept") return 9;
  return std::nullopt;
}

std::optional<int> weekday_from_word(std::string_view w) {  // ISO: Monday 1 .. Sunday 7
  static const std::array<std::string_view, 7> full = {"monday", "tuesday",  "wednesday", "thursday",
                                                       "friday", "saturday", "sunday"};
  for (std::size_t k = 0; k < full.size(); ++k)
    if (w == full[k]) return static_cast<int>(k + 1);
  // Abbreviations that are not also ordinary words ("sat", "sun" are).
  if (w == "mon") return 1;
  if (w == "tue" || w == "tues") return 2;
  if (w == "wed") return 3;
  if (w == "thu" || w == "thur" || w == "thurs") return 4;
  if (w == "fri") return 5;
  return std::nullopt;
}

chr::year_month_day add_days(chr::year_month_day d, int days) {
  return chr::year_month_day{chr::sys_days{d} + chr::days{days}};
}

int iso_weekday(chr::year_month_day d) { return static_cast<int>(chr::weekday{chr::sys_days{d}}.iso_encoding()); }

std::optional<chr::year_month_day> make_date(int year, int month, int day) {
  if (month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
  const chr::year_month_day d{chr::year{year}, chr::month{static_cast<unsigned>(month)},
                              chr::day{static_cast<unsigned>(day)}};
  if (!d.ok()) return std::nullopt;
  return d;
}

// Month and day without a year: the first such date from today on.
std::optional<chr::year_month_day> upcoming(int month, int day, chr::year_month_day today) {
  const int year = static_cast<int>(today.year());
  for (int y = year; y <= year + 4; ++y) {  // Feb 29 may be up to four years away
    if (auto d = make_date(y, month, day); d && chr::sys_days{*d} >= chr::sys_days{today}) return d;
  }
  return std::nullopt;
}

std::optional<int> match_year(const Tokens& t, std::size_t& k) {
  std::size_t probe = k;
  if (text_is(t, probe, ",")) ++probe;
  const Token* y = at(t, probe);
  if (y && y->all_digits() && y->text.size() == 4) {
    k = probe + 1;
    return std::stoi(y->text);
  }
  return std::nullopt;
}

struct DateMatch {
  chr::year_month_day date;
  std::size_t begin = 0;
  std::size_t next = 0;
  std::string doubt;  // why this reading is not certain ("" when it is)
};

std::string day_month_words(chr::year_month_day d);

// "a/b[/y]" read with the configured order. Both readings are kept apart so a doubt can name them.
std::optional<DateMatch> slashed_date(int first, int second, std::optional<int> year, std::size_t i, std::size_t next,
                                      chr::year_month_day today, DateOrder order) {
  auto read = [&](int month, int day) -> std::optional<chr::year_month_day> {
    if (year) return make_date(*year, month, day);
    return upcoming(month, day, today);
  };
  const auto month_first = read(first, second), day_first = read(second, first);
  const auto primary = order == DateOrder::day_first ? day_first : month_first;
  const auto other = order == DateOrder::day_first ? month_first : day_first;
  const bool same = month_first && day_first && *month_first == *day_first;
  if (order == DateOrder::ask) {
    if (month_first && day_first && !same)
      return DateMatch{*month_first, i, next,
                       "it could be " + day_month_words(*month_first) + " or " + day_month_words(*day_first)};
    if (month_first) return DateMatch{*month_first, i, next, ""};
    if (day_first) return DateMatch{*day_first, i, next, ""};
    return std::nullopt;
  }
  if (primary) return DateMatch{*primary, i, next, ""};
  if (other)
    return DateMatch{*other, i, next,
                     std::string("it is not a ") + (order == DateOrder::day_first ? "day/month" : "month/day") +
                         " date; did you mean " + day_month_words(*other) + "?"};
  return std::nullopt;
}

// Explicit calendar dates: ISO, slashes, "December 3rd[, 2026]", "3 December", "the 3rd of December".
std::optional<DateMatch> match_calendar_date(const Tokens& t, std::size_t i, chr::year_month_day today,
                                             DateOrder order = DateOrder::month_first) {
  const Token* tok = at(t, i);
  if (!tok || !tok->is_word()) return std::nullopt;
  // ISO 2026-12-03
  if (tok->all_digits() && tok->text.size() == 4 && text_is(t, i + 1, "-") && at(t, i + 2) &&
      t[i + 2].all_digits() && t[i + 2].text.size() <= 2 && text_is(t, i + 3, "-") && at(t, i + 4) &&
      t[i + 4].all_digits() && t[i + 4].text.size() <= 2) {
    if (auto d = make_date(std::stoi(tok->text), std::stoi(t[i + 2].text), std::stoi(t[i + 4].text)))
      return DateMatch{*d, i, i + 5, ""};
    return std::nullopt;
  }
  // US 12/3 or 12/3/2026 or 12/3/26
  if (tok->all_digits() && tok->text.size() <= 2 && text_is(t, i + 1, "/") && at(t, i + 2) &&
      t[i + 2].all_digits() && t[i + 2].text.size() <= 2) {
    const int first = std::stoi(tok->text), second = std::stoi(t[i + 2].text);
    if (text_is(t, i + 3, "/") && at(t, i + 4) && t[i + 4].all_digits() &&
        (t[i + 4].text.size() == 2 || t[i + 4].text.size() == 4)) {
      int year = std::stoi(t[i + 4].text);
      if (t[i + 4].text.size() == 2) year += 2000;
      return slashed_date(first, second, year, i, i + 5, today, order);
    }
    return slashed_date(first, second, std::nullopt, i, i + 3, today, order);
  }
  // Day-first dotted dates, "25.12." or "25.12.2026" (the closing dot or the year tells them from "7.30").
  if (order == DateOrder::day_first && tok->all_digits() && tok->text.size() <= 2 && text_is(t, i + 1, ".") &&
      at(t, i + 2) && t[i + 2].all_digits() && t[i + 2].text.size() <= 2 && text_is(t, i + 3, ".")) {
    const int day = std::stoi(tok->text), month = std::stoi(t[i + 2].text);
    if (at(t, i + 4) && t[i + 4].all_digits() && t[i + 4].text.size() == 4)
      return slashed_date(month, day, std::stoi(t[i + 4].text), i, i + 5, today, DateOrder::month_first);
    return slashed_date(month, day, std::nullopt, i, i + 4, today, DateOrder::month_first);
  }
  // December 3rd[, 2026] / Dec. 3
  if (auto month = month_from_word(tok->text)) {
    // "may" alone is a verb far more often than a month: it needs a day next to it, which this requires anyway.
    std::size_t k = i + 1;
    if (text_is(t, k, ".")) ++k;
    if (text_is(t, k, "the")) ++k;
    if (auto day = match_day_number(t, k)) {
      // "December 3 people" is not a date of the 3rd... but "December 3 at 7" is. Only a head count word vetoes.
      if (const Token* after = at(t, day->next); after && is_people_word(after->text) && after->text != "of")
        return std::nullopt;
      std::size_t next = day->next;
      std::optional<chr::year_month_day> d;
      if (auto year = match_year(t, next)) d = make_date(*year, *month, day->value);
      else d = upcoming(*month, day->value, today);
      if (d) return DateMatch{*d, i, next, ""};
    }
    return std::nullopt;
  }
  // [the] 3rd [of] December [2026]
  {
    std::size_t k = i;
    if (tok->text == "the") ++k;
    if (auto day = match_day_number(t, k)) {
      std::size_t m = day->next;
      if (text_is(t, m, "of")) ++m;
      if (const Token* mw = at(t, m)) {
        if (auto month = month_from_word(mw->text)) {
          std::size_t next = m + 1;
          if (text_is(t, next, ".")) ++next;
          std::optional<chr::year_month_day> d;
          if (auto year = match_year(t, next)) d = make_date(*year, *month, day->value);
          else d = upcoming(*month, day->value, today);
          if (d) return DateMatch{*d, i, next, ""};
          return std::nullopt;
        }
      }
      // "the 3rd" alone: the next 3rd of a month from today on. Needs "the" and an ordinal, so "at 3" is not it.
      if (tok->text == "the" && !t[k].all_digits()) {
        for (int ahead = 0; ahead < 3; ++ahead) {
          const chr::year_month ym = chr::year_month{today.year(), today.month()} + chr::months{ahead};
          const chr::year_month_day d{ym.year(), ym.month(), chr::day{static_cast<unsigned>(day->value)}};
          if (d.ok() && chr::sys_days{d} >= chr::sys_days{today}) return DateMatch{d, i, day->next, ""};
        }
      }
    }
  }
  return std::nullopt;
}

const char* weekday_name(int iso);
const char* month_name(unsigned m);

// "4 December" (for doubts that name two readings).
std::string day_month_words(chr::year_month_day d) {
  return std::to_string(static_cast<unsigned>(d.day())) + " " + month_name(static_cast<unsigned>(d.month()));
}

// Holidays with a fixed or computable date: the first one from today on.
std::optional<DateMatch> match_holiday(const Tokens& t, std::size_t i, chr::year_month_day today) {
  const std::string& w = t[i].text;
  std::size_t k = i;
  int month = 0, day = 0;
  bool thanksgiving = false;
  auto word = [&](std::size_t at_k, std::string_view s) { return text_is(t, at_k, s); };
  auto day_word = [&](std::size_t at_k) { return word(at_k, "day") ? at_k + 1 : at_k; };
  if ((w == "christmas" || w == "xmas") && word(i + 1, "eve")) { month = 12; day = 24; k = i + 2; }
  else if ((w == "christmas" || w == "xmas")) { month = 12; day = 25; k = day_word(i + 1); }
  else if (w == "boxing" && word(i + 1, "day")) { month = 12; day = 26; k = i + 2; }
  else if ((w == "new" && (word(i + 1, "years") || word(i + 1, "year")) && word(i + 2, "eve")) || w == "nye") {
    month = 12; day = 31; k = w == "nye" ? i + 1 : i + 3;
  } else if (w == "new" && (word(i + 1, "years") || word(i + 1, "year")) && word(i + 2, "day")) {
    month = 1; day = 1; k = i + 3;
  } else if ((w == "valentines" || w == "valentine") && word(i + 1, "day")) { month = 2; day = 14; k = i + 2; }
  else if ((w == "st" || w == "saint") && (word(i + 1, "patricks") || word(i + 1, "paddys")) && word(i + 2, "day")) {
    month = 3; day = 17; k = i + 3;
  } else if (w == "halloween") { month = 10; day = 31; k = i + 1; }
  else if (w == "independence" && word(i + 1, "day")) { month = 7; day = 4; k = i + 2; }
  else if (w == "thanksgiving") { thanksgiving = true; k = day_word(i + 1); }
  else return std::nullopt;
  if (thanksgiving) {  // the United States' Thanksgiving: the fourth Thursday of November
    for (int year = static_cast<int>(today.year()); year <= static_cast<int>(today.year()) + 1; ++year) {
      const chr::year_month_day d{chr::sys_days{chr::year{year} / chr::November / chr::Thursday[4]}};
      if (chr::sys_days{d} >= chr::sys_days{today}) return DateMatch{d, i, k, ""};
    }
    return std::nullopt;
  }
  if (auto d = upcoming(month, day, today)) return DateMatch{*d, i, k, ""};
  return std::nullopt;
}

// Relative dates: today, tonight, tomorrow, the day after tomorrow, in N days/weeks, a week from <day>,
// [this|next|on] <weekday>, "<weekday> week", "a week on <weekday>", holidays.
std::optional<DateMatch> match_relative_date(const Tokens& t, std::size_t i, chr::year_month_day today) {
  const Token* tok = at(t, i);
  if (!tok || !tok->is_word()) return std::nullopt;
  const std::string& w = tok->text;
  if (auto holiday = match_holiday(t, i, today)) return holiday;
  if (w == "today" || w == "tonight") return DateMatch{today, i, i + 1, ""};
  if (w == "yesterday") return DateMatch{add_days(today, -1), i, i + 1, ""};
  if (w == "this" && (text_is(t, i + 1, "evening") || text_is(t, i + 1, "afternoon")))
    return DateMatch{today, i, i + 2, ""};
  if (w == "day" && text_is(t, i + 1, "after") && text_is(t, i + 2, "tomorrow"))
    return DateMatch{add_days(today, 2), i, i + 3, ""};
  if (w == "the" && text_is(t, i + 1, "day") && text_is(t, i + 2, "after") && text_is(t, i + 3, "tomorrow"))
    return DateMatch{add_days(today, 2), i, i + 4, ""};
  if (w == "tomorrow") return DateMatch{add_days(today, 1), i, i + 1, ""};

  // An amount of days or weeks: "two", "a", "a couple of" is not (it is vague).
  auto amount = [&](std::size_t k) -> std::optional<NumberMatch> {
    if (text_is(t, k, "a") || text_is(t, k, "one")) return NumberMatch{1, k + 1, true};
    return match_number(t, k);
  };
  auto unit_days = [&](std::size_t k, std::size_t* after) -> int {
    if (text_is(t, k, "days") || text_is(t, k, "day")) { *after = k + 1; return 1; }
    if (text_is(t, k, "weeks") || text_is(t, k, "week")) {
      *after = k + 1;
      if (text_is(t, *after, "time") || text_is(t, *after, "times")) ++*after;  // "in two weeks time"
      return 7;
    }
    return 0;
  };
  // "in 3 days", "in two weeks", "in a week"
  if (w == "in") {
    if (auto n = amount(i + 1)) {
      std::size_t after = 0;
      if (const int unit = unit_days(n->next, &after); unit > 0 && n->value * unit <= 366)
        return DateMatch{add_days(today, n->value * unit), i, after, ""};
    }
  }
  // "a week from today", "3 days from now", "two weeks from tomorrow", "a week from Friday"
  if (auto n = amount(i)) {
    std::size_t after = 0;
    if (const int unit = unit_days(n->next, &after); unit > 0 && text_is(t, after, "from")) {
      const std::size_t base_at = after + 1;
      std::optional<chr::year_month_day> base;
      std::size_t next = base_at + 1;
      if (text_is(t, base_at, "today") || text_is(t, base_at, "now")) base = today;
      else if (text_is(t, base_at, "tomorrow")) base = add_days(today, 1);
      else if (auto m = match_relative_date(t, base_at, today)) { base = m->date; next = m->next; }
      if (base && n->value * unit <= 366) return DateMatch{add_days(*base, n->value * unit), i, next, ""};
    }
  }
  // "a week on Friday" (British): a week after the coming Friday.
  if (w == "a" && text_is(t, i + 1, "week") && text_is(t, i + 2, "on") && at(t, i + 3)) {
    if (auto target = weekday_from_word(t[i + 3].text)) {
      const int now = iso_weekday(today);
      return DateMatch{add_days(today, (*target - now + 7) % 7 + 7), i, i + 4, ""};
    }
  }
  const bool next_week = w == "next";
  const bool this_week = w == "this" || w == "coming";
  std::size_t day_at = (w == "next" || w == "this" || w == "on" || w == "coming") ? i + 1 : i;
  if (w == "this" && text_is(t, i + 1, "coming")) day_at = i + 2;  // "this coming Saturday"
  if (const Token* d = at(t, day_at)) {
    if (auto target = weekday_from_word(d->text)) {
      const int now = iso_weekday(today);
      const int ahead = (*target - now + 7) % 7;
      const auto this_one = add_days(today, ahead);
      // "Friday week": a week after the coming Friday.
      if (text_is(t, day_at + 1, "week") && !next_week)
        return DateMatch{add_days(this_one, 7), i, day_at + 2, ""};
      if (next_week) {
        // The <weekday> of the following Monday-to-Sunday week. When this week's is still ahead, people mean
        // either; the reading is kept but doubted.
        const auto next_monday = add_days(today, 8 - now);
        const auto following = add_days(next_monday, *target - 1);
        std::string doubt;
        if (ahead > 0 && *target > now)
          doubt = "it could be this " + std::string(weekday_name(*target)) + " (" + day_month_words(this_one) +
                  ") or the next (" + day_month_words(following) + ")";
        return DateMatch{following, i, day_at + 1, doubt};
      }
      std::string doubt;
      if (ahead == 0 && !this_week)
        doubt = "today is " + std::string(weekday_name(now)) + ": today or " + day_month_words(add_days(today, 7)) +
                "?";
      return DateMatch{this_one, i, day_at + 1, doubt};
    }
  }
  return std::nullopt;
}

const char* month_name(unsigned m) {
  static const char* names[] = {"January", "February", "March",     "April",   "May",      "June",
                                "July",    "August",   "September", "October", "November", "December"};
  return names[(m - 1) % 12];
}
const char* weekday_name(int iso) {
  static const char* names[] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
  return names[(iso - 1) % 7];
}

// ---- spoken codes -----------------------------------------------------------------------------------------------

std::optional<char> nato_letter(std::string_view w) {
  static const std::array<std::string_view, 26> nato = {
      "alpha",  "bravo",   "charlie", "delta",  "echo",    "foxtrot", "golf",   "hotel",   "india",
      "juliet", "kilo",    "lima",    "mike",   "november", "oscar",  "papa",   "quebec",  "romeo",
      "sierra", "tango",   "uniform", "victor", "whiskey", "xray",    "yankee", "zulu"};
  for (std::size_t k = 0; k < nato.size(); ++k)
    if (w == nato[k]) return static_cast<char>('A' + k);
  if (w == "alfa") return 'A';
  if (w == "juliett") return 'J';
  if (w == "whisky") return 'W';
  return std::nullopt;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// How a letter was said, when it was said by its name ("bee", "see") rather than written ("B") or in NATO words.
// A clear name ("bee", "dee", "aitch", "zed") is rarely anything but a letter; an ordinary word that sounds like
// one, or a name people have ("see", "you", "why", "are", "tea", "eye", "be", "jay", "kay", "gee", "ex", "el") is
// a letter only between two characters of the code, one of them a letter: "bee see four four one" is BC441, while
// "let me see, 1 9 9 3", "it'll be B 4 4 1" and "4 4 1 bee see you then" keep their words. A name alone, or names
// with nothing else, are never a code.
enum class LetterName { none, clear, word_like };

struct LetterNameReading {
  char letter;
  LetterName kind;
};

std::optional<LetterNameReading> letter_name(std::string_view w) {
  struct Entry {
    std::string_view word;
    char letter;
    LetterName kind;
  };
  static constexpr std::array<Entry, 34> names = {{
      {"ay", 'A', LetterName::clear},      {"ee", 'E', LetterName::clear},
      {"bee", 'B', LetterName::clear},     {"cee", 'C', LetterName::clear},     {"dee", 'D', LetterName::clear},
      {"eff", 'F', LetterName::clear},     {"aitch", 'H', LetterName::clear},   {"haitch", 'H', LetterName::clear},
      {"ell", 'L', LetterName::clear},     {"em", 'M', LetterName::clear},      {"en", 'N', LetterName::clear},
      {"pee", 'P', LetterName::clear},     {"cue", 'Q', LetterName::clear},     {"ar", 'R', LetterName::clear},
      {"ess", 'S', LetterName::clear},     {"tee", 'T', LetterName::clear},     {"vee", 'V', LetterName::clear},
      {"wye", 'Y', LetterName::clear},     {"zed", 'Z', LetterName::clear},     {"zee", 'Z', LetterName::clear},
      {"see", 'C', LetterName::word_like}, {"sea", 'C', LetterName::word_like}, {"you", 'U', LetterName::word_like},
      {"why", 'Y', LetterName::word_like}, {"are", 'R', LetterName::word_like}, {"tea", 'T', LetterName::word_like},
      {"eye", 'I', LetterName::word_like}, {"be", 'B', LetterName::word_like},  {"jay", 'J', LetterName::word_like},
      {"kay", 'K', LetterName::word_like}, {"gee", 'G', LetterName::word_like}, {"ex", 'X', LetterName::word_like},
      {"el", 'L', LetterName::word_like},  {"queue", 'Q', LetterName::word_like},
  }};
  for (const Entry& e : names)
    if (w == e.word) return LetterNameReading{e.letter, e.kind};
  return std::nullopt;
}

struct CodeItem {
  std::string chars;
  std::size_t next = 0;
  LetterName name = LetterName::none;  // said by its name; a word-like name still needs a letter beside it
  bool single_letter() const { return chars.size() == 1 && std::isalpha(static_cast<unsigned char>(chars[0])); }
};

// One spoken character group at token i. In a sentence (strict), the English words "a" and "I" are letters only
// when more of the code follows them, and capitalised words that are common in speech ("OK", "PM") are not codes.
std::optional<CodeItem> match_code_item(const Tokens& t, std::size_t i, bool strict) {
  const Token* tok = at(t, i);
  if (!tok) return std::nullopt;
  if (tok->punct == '-') return CodeItem{"-", i + 1};
  if (!tok->is_word()) return std::nullopt;
  const std::string& w = tok->text;
  if (w == "dash" || w == "hyphen") return CodeItem{"-", i + 1};
  if (tok->all_digits()) return CodeItem{w, i + 1};
  if (tok->has_digit() && tok->has_letter()) {
    // "7pm", "3rd" are times and ordinals, not codes.
    std::size_t d = 0;
    while (d < w.size() && std::isdigit(static_cast<unsigned char>(w[d]))) ++d;
    const std::string suffix = w.substr(d);
    if (d > 0 && (suffix == "am" || suffix == "pm" || suffix == "st" || suffix == "nd" || suffix == "rd" ||
                  suffix == "th"))
      return std::nullopt;
    return CodeItem{upper(w), i + 1};
  }
  // "double you" / "double-u" is W, not UU: that is how the letter is named.
  if (w == "double" && (text_is(t, i + 1, "you") || text_is(t, i + 1, "u"))) return CodeItem{"W", i + 2};
  if (w == "double" && text_is(t, i + 1, "-") && (text_is(t, i + 2, "you") || text_is(t, i + 2, "u")))
    return CodeItem{"W", i + 3};
  if (w == "doubleu" || w == "doubleyou") return CodeItem{"W", i + 1};
  // "double seven", "triple oh"
  if (w == "double" || w == "triple") {
    auto item = match_code_item(t, i + 1, false);
    if (!item || item->chars.empty() || item->chars == "-") return std::nullopt;
    const std::string once(1, item->chars[0]);
    std::string chars = once + once + (w == "triple" ? once : std::string());
    chars += item->chars.substr(1);
    return CodeItem{chars, item->next};
  }
  // "M for Mike", "L like Lima": the word repeats the letter's sound, so it must start with it.
  if (w.size() == 1 && std::isalpha(static_cast<unsigned char>(w[0])) &&
      (text_is(t, i + 1, "for") || text_is(t, i + 1, "like")) && at(t, i + 2) && t[i + 2].all_letters() &&
      t[i + 2].text.size() >= 3 && t[i + 2].text[0] == w[0])
    return CodeItem{upper(w), i + 3};
  // "capital B", "letter K"
  if ((w == "capital" || w == "letter") && at(t, i + 1) && t[i + 1].text.size() == 1 &&
      std::isalpha(static_cast<unsigned char>(t[i + 1].text[0])))
    return CodeItem{upper(t[i + 1].text), i + 2};
  // "three thousand four hundred and twelve", "one hundred twenty three": the whole number, by its grammar.
  if ((unit_value(w) > 0 || teen_value(w) > 0) && (text_is(t, i + 1, "hundred") || text_is(t, i + 1, "thousand"))) {
    if (auto n = match_number(t, i); n && n->next > i + 2) return CodeItem{std::to_string(n->value), n->next};
  }
  // "R as in Robert" (the word after "as in" is only there to disambiguate the letter)
  if (w.size() == 1 && std::isalpha(static_cast<unsigned char>(w[0])) && text_is(t, i + 1, "as") &&
      text_is(t, i + 2, "in") && at(t, i + 3) && t[i + 3].is_word())
    return CodeItem{upper(w), i + 4};
  if (w == "oh" || w == "o" || w == "zero" || w == "nought") return CodeItem{"0", i + 1};
  if (const int u = unit_value(w); u >= 0) {
    if (text_is(t, i + 1, "hundred")) return CodeItem{std::to_string(u) + "00", i + 2};
    if (text_is(t, i + 1, "thousand")) return CodeItem{std::to_string(u) + "000", i + 2};
    return CodeItem{std::string(1, static_cast<char>('0' + u)), i + 1};
  }
  if (w == "niner") return CodeItem{"9", i + 1};
  if (const int teen = teen_value(w); teen >= 0) {
    if (text_is(t, i + 1, "hundred")) return CodeItem{std::to_string(teen) + "00", i + 2};
    return CodeItem{std::to_string(teen), i + 1};
  }
  if (const int tens = tens_value(w); tens >= 0) {
    std::size_t k = i + 1;
    if (text_is(t, k, "-")) ++k;
    if (const Token* u = at(t, k); u && unit_value(u->text) > 0)
      return CodeItem{std::to_string(tens + unit_value(u->text)), k + 1};
    return CodeItem{std::to_string(tens), i + 1};
  }
  if (auto letter = nato_letter(w)) return CodeItem{std::string(1, *letter), i + 1};
  if (auto named = letter_name(w)) return CodeItem{std::string(1, named->letter), i + 1, named->kind};
  if (w == "x" && text_is(t, i + 1, "-") && text_is(t, i + 2, "ray")) return CodeItem{"X", i + 3};  // "x-ray"
  if (w.size() == 1 && std::isalpha(static_cast<unsigned char>(w[0]))) {
    if (strict && (w == "a" || w == "i")) {
      std::size_t k = i + 1;
      while (text_is(t, k, ",")) ++k;
      auto more = match_code_item(t, k, strict);
      if (!more || more->chars == "-") return std::nullopt;
    }
    return CodeItem{upper(w), i + 1};
  }
  if (tok->upper && tok->all_letters() && w.size() <= 6) {
    if (strict && (w == "ok" || w == "am" || w == "pm" || w == "usa" || w == "tv")) return std::nullopt;
    return CodeItem{upper(w), i + 1};
  }
  return std::nullopt;
}

std::size_t code_length(const std::string& code) {
  return static_cast<std::size_t>(std::count_if(code.begin(), code.end(), [](char c) { return c != '-'; }));
}

std::string tidy_dashes(std::string code) {
  std::string out;
  for (char c : code) {
    if (c == '-' && (out.empty() || out.back() == '-')) continue;
    out.push_back(c);
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  // "4-5-7-2" is how recognisers write spelled digits, not a code with dashes: when every dash-separated group is
  // one character, the dashes go.
  if (out.find('-') != std::string::npos) {
    bool all_single = true;
    std::size_t group = 0;
    for (char c : out) {
      if (c == '-') {
        if (group != 1) all_single = false;
        group = 0;
      } else {
        ++group;
      }
    }
    if (group != 1) all_single = false;
    if (all_single) out.erase(std::remove(out.begin(), out.end(), '-'), out.end());
  }
  return out;
}

// Is the word-like letter name `item` (at token i) a letter here? Only glued between two characters of the code
// (no punctuation either side), one of them a letter that is not itself word-like.
bool word_like_name_is_letter(const Tokens& t, const CodeItem& item, const std::optional<CodeItem>& glued_before,
                              bool strict) {
  if (!glued_before || glued_before->chars == "-" || glued_before->name == LetterName::word_like) return false;
  const auto after = match_code_item(t, item.next, strict);
  if (!after || after->chars == "-" || after->name == LetterName::word_like) return false;
  return glued_before->single_letter() || after->single_letter();
}

// A run of code items from token i in a sentence: items separated by nothing or commas; a period ends the run
// unless it only separates single characters ("4. 5. 7. 2."). Returns the code and the token after it; the code
// is empty when the run is only letter names ("bee dee": words, not a code).
std::pair<std::string, std::size_t> read_code_run(const Tokens& t, std::size_t i) {
  std::string code;
  std::size_t k = i;
  std::optional<CodeItem> glued_before;  // the item just before token k, when nothing separates them
  bool only_names = true;
  while (k < t.size()) {
    if (auto item = match_code_item(t, k, true)) {
      if (item->name == LetterName::word_like && !word_like_name_is_letter(t, *item, glued_before, true)) break;
      if (item->name == LetterName::none && item->chars != "-") only_names = false;
      code += item->chars;
      k = item->next;
      glued_before = std::move(item);
      continue;
    }
    const std::string last_item = glued_before ? glued_before->chars : std::string();
    if (t[k].punct == ',' && !code.empty()) {
      ++k;
      glued_before.reset();
      continue;
    }
    // "four four uh seven one": hesitations inside a code are not part of it.
    if (!code.empty() && (t[k].text == "uh" || t[k].text == "um" || t[k].text == "er" || t[k].text == "erm")) {
      ++k;
      glued_before.reset();
      continue;
    }
    if (t[k].punct == '.' && !code.empty() && last_item.size() == 1) {
      if (auto more = match_code_item(t, k + 1, true); more && more->chars.size() == 1) {
        ++k;
        glued_before.reset();
        continue;
      }
    }
    break;
  }
  if (only_names) code.clear();
  // A trailing comma/period is not part of the run.
  return {tidy_dashes(code), k};
}

bool is_code_keyword(const Tokens& t, std::size_t i, std::size_t& after) {
  const std::string& w = t[i].text;
  auto followed_by_noun = [&](std::size_t k) {
    return text_is(t, k, "number") || text_is(t, k, "code") || text_is(t, k, "reference") || text_is(t, k, "id") ||
           text_is(t, k, "ref") || text_is(t, k, "no") || text_is(t, k, "num");
  };
  if (w == "confirmation" || w == "confirmations" || w == "reference" || w == "ref" || w == "code" || w == "conf") {
    after = i + 1;
    return true;
  }
  // "number" alone ("your number is 4813", "Number 3317", "the number for that is ..."), but not a table, room or
  // phone number, nor "number of guests".
  if (w == "number" || (w == "numbers" && i > 0 && t[i - 1].text == "your")) {
    const std::string before = i > 0 ? t[i - 1].text : "";
    if (before == "table" || before == "phone" || before == "room" || before == "house" || before == "street" ||
        before == "contact" || before == "what" || before == "whats")
      return false;
    if (text_is(t, i + 1, "of")) return false;
    after = i + 1;
    return true;
  }
  if ((w == "booking" || w == "reservation") && followed_by_noun(i + 1)) {
    after = i + 2;
    return true;
  }
  return false;
}

}  // namespace

// ---- public: numbers ------------------------------------------------------------------------------------------

std::optional<int> parse_number(std::string_view text) {
  const Tokens t = tokenize(text);
  if (t.empty()) return std::nullopt;
  auto n = match_number(t, 0);
  if (!n) return std::nullopt;
  std::size_t k = n->next;
  while (k < t.size() && (t[k].punct == '.' || t[k].punct == ',' || t[k].punct == '!')) ++k;
  if (k != t.size()) return std::nullopt;
  return n->value;
}

std::string say_number(int n) {
  if (n < 0) return "minus " + say_number(-(n + 1) + 1);
  if (n < 10) return std::string(kUnits[n]);
  if (n < 20) return std::string(kTeens[n - 10]);
  if (n < 100) return std::string(kTens[n / 10]) + (n % 10 ? "-" + std::string(kUnits[n % 10]) : "");
  if (n < 1000) return say_number(n / 100) + " hundred" + (n % 100 ? " " + say_number(n % 100) : "");
  if (n < 1000000) return say_number(n / 1000) + " thousand" + (n % 1000 ? " " + say_number(n % 1000) : "");
  if (n < 1000000000)
    return say_number(n / 1000000) + " million" + (n % 1000000 ? " " + say_number(n % 1000000) : "");
  return say_number(n / 1000000000) + " billion" + (n % 1000000000 ? " " + say_number(n % 1000000000) : "");
}

// ---- public: times --------------------------------------------------------------------------------------------

std::optional<int> parse_time_of_day(std::string_view text) {
  const Tokens t = tokenize(text);
  std::size_t k = 0;
  while (k < t.size() && is_time_lead_word(t[k].text)) ++k;
  auto m = match_time(t, k);
  if (!m) return std::nullopt;
  std::size_t end = m->next;
  while (end < t.size() && (t[end].punct == '.' || t[end].punct == ',' || t[end].punct == '!' ||
                            t[end].punct == '?'))
    ++end;
  if (end != t.size()) return std::nullopt;
  return m->minutes;
}

std::optional<std::pair<int, std::size_t>> find_time_of_day(std::string_view text) {
  const Tokens t = tokenize(text);
  auto m = find_time(t);
  if (!m) return std::nullopt;
  return std::make_pair(m->minutes, t[m->begin].begin);
}

std::vector<TimeMention> find_times_of_day(std::string_view text) {
  const Tokens t = tokenize(text);
  std::vector<TimeMention> out;
  for (std::size_t from = 0; from < t.size();) {
    auto m = find_time(t, from);
    if (!m) break;
    const std::size_t last = m->next > m->begin ? m->next - 1 : m->begin;
    out.push_back(TimeMention{m->minutes, t[m->begin].begin, t[last].end, m->definite});
    from = std::max(m->next, m->begin + 1);
  }
  return out;
}

std::string say_time(int minutes) {
  minutes = ((minutes % 1440) + 1440) % 1440;
  const int hour = minutes / 60, minute = minutes % 60;
  if (minutes == 0) return "midnight";
  if (minutes == 12 * 60) return "noon";
  const int h12 = hour % 12 == 0 ? 12 : hour % 12;
  std::string out = std::to_string(h12);
  if (minute != 0) out += (minute < 10 ? ":0" : ":") + std::to_string(minute);
  out += hour < 12 ? " AM" : " PM";
  return out;
}

std::string format_hh_mm(int minutes) {
  minutes = ((minutes % 1440) + 1440) % 1440;
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "%02d:%02d", minutes / 60, minutes % 60);
  return buffer;
}

// ---- public: party size ---------------------------------------------------------------------------------------

std::optional<int> find_party_size(std::string_view text) {
  const Tokens t = tokenize(text);
  // 1. A number with a head-count word: "4 people", "four guests", "six of us", "2 adults".
  for (std::size_t i = 0; i < t.size(); ++i) {
    auto n = match_number(t, i);
    if (!n) continue;
    std::size_t k = n->next;
    if (text_is(t, k, "-")) ++k;  // "4-person"
    if (const Token* w = at(t, k)) {
      if (w->text == "of" ? text_is(t, k + 1, "us") : is_people_word(w->text)) return n->value;
    }
    i = n->next - 1;
  }
  // 2. The speaker plus company: "with 3 friends" (4), "me and my wife" / "my wife and I" (2), "family of 5" (5).
  static const std::array<std::string_view, 8> company = {"friends", "others", "colleagues", "coworkers", "kids",
                                                           "children", "family", "relatives"};
  static const std::array<std::string_view, 16> companion = {
      "wife",   "husband", "partner", "friend", "date",  "girlfriend", "boyfriend", "fiance",
      "fiancee", "mom",    "mother",  "dad",    "father", "son",       "daughter",  "colleague"};
  auto in = [](const auto& list, std::string_view w) { return std::find(list.begin(), list.end(), w) != list.end(); };
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i].text == "with") {
      std::size_t k = i + 1;
      if (text_is(t, k, "my")) ++k;
      if (auto n = match_number(t, k); n && at(t, n->next) && in(company, t[n->next].text)) return n->value + 1;
    }
    if (t[i].text == "family" && text_is(t, i + 1, "of"))
      if (auto n = match_number(t, i + 2)) return n->value;
    if (t[i].text == "me" && text_is(t, i + 1, "and") && text_is(t, i + 2, "my") && at(t, i + 3) &&
        in(companion, t[i + 3].text))
      return 2;
    if (t[i].text == "my" && at(t, i + 1) && in(companion, t[i + 1].text) && text_is(t, i + 2, "and") &&
        (text_is(t, i + 3, "i") || text_is(t, i + 3, "me")))
      return 2;
  }
  // 3. "party of N", "party size N", "table of N", "table for N", "booking for N", "for N".
  for (std::size_t i = 0; i < t.size(); ++i) {
    const std::string& w = t[i].text;
    std::size_t k;
    if ((w == "party" || w == "table" || w == "group") && text_is(t, i + 1, "of")) k = i + 2;
    else if (w == "party" && text_is(t, i + 1, "size")) k = text_is(t, i + 2, ":") ? i + 3 : i + 2;
    else if (w == "for") k = i + 1;
    else continue;
    if (text_is(t, k, "a") && text_is(t, k + 1, "dozen")) { /* "for a dozen" */ }
    else if (text_is(t, k, "just") || text_is(t, k, "only")) ++k;
    auto n = match_number(t, k);
    if (!n) continue;
    // "for 7pm", "for 7:30", "for seven thirty" are times; "for 3 December", "for 12/3" are dates.
    if (auto time = match_time(t, k); time && time->marked) continue;
    if (const Token* after = at(t, n->next)) {
      if (after->punct == '/' || after->punct == ':' || after->punct == '-' || month_from_word(after->text) ||
          after->text == "days" || after->text == "nights" || after->text == "hours" || after->text == "minutes" ||
          after->text == "weeks" || after->text == "oclock")
        continue;
      if (after->punct == '.' && at(t, n->next + 1) && t[n->next + 1].all_digits()) continue;
    }
    return n->value;
  }
  return std::nullopt;
}

// ---- public: dates --------------------------------------------------------------------------------------------

std::optional<chr::year_month_day> parse_iso_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  for (std::size_t k : {0, 1, 2, 3, 5, 6, 8, 9})
    if (!std::isdigit(static_cast<unsigned char>(text[k]))) return std::nullopt;
  const auto num = [&](std::size_t from, std::size_t len) { return std::stoi(std::string(text.substr(from, len))); };
  return make_date(num(0, 4), num(5, 2), num(8, 2));
}

std::string format_iso_date(chr::year_month_day date) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return buffer;
}

std::optional<std::pair<chr::year_month_day, std::size_t>> find_date(std::string_view text,
                                                                     chr::year_month_day today) {
  const Tokens t = tokenize(text);
  // An explicit calendar date wins over a relative word anywhere in the text ("Friday, December 4" -> December 4):
  // it is what the person looked up.
  for (std::size_t i = 0; i < t.size(); ++i)
    if (auto m = match_calendar_date(t, i, today)) return std::make_pair(m->date, t[m->begin].begin);
  for (std::size_t i = 0; i < t.size(); ++i)
    if (auto m = match_relative_date(t, i, today)) return std::make_pair(m->date, t[m->begin].begin);
  return std::nullopt;
}

std::vector<DateMention> find_dates(std::string_view text, chr::year_month_day today, DateOrder order) {
  const Tokens t = tokenize(text);
  struct Found {
    DateMatch match;
    std::optional<int> weekday;  // a bare weekday ("Friday", "on Fri"), to check against a calendar date beside it
    bool calendar = false;
  };
  std::vector<Found> found;
  for (std::size_t i = 0; i < t.size();) {
    if (auto m = match_calendar_date(t, i, today, order)) {
      const std::size_t next = std::max(m->next, i + 1);
      found.push_back(Found{std::move(*m), std::nullopt, true});
      i = next;
      continue;
    }
    if (auto m = match_relative_date(t, i, today)) {
      std::optional<int> weekday;
      const std::size_t span = m->next - m->begin;
      if (span == 1 || (span == 2 && (t[i].text == "on" || t[i].text == "this")))
        weekday = weekday_from_word(t[m->next - 1].text);
      const std::size_t next = std::max(m->next, i + 1);
      found.push_back(Found{std::move(*m), weekday, false});
      i = next;
      continue;
    }
    ++i;
  }
  // A weekday right beside a calendar date ("Friday, December 4", "Dec 3 (Thursday)", "Monday the 3rd") is one
  // date said two ways: merged, and doubted when they disagree.
  std::vector<Found> merged;
  for (std::size_t k = 0; k < found.size(); ++k) {
    if (k + 1 < found.size()) {
      Found& a = found[k];
      Found& b = found[k + 1];
      const bool pair = (a.weekday && b.calendar) || (a.calendar && b.weekday);
      std::size_t gap = b.match.begin - a.match.next;
      bool only_glue = true;
      for (std::size_t g = a.match.next; g < b.match.begin; ++g)
        if (!(t[g].punct == ',' || t[g].text == "the" || t[g].text == "on")) only_glue = false;
      if (pair && gap <= 2 && only_glue) {
        Found& cal = a.calendar ? a : b;
        const int said = a.weekday ? *a.weekday : *b.weekday;
        Found one = cal;
        one.match.begin = a.match.begin;
        one.match.next = b.match.next;
        const int actual = iso_weekday(cal.match.date);
        if (said != actual && one.match.doubt.empty())
          one.match.doubt = day_month_words(cal.match.date) + " is a " + weekday_name(actual) + ", not a " +
                            weekday_name(said);
        merged.push_back(std::move(one));
        ++k;
        continue;
      }
    }
    merged.push_back(std::move(found[k]));
  }
  std::vector<DateMention> out;
  for (const Found& f : merged) {
    const std::size_t last = f.match.next > f.match.begin ? f.match.next - 1 : f.match.begin;
    out.push_back(DateMention{f.match.date, t[f.match.begin].begin, t[last].end, f.match.doubt});
  }
  return out;
}

std::string say_date(chr::year_month_day date, chr::year_month_day today) {
  std::string out = std::string(weekday_name(iso_weekday(date))) + ", " +
                    month_name(static_cast<unsigned>(date.month())) + " " +
                    std::to_string(static_cast<unsigned>(date.day()));
  if (date.year() != today.year()) out += ", " + std::to_string(static_cast<int>(date.year()));
  return out;
}

std::string short_date(chr::year_month_day date) {
  return std::string(weekday_name(iso_weekday(date))).substr(0, 3) + " " +
         std::to_string(static_cast<unsigned>(date.day())) + " " +
         std::string(month_name(static_cast<unsigned>(date.month()))).substr(0, 3) + " " +
         std::to_string(static_cast<int>(date.year()));
}

// ---- public: codes ----------------------------------------------------------------------------------------------

std::string normalize_spoken_code(std::string_view spoken) {
  const Tokens t = tokenize(spoken);
  std::string code;
  std::size_t k = 0;
  std::optional<CodeItem> glued_before;
  while (k < t.size()) {
    auto item = match_code_item(t, k, false);
    if (item && item->name == LetterName::word_like && !word_like_name_is_letter(t, *item, glued_before, false))
      item.reset();
    if (item) {
      code += item->chars;
      k = item->next;
      glued_before = std::move(item);
    } else {
      ++k;  // punctuation and words that are not characters
      glued_before.reset();
    }
  }
  return tidy_dashes(code);
}

namespace {

// After a code run ending at token k: a correction ("sorry", "no wait", "I mean", "actually", "correction",
// "oops", "scratch that", "let me correct that") and the run that replaces it. Returns the token where the
// replacing run starts, or npos.
std::size_t correction_after(const Tokens& t, std::size_t k) {
  std::size_t j = k;
  std::size_t skipped = 0;
  while (j < t.size() && !t[j].is_word() && skipped < 4) { ++j; ++skipped; }
  if (j >= t.size()) return std::string::npos;
  const std::string& w = t[j].text;
  const bool marker = w == "sorry" || w == "no" || w == "wait" || w == "actually" || w == "correction" ||
                      w == "oops" || w == "rather" || w == "scratch" || w == "correct" ||
                      (w == "i" && (text_is(t, j + 1, "mean") || text_is(t, j + 1, "meant"))) ||
                      (w == "let" && text_is(t, j + 1, "me") && text_is(t, j + 2, "correct"));
  if (!marker) return std::string::npos;
  // Skip the rest of the correction phrase and the words that lead into the new code.
  static const std::array<std::string_view, 17> lead = {"sorry", "no",    "wait", "actually", "correction", "oops",
                                                        "rather", "scratch", "that", "thats", "its", "is", "i",
                                                        "mean",  "meant", "let", "correct"};
  while (j < t.size() && (!t[j].is_word() || std::find(lead.begin(), lead.end(), t[j].text) != lead.end() ||
                          (t[j].text == "me" && j > 0 && t[j - 1].text == "let")))
    ++j;
  return j < t.size() ? j : std::string::npos;
}

bool plausible_code(const std::string& code, CodeLength length) {
  const std::size_t n = code_length(code);
  if (n < length.min || n > length.max) return false;
  // Ten or more digits and nothing else is a phone number read out, not a confirmation number.
  const std::size_t digits = static_cast<std::size_t>(std::count_if(code.begin(), code.end(), [](unsigned char c) {
    return std::isdigit(c);
  }));
  return !(digits >= 10 && digits == n);
}

// A run that a correction follows is replaced by the run after it ("4831, sorry, 4813"), however often that
// happens; the replaced readings are kept, oldest first. Returns the token after the last run read.
std::size_t apply_corrections(const Tokens& t, std::size_t end, CodeLength length, CodeReading& reading) {
  for (;;) {
    const std::size_t from = correction_after(t, end);
    if (from == std::string::npos) return end;
    auto [better, after_better] = read_code_run(t, from);
    if (!plausible_code(better, length)) return end;
    if (better != reading.code) reading.corrected.push_back(reading.code);
    reading.code = better;
    end = after_better;
  }
}

}  // namespace

std::optional<CodeReading> read_confirmation_code(std::string_view utterance, CodeLength length) {
  Tokens t = tokenize(utterance);
  // In text written all in capitals, a capitalised word says nothing about being a code ("NUMBER IS 4572").
  if (std::none_of(utterance.begin(), utterance.end(), [](unsigned char c) { return std::islower(c); }))
    for (Token& token : t) token.upper = token.text.size() == 1;
  // The code said after a keyword, within a short window (fillers like "number is", "will be", "for you" sit
  // between). Runs shorter than the plausible length in that window are head counts or hours, not codes; a run
  // that a correction follows is replaced by the run after it ("4831, sorry, 4813"), however often that happens.
  constexpr std::size_t kWindow = 14;
  for (std::size_t i = 0; i < t.size(); ++i) {
    std::size_t after = 0;
    if (!is_code_keyword(t, i, after)) continue;
    for (std::size_t k = after; k < t.size() && k < after + kWindow;) {
      if (t[k].text == "confirmation" || t[k].text == "reference") break;  // the next keyword starts its own search
      auto [code, next] = read_code_run(t, k);
      if (code_length(code) >= std::min<std::size_t>(length.min, 3) && plausible_code(code, length)) {
        CodeReading reading{code, {}};
        apply_corrections(t, next, length, reading);
        return reading;
      }
      k = next > k ? next : k + 1;
    }
  }
  // No keyword: only a self-evident code token ("ABC123").
  for (const Token& token : t) {
    if (!token.is_word() || !token.has_digit() || !token.has_letter() || token.text.size() < 4) continue;
    Tokens one{token};
    if (auto item = match_code_item(one, 0, true); item && plausible_code(item->chars, length))
      return CodeReading{item->chars, {}};
  }
  return std::nullopt;
}

std::optional<CodeReading> read_confirmation_answer(std::string_view utterance, CodeLength length) {
  if (auto reading = read_confirmation_code(utterance, length)) return reading;
  const Tokens t = tokenize(utterance);
  static const std::array<std::string_view, 14> openers = {"sure", "yes", "yeah", "ok", "okay", "its", "it", "is",
                                                           "thats", "that", "so", "right", "alright", "um"};
  std::size_t k = 0;
  while (k < t.size() && k < 4 &&
         (!t[k].is_word() || std::find(openers.begin(), openers.end(), t[k].text) != openers.end()))
    ++k;
  if (k >= t.size()) return std::nullopt;
  auto [code, next] = read_code_run(t, k);
  if (!plausible_code(code, length)) return std::nullopt;
  CodeReading reading{code, {}};
  const std::size_t end = apply_corrections(t, next, length, reading);
  // What may follow the answer: punctuation and a short close ("thanks", "see you then"); a time, a count or a date
  // after it means the run was part of something else.
  static const std::array<std::string_view, 12> closers = {"thanks", "thank", "you", "see", "then", "bye",
                                                           "goodbye", "great", "ok", "okay", "all", "set"};
  for (std::size_t j = end; j < t.size(); ++j)
    if (t[j].is_word() && std::find(closers.begin(), closers.end(), t[j].text) == closers.end()) return std::nullopt;
  return reading;
}

std::optional<std::string> find_confirmation_code(std::string_view utterance, CodeLength length) {
  auto reading = read_confirmation_code(utterance, length);
  if (!reading) return std::nullopt;
  return reading->code;
}

std::string spell_code(std::string_view code) {
  const bool digits_only = !code.empty() && std::all_of(code.begin(), code.end(), [](unsigned char c) {
    return std::isdigit(c);
  });
  std::string out;
  const char* separator = digits_only ? " " : ", ";
  for (char c : code) {
    std::string item;
    if (std::isdigit(static_cast<unsigned char>(c))) item = kUnits[c - '0'];
    else if (c == '-') item = "dash";
    else if (c == 'O' || c == 'o') item = "O as in Oscar";  // a bare "O" would be heard as zero
    else if (std::isalpha(static_cast<unsigned char>(c))) item = std::string(1, static_cast<char>(std::toupper(c)));
    else continue;
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> words;
  std::string current;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '\'') {
      current.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else if (!current.empty()) {
      words.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) words.push_back(std::move(current));
  return words;
}

}  // namespace concierge
