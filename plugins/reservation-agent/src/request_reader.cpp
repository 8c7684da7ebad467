#include "request_reader.hpp"

// How this file reads a request: first the text is normalized word by word (chat shorthand and common typos
// become the words spoken.hpp knows, "7ish" -> "7", "half seven" -> "half past seven", "at 1930" -> "at 19:30"),
// keeping for every byte where it came from in the original. Then every mention of each field is collected
// (times and dates by spoken.hpp, head counts and restaurants here), mapped back to the original text, and folded
// by the rules in request_reader.hpp.

#include <algorithm>
#include <array>
#include <cctype>
#include <functional>
#include <map>

#include "concierge/speech/spoken.hpp"
#include "phone_number.hpp"

namespace concierge::reservation {
namespace chr = std::chrono;
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// ---- normalizing --------------------------------------------------------------------------------------------

struct Normalized {
  std::string text;
  std::vector<std::size_t> from;  // per byte of text: where its word begins in the original
  std::vector<std::size_t> to;    // per byte of text: where its word ends in the original
  std::vector<std::size_t> guessed_times;  // where a bare hour after a day was taken as a time ("thurs 7")
  // The original range of text[begin, end).
  std::pair<std::size_t, std::size_t> original(std::size_t begin, std::size_t end) const {
    if (text.empty() || begin >= text.size()) return {0, 0};
    end = std::min(std::max(end, begin + 1), text.size());
    return {from[begin], to[end - 1]};
  }
};

struct RawWord {
  std::string text;  // as written
  std::size_t begin, end;
};

// Words (letters, digits, apostrophes inside) and the single characters between them.
std::vector<RawWord> raw_words(std::string_view text) {
  std::vector<RawWord> out;
  std::size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (std::isalnum(c)) {
      std::size_t j = i;
      while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) ||
                                 (text[j] == '\'' && j + 1 < text.size() &&
                                  std::isalpha(static_cast<unsigned char>(text[j + 1])))))
        ++j;
      out.push_back(RawWord{std::string(text.substr(i, j - i)), i, j});
      i = j;
    } else {
      out.push_back(RawWord{std::string(1, static_cast<char>(c)), i, i + 1});
      ++i;
    }
  }
  return out;
}

const std::map<std::string, std::string, std::less<>>& shorthand() {
  static const std::map<std::string, std::string, std::less<>> words = {
      {"tmrw", "tomorrow"},     {"tmr", "tomorrow"},      {"tmrow", "tomorrow"},   {"tmw", "tomorrow"},
      {"2moro", "tomorrow"},    {"2morrow", "tomorrow"},  {"2mrw", "tomorrow"},    {"tomorow", "tomorrow"},
      {"tommorow", "tomorrow"}, {"tommorrow", "tomorrow"}, {"tomorrw", "tomorrow"}, {"tomoro", "tomorrow"},
      {"tomorro", "tomorrow"},  {"tonite", "tonight"},    {"2nite", "tonight"},    {"2night", "tonight"},
      {"tonigh", "tonight"},    {"2day", "today"},        {"nite", "night"},       {"ppl", "people"},
      {"peeps", "people"},      {"peopel", "people"},     {"poeple", "people"},    {"pple", "people"},
      {"pax", "people"},        {"ppls", "people"},       {"persons", "people"},   {"resturant", "restaurant"},
      {"restraunt", "restaurant"}, {"resteraunt", "restaurant"}, {"restaraunt", "restaurant"},
      {"restuarant", "restaurant"}, {"restarant", "restaurant"}, {"restaurent", "restaurant"},
      {"tabel", "table"},       {"tbl", "table"},         {"bk", "book"},          {"u", "you"},
      {"pls", "please"},        {"plz", "please"},        {"sat", "saturday"},     {"sun", "sunday"},
      {"weds", "wednesday"},    {"wednes", "wednesday"},  {"thrs", "thursday"},    {"res", "reservation"},
      {"rez", "reservation"},   {"xmas", "christmas"},    {"thx", ""},             {"ty", ""},
      {"im", "i'm"},            {"gf", "girlfriend"},     {"bf", "boyfriend"},
  };
  return words;
}

bool is_number_word(std::string_view w) {
  static const std::array<std::string_view, 20> words = {
      "one",   "two",  "three", "four",  "five",   "six",    "seven",  "eight",     "nine",     "ten",
      "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"};
  return std::find(words.begin(), words.end(), w) != words.end();
}

bool is_hour_word(std::string_view w) {
  if (all_digits(w)) return w.size() <= 2 && std::stoi(std::string(w)) >= 1 && std::stoi(std::string(w)) <= 12;
  static const std::array<std::string_view, 12> words = {"one", "two",   "three", "four",   "five",  "six",
                                                         "seven", "eight", "nine", "ten", "eleven", "twelve"};
  return std::find(words.begin(), words.end(), w) != words.end();
}

bool is_day_word(std::string_view w) {
  static const std::array<std::string_view, 20> words = {
      "today",   "tonight",  "tomorrow", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
      "mon",     "tue",      "tues",     "wed",    "thu",     "thur",      "thurs",    "fri",    "evening",  "night"};
  return std::find(words.begin(), words.end(), w) != words.end();
}
bool is_people_word_after(std::string_view w) {
  return w == "people" || w == "person" || w == "ppl" || w == "pax" || w == "guests" || w == "adults" ||
         w == "of" || w == "-" || w == "persons" || w == "kids" || w == "children" || w == "/" || w == "." ||
         w == ":" || w == "diners" || w == "covers" || w == "seats" || w == "pm" || w == "am" || w == "p" ||
         w == "in" || w == "oclock" || w == "o'clock";
}

Normalized normalize(std::string_view original) {
  const auto words = raw_words(original);
  Normalized out;
  auto emit = [&](std::string_view s, std::size_t begin, std::size_t end) {
    for (char c : s) {
      out.text.push_back(c);
      out.from.push_back(begin);
      out.to.push_back(end);
    }
  };
  // The next/previous word (not space or punctuation) from index k.
  auto word_after = [&](std::size_t k) -> std::string {
    for (std::size_t j = k + 1; j < words.size(); ++j) {
      const unsigned char c = static_cast<unsigned char>(words[j].text[0]);
      if (std::isalnum(c)) return lower(words[j].text);
      if (!std::isspace(c)) return std::string(1, static_cast<char>(c));
    }
    return "";
  };
  std::string previous;  // the previous word, normalized
  for (std::size_t k = 0; k < words.size(); ++k) {
    const RawWord& raw = words[k];
    const std::string w = lower(raw.text);
    auto put = [&](std::string_view s) {
      emit(s, raw.begin, raw.end);
      if (!s.empty()) previous = std::string(s);
    };
    if (!std::isalnum(static_cast<unsigned char>(raw.text[0]))) {
      if (raw.text == "@") put(" at ");
      else if (raw.text == "&") put(" and ");
      else emit(raw.text, raw.begin, raw.end);
      continue;
    }
    // "we'd", "I'd": the spoken reader drops apostrophes, and "wed" is a weekday.
    if (w.size() > 2 && w.compare(w.size() - 2, 2, "'d") == 0) {
      put(w.substr(0, w.size() - 2) + " would");
      continue;
    }
    // "at like eight", "around like 7": a filler between the lead word and the time.
    if (w == "like" && (previous == "at" || previous == " at " || previous == "around")) continue;
    if (const auto it = shorthand().find(w); it != shorthand().end()) {
      // "sat"/"sun" are weekdays only where a day fits: not "we sat" / "the sun".
      if ((w == "sat" || w == "sun") && (previous == "we" || previous == "the" || previous == "i")) put(raw.text);
      else put(it->second);
      continue;
    }
    // "2ppl", "4pax", "3people" -> "2 people"
    {
      std::size_t d = 0;
      while (d < w.size() && std::isdigit(static_cast<unsigned char>(w[d]))) ++d;
      const std::string suffix = w.substr(d);
      if (d > 0 && d <= 2 && (suffix == "ppl" || suffix == "pax" || suffix == "people" || suffix == "persons" ||
                              suffix == "guests" || suffix == "adults")) {
        put(w.substr(0, d) + " " + (suffix == "adults" || suffix == "guests" ? suffix : std::string("people")));
        continue;
      }
      // "7ish", "8:30ish" -> "at 7": "ish" marks a time of day
      if (d > 0 && suffix == "ish") {
        const bool lead = previous == "at" || previous == " at " || previous == "around" || previous == "about" ||
                          previous == ":" || previous == ".";
        put((lead ? "" : std::string("at ")) + w.substr(0, d));
        continue;
      }
      // "19h30", "19h" -> "19:30", "19:00"
      if (d > 0 && d <= 2 && suffix.size() >= 1 && suffix[0] == 'h' &&
          (suffix.size() == 1 || (suffix.size() == 3 && all_digits(suffix.substr(1))))) {
        const int hour = std::stoi(w.substr(0, d));
        if (hour <= 23) {
          put(w.substr(0, d) + ":" + (suffix.size() == 1 ? std::string("00") : suffix.substr(1)));
          continue;
        }
      }
      // "x4" -> "4 people"
      if (w.size() >= 2 && w.size() <= 3 && w[0] == 'x' && all_digits(w.substr(1))) {
        put(w.substr(1) + " people");
        continue;
      }
    }
    if (w.size() > 3 && w.compare(w.size() - 3, 3, "ish") == 0 && is_number_word(w.substr(0, w.size() - 3))) {
      put(w.substr(0, w.size() - 3));  // "sevenish"
      continue;
    }
    // "at 1930", "@ 2000", "for 0730" -> "19:30": a 24-hour time written without its colon.
    if (w.size() == 4 && all_digits(w) &&
        (previous == "at" || previous == " at " || previous == "around" || previous == "about" ||
         previous == "for" || previous == "by")) {
      const int hour = std::stoi(w.substr(0, 2)), minute = std::stoi(w.substr(2));
      if (hour <= 23 && minute <= 59) {
        put(w.substr(0, 2) + ":" + w.substr(2));
        continue;
      }
    }
    // "at 730" -> "at 7:30"
    if (w.size() == 3 && all_digits(w) && (previous == "at" || previous == " at ")) {
      const int hour = w[0] - '0', minute = std::stoi(w.substr(1));
      if (hour >= 1 && minute <= 59) {
        put(w.substr(0, 1) + ":" + w.substr(1));
        continue;
      }
    }
    // "half seven" (British) -> "half past seven"
    if (w == "half") {
      const std::string next = word_after(k);
      if (is_hour_word(next)) {
        put("half past");
        continue;
      }
    }
    // Chat "4" for "for": "table 4 2", "book demo 4 2ppl", "4 me + 1".
    if (w == "4") {
      const std::string next = word_after(k);
      std::size_t d = 0;
      while (d < next.size() && std::isdigit(static_cast<unsigned char>(next[d]))) ++d;
      if ((d > 0 && d <= 2 && (d == next.size() || !std::isdigit(static_cast<unsigned char>(next[d])))) ||
          is_number_word(next) || next == "me" || next == "us") {
        put("for");
        continue;
      }
    }
    // A bare hour right after a day ("tonite 8", "thurs 7", "wed 8", "tomorrow 7:30") is the time on that day,
    // unless people are counted by it ("Friday 2 people").
    if (is_hour_word(w) && is_day_word(previous)) {
      const std::string next = word_after(k);
      if (!(is_people_word_after(next))) {
        out.guessed_times.push_back(out.text.size() + 3);
        put("at " + raw.text);
        continue;
      }
    }
    put(raw.text);
  }
  return out;
}

// ---- tokens of the normalized text ----------------------------------------------------------------------------

struct Word {
  std::string text;  // lower-case; apostrophes dropped
  std::size_t begin, end;  // in the normalized text
  bool punct = false;
};

std::vector<Word> words_of(std::string_view text) {
  std::vector<Word> out;
  std::size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (std::isalnum(c)) {
      std::size_t j = i;
      std::string w;
      while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '\'')) {
        if (text[j] != '\'') w.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(text[j]))));
        ++j;
      }
      out.push_back(Word{w, i, j, false});
      i = j;
    } else {
      if (!std::isspace(c)) out.push_back(Word{std::string(1, static_cast<char>(c)), i, i + 1, true});
      ++i;
    }
  }
  return out;
}

bool is(const std::vector<Word>& w, std::size_t k, std::string_view s) { return k < w.size() && w[k].text == s; }

// A number at word k: digits or one/two number words ("twenty two", "twenty-two"). {value, words used}.
std::optional<std::pair<int, std::size_t>> number_at(const std::vector<Word>& w, std::size_t k) {
  if (k >= w.size() || w[k].punct) return std::nullopt;
  if (all_digits(w[k].text)) {
    if (w[k].text.size() > 3) return std::nullopt;
    return std::make_pair(std::stoi(w[k].text), std::size_t{1});
  }
  if (k + 2 < w.size() && w[k + 1].text == "-" && !w[k + 2].punct) {
    if (auto n = parse_number(w[k].text + "-" + w[k + 2].text); n && *n > 20) return std::make_pair(*n, std::size_t{3});
  }
  if (k + 1 < w.size() && !w[k + 1].punct) {
    if (auto n = parse_number(w[k].text + " " + w[k + 1].text); n && *n > 20 && *n < 100)
      return std::make_pair(*n, std::size_t{2});
  }
  if (w[k].text == "dozen") return std::make_pair(12, std::size_t{1});
  if (w[k].text == "a" && is(w, k + 1, "dozen")) return std::make_pair(12, std::size_t{2});
  if (auto n = parse_number(w[k].text)) return std::make_pair(*n, std::size_t{1});
  return std::nullopt;
}

// ---- mentions -------------------------------------------------------------------------------------------------

template <typename T>
struct Mention {
  Mention(T v, std::size_t b, std::size_t e, std::string d) : value(std::move(v)), begin(b), end(e), doubt(std::move(d)) {}
  T value;
  std::size_t begin, end;  // in the normalized text
  std::string doubt;
  std::optional<T> other_half;         // times without am/pm: FieldReading::other_half
  bool doubt_is_dining_hours = false;  // FieldReading::doubt_is_dining_hours
};

bool inside(std::size_t begin, std::size_t end, const std::vector<std::pair<std::size_t, std::size_t>>& spans) {
  return std::any_of(spans.begin(), spans.end(), [&](const auto& s) { return begin < s.second && end > s.first; });
}

bool is_people_noun(std::string_view w) {
  return w == "people" || w == "person" || w == "guests" || w == "guest" || w == "diners" || w == "covers" ||
         w == "seats" || w == "persons" || w == "pax";
}
bool is_adult_noun(std::string_view w) { return w == "adults" || w == "adult" || w == "grownups"; }
bool is_child_noun(std::string_view w) {
  return w == "kids" || w == "kid" || w == "children" || w == "child" || w == "teens" || w == "teenagers";
}
bool is_company_noun(std::string_view w) {
  return w == "friends" || w == "others" || w == "colleagues" || w == "coworkers" || w == "guests" ||
         w == "relatives" || w == "family" || w == "people" || w == "more" || w == "mates" || w == "buddies";
}
bool is_companion(std::string_view w) {
  static const std::array<std::string_view, 22> words = {
      "wife",     "husband", "partner", "friend", "date",   "girlfriend", "boyfriend", "fiance",
      "fiancee",  "mom",     "mother",  "dad",    "father", "son",        "daughter",  "colleague",
      "mum",      "brother", "sister",  "boss",   "spouse", "plus"};
  return std::find(words.begin(), words.end(), w) != words.end();
}

// Every head count in the text. Numbers inside a time, date or phone number are not head counts.
std::vector<Mention<int>> party_mentions(const std::vector<Word>& w,
                                         const std::vector<std::pair<std::size_t, std::size_t>>& taken) {
  std::vector<Mention<int>> out;
  auto free_number = [&](std::size_t k) -> std::optional<std::pair<int, std::size_t>> {
    auto n = number_at(w, k);
    if (!n) return std::nullopt;
    if (inside(w[k].begin, w[k + n->second - 1].end, taken)) return std::nullopt;
    return n;
  };
  auto add = [&](int value, std::size_t first, std::size_t last_word, std::string doubt = "") {
    out.push_back(Mention<int>{value, w[first].begin, w[last_word].end, std::move(doubt)});
  };
  std::vector<bool> used(w.size(), false);
  auto use = [&](std::size_t from, std::size_t to) {
    for (std::size_t k = from; k <= to && k < used.size(); ++k) used[k] = true;
  };

  for (std::size_t k = 0; k < w.size(); ++k) {
    if (used[k]) continue;
    // Adults and children: "2 adults and 2 kids", "3 adults + 1 child", "2 adults, 1 kid", "2 adults and a baby".
    if (auto n = free_number(k); n && k + n->second < w.size() && is_adult_noun(w[k + n->second].text)) {
      int total = n->first;
      std::size_t end = k + n->second;
      std::string doubt;
      std::size_t j = end + 1;
      while (j < w.size() && (w[j].text == "and" || w[j].text == "+" || w[j].text == "," || w[j].text == "plus" ||
                              w[j].text == "with"))
        ++j;
      if (auto c = free_number(j); c && j + c->second < w.size() && is_child_noun(w[j + c->second].text)) {
        total += c->first;
        end = j + c->second;
      } else if ((is(w, j, "a") || is(w, j, "an") || is(w, j, "one")) &&
                 (is(w, j + 1, "baby") || is(w, j + 1, "infant") || is(w, j + 1, "toddler"))) {
        end = j + 1;
        doubt = "does the " + w[j + 1].text + " need a seat of its own?";
      } else if (is(w, j, "a") && (is(w, j + 1, "kid") || is(w, j + 1, "child"))) {
        total += 1;
        end = j + 1;
      }
      // "4 people (2 adults, 2 kids)": the head count said before it already covers them.
      const bool inside_count = k >= 2 && w[k - 1].text == "(";
      if (!inside_count) add(total, k, end, doubt);
      use(k, end);
      continue;
    }
    // "N people", "four guests", "6-person", "4 of us", "a dozen people"
    if (auto n = free_number(k)) {
      std::size_t j = k + n->second;
      if (is(w, j, "-")) ++j;
      const bool people = j < w.size() && (is_people_noun(w[j].text) || (w[j].text == "person"));
      const bool of_us = is(w, j, "of") && is(w, j + 1, "us");
      // "2-3 people", "4 or 5 people": a range is a doubt, said as two mentions.
      if (people || of_us) {
        if (k >= 2 && (w[k - 1].text == "-" || w[k - 1].text == "or" || w[k - 1].text == "to")) {
          if (auto before = free_number(k - 2)) {
            add(before->first, k - 2, k - 2);
          }
        }
        // "5 people including 2 kids": the inclusion is not more people.
        std::size_t end = of_us ? j + 1 : j;
        if (is(w, end + 1, "including")) {
          std::size_t m = end + 2;
          if (free_number(m)) use(m, m + 2);
        }
        add(n->first, k, end);
        use(k, end);
        continue;
      }
    }
    const std::string& t = w[k].text;
    // "just me", "just myself", "only me", "table for one"
    if ((t == "just" || t == "only") && (is(w, k + 1, "me") || is(w, k + 1, "myself")) &&
        !(is(w, k + 2, "and") || is(w, k + 2, "+") || is(w, k + 2, "plus"))) {
      add(1, k, k + 1);
      use(k, k + 1);
      continue;
    }
    // "me and 3 friends", "me + 2", "me plus three", "myself and 4 colleagues", "me and my wife [and our 2 kids]"
    if (t == "me" || t == "myself") {
      std::size_t j = k + 1;
      if (is(w, j, "and") || is(w, j, "+") || is(w, j, "plus")) {
        ++j;
        if (auto n = free_number(j)) {
          std::size_t end = j + n->second - 1;
          if (end + 1 < w.size() && is_company_noun(w[end + 1].text)) ++end;
          add(n->first + 1, k, end);
          use(k, end);
          continue;
        }
        std::size_t m = j;
        if (is(w, m, "my")) ++m;
        if (m > j && m < w.size() && (is_companion(w[m].text))) {
          int total = 2;
          std::size_t end = m;
          // "... and our two kids"
          std::size_t a = m + 1;
          if (is(w, a, "and") && (is(w, a + 1, "our") || is(w, a + 1, "my"))) {
            if (auto c = free_number(a + 2); c && a + 2 + c->second < w.size() &&
                                             (is_child_noun(w[a + 2 + c->second].text) ||
                                              is_company_noun(w[a + 2 + c->second].text))) {
              total += c->first;
              end = a + 2 + c->second;
            } else if (a + 2 < w.size() && is_companion(w[a + 2].text)) {
              total += 1;
              end = a + 2;
            }
          }
          add(total, k, end);
          use(k, end);
          continue;
        }
      }
    }
    // "with 3 friends", "with my 2 colleagues"
    if (t == "with") {
      std::size_t j = k + 1;
      if (is(w, j, "my")) ++j;
      if (auto n = free_number(j); n && j + n->second < w.size() && is_company_noun(w[j + n->second].text) &&
                                   w[j + n->second].text != "people") {
        add(n->first + 1, k, j + n->second);
        use(k, j + n->second);
        continue;
      }
    }
    // "my wife and I", "my friend and I", "my partner and me"
    if (t == "my" && k + 1 < w.size() && is_companion(w[k + 1].text) && is(w, k + 2, "and") &&
        (is(w, k + 3, "i") || is(w, k + 3, "me"))) {
      add(2, k, k + 3);
      use(k, k + 3);
      continue;
    }
    // "two couples"
    if (auto n = free_number(k); n && is(w, k + n->second, "couples")) {
      add(2 * n->first, k, k + n->second);
      use(k, k + n->second);
      continue;
    }
    // "we are four", "we're 3", "there are 5 of us" (the "of us" form is above), "there will be six"
    if ((t == "we" && (is(w, k + 1, "are") || is(w, k + 1, "will"))) || t == "were" ||
        (t == "there" && (is(w, k + 1, "are") || is(w, k + 1, "will")))) {
      std::size_t j = k + 1;
      if (t != "were") ++j;
      if (is(w, j, "be")) ++j;
      if (is(w, j, "a") && (is(w, j + 1, "party") || is(w, j + 1, "group") || is(w, j + 1, "family")) &&
          is(w, j + 2, "of"))
        j += 3;
      if (auto n = free_number(j)) {
        add(n->first, k, j + n->second - 1);
        use(k, j + n->second - 1);
        continue;
      }
    }
    // "the two of us", "the 3 of us"
    if (t == "the") {
      if (auto n = free_number(k + 1); n && is(w, k + 1 + n->second, "of") && is(w, k + 2 + n->second, "us")) {
        add(n->first, k, k + 2 + n->second);
        use(k, k + 2 + n->second);
        continue;
      }
    }
    // "party of 4", "group of 9", "family of 5", "table of 6", "party size 6", "party size: 3", "for 4"
    {
      std::size_t j = std::string::npos;
      if ((t == "party" || t == "group" || t == "family" || t == "table") && is(w, k + 1, "of")) j = k + 2;
      else if (t == "party" && is(w, k + 1, "size")) j = is(w, k + 2, ":") ? k + 3 : k + 2;
      else if (t == "for") j = (is(w, k + 1, "just") || is(w, k + 1, "only")) ? k + 2 : k + 1;
      if (j != std::string::npos) {
        if (is(w, j, "a") && (is(w, j + 1, "party") || is(w, j + 1, "group")) && is(w, j + 2, "of")) j += 3;
        if (auto n = free_number(j)) {
          const std::size_t after = j + n->second;
          // "for 3 days", "for 2 hours": not people.
          const bool unit = after < w.size() && (is_adult_noun(w[after].text) || w[after].text == "days" ||
                                                 w[after].text == "hours" ||
                                                 w[after].text == "minutes" || w[after].text == "weeks" ||
                                                 w[after].text == "nights" || w[after].text == "dollars");
          if (!unit) {
            add(n->first, k, after - 1);
            use(k, after - 1);
            continue;
          }
        }
      }
    }
  }
  // A bare number that is nothing else ("Friday 8pm Luigi's 4", "Demo Restaurant, 2, tomorrow 19:00") is the head
  // count, when it is the only one and nothing else counted people. After a correction or "or"/"maybe" it is
  // handled by the caller.
  if (out.empty()) {
    std::vector<std::pair<int, std::size_t>> bare;
    for (std::size_t k = 0; k < w.size(); ++k) {
      if (used[k] || w[k].punct || !all_digits(w[k].text)) continue;
      auto n = free_number(k);
      if (!n || n->first < 1 || n->first > 30) continue;
      if (k + 1 < w.size() && !w[k + 1].punct && (w[k + 1].text == "days" || w[k + 1].text == "weeks")) continue;
      bare.emplace_back(n->first, k);
    }
    if (bare.size() == 1) add(bare[0].first, bare[0].second, bare[0].second);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.begin < b.begin; });
  return out;
}

// Correction and alternative words, as word positions (normalized text byte ranges).
struct Marker {
  std::size_t begin, end;
  bool correction;  // false: an alternative ("or", "maybe")
};

std::vector<Marker> markers_in(const std::vector<Word>& w) {
  std::vector<Marker> out;
  for (std::size_t k = 0; k < w.size(); ++k) {
    const std::string& t = w[k].text;
    auto two = [&](std::string_view a, std::string_view b) { return t == a && is(w, k + 1, b); };
    std::size_t len = 0;
    bool correction = true;
    if (two("no", "wait") || two("oh", "wait") || two("i", "mean") || two("i", "meant") || two("make", "that") ||
        two("make", "it") || two("scratch", "that") || two("change", "that"))
      len = 2;
    else if (t == "wait" || t == "sorry" || t == "actually" || t == "correction" || t == "no" || t == "oops" ||
             t == "rather" || t == "instead")
      len = 1;
    else if (t == "or" || t == "maybe" || t == "perhaps") {
      len = 1;
      correction = false;
    }
    if (len == 0) continue;
    out.push_back(Marker{w[k].begin, w[k + len - 1].end, correction});
    k += len - 1;
  }
  return out;
}

// Which of two mentions' values stands: the later after a correction between them, else a doubt.
template <typename T>
void fold(std::vector<Mention<T>> mentions, const std::vector<Marker>& markers, const Normalized& norm,
          std::string_view original, FieldReading<T>& reading, const std::string& field_words,
          const std::function<std::string(const T&)>& say) {
  if (mentions.empty()) return;
  std::sort(mentions.begin(), mentions.end(), [](const auto& a, const auto& b) { return a.begin < b.begin; });
  const Mention<T>* current = &mentions[0];
  std::string doubt = current->doubt;
  for (std::size_t k = 1; k < mentions.size(); ++k) {
    const Mention<T>& next = mentions[k];
    if (next.value == current->value) continue;
    const bool corrected = std::any_of(markers.begin(), markers.end(), [&](const Marker& m) {
      return m.correction && m.begin >= current->end && m.end <= next.begin;
    });
    // A correction settles everything said before it ("7 or 8, I mean 8"), so the fold goes on after a conflict.
    if (corrected) {
      doubt = next.doubt;
      reading.corrected = true;
    } else {
      doubt = "two " + field_words + " were given: " + say(current->value) + " and " + say(next.value);
    }
    current = &next;
  }
  reading.value = current->value;
  reading.doubt = doubt;
  reading.other_half = current->other_half;
  reading.doubt_is_dining_hours = current->doubt_is_dining_hours && doubt == current->doubt;
  const auto [b, e] = norm.original(current->begin, current->end);
  reading.source = Source{std::string(original.substr(b, e - b)), b, e};
}

// ---- restaurants ----------------------------------------------------------------------------------------------

// Lower-case words with apostrophes dropped, " " around each: " luigis trattoria ".
std::string match_form(std::string_view s) {
  std::string out = " ";
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == '\'') continue;
    if (std::isalnum(c)) out.push_back(static_cast<char>(std::tolower(c)));
    else if (out.back() != ' ') out.push_back(' ');
  }
  if (out.back() != ' ') out.push_back(' ');
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      // a swap of two neighbours ("suhsi") counts as one edit
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) row[j] = std::min(row[j], diagonal);
      diagonal = up;
    }
  }
  return row[b.size()];
}

bool generic_word(std::string_view w) {
  return w == "the" || w == "restaurant" || w == "cafe" || w == "bar" || w == "of" || w == "and" || w == "grill" ||
         w == "kitchen" || w == "house" || w == "bistro";
}

RestaurantReading read_restaurant(const ReservationConfig& config, const Normalized& norm,
                                  std::string_view original, const std::vector<Marker>& markers) {
  RestaurantReading out;
  // Exact names and aliases, whole words; a name inside a longer one that also matched counts as the longer.
  struct Hit {
    const Restaurant* restaurant;
    std::size_t begin, end;  // in match_form(norm.text), which keeps the normalized text's words
    bool alias;
  };
  // match_form shifts bytes; find on words instead: build the normalized words with their byte ranges.
  const auto words = words_of(norm.text);
  std::string haystack = " ";
  std::vector<std::pair<std::size_t, std::size_t>> word_at;  // haystack byte -> normalized range (per word)
  std::vector<std::size_t> hay_word;                           // haystack byte -> word index
  std::vector<std::size_t> content;
  for (std::size_t k = 0; k < words.size(); ++k) {
    if (words[k].punct) continue;
    for (char c : words[k].text) {
      haystack.push_back(c);
      hay_word.resize(haystack.size(), k);
    }
    haystack.push_back(' ');
    hay_word.resize(haystack.size(), k);
    content.push_back(k);
  }
  std::vector<Hit> hits;
  for (const Restaurant& r : config.restaurants) {
    std::vector<std::pair<std::string, bool>> names{{r.name, false}};
    for (const std::string& a : r.aliases) names.emplace_back(a, true);
    for (const auto& [name, alias] : names) {
      const std::string needle = match_form(name);
      if (needle.size() <= 2) continue;
      for (std::size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1))
        hits.push_back(Hit{&r, at, at + needle.size(), alias});
      // "the Golden Dragon" and "Golden Dragon" name the same place.
      if (needle.rfind(" the ", 0) == 0) {
        const std::string bare = needle.substr(4);
        for (std::size_t at = haystack.find(bare); at != std::string::npos; at = haystack.find(bare, at + 1))
          hits.push_back(Hit{&r, at, at + bare.size(), alias});
      }
    }
  }
  std::vector<Hit> kept;
  for (const Hit& hit : hits) {
    const bool inside_longer = std::any_of(hits.begin(), hits.end(), [&](const Hit& other) {
      return other.begin <= hit.begin && other.end >= hit.end && other.end - other.begin > hit.end - hit.begin;
    });
    if (!inside_longer) kept.push_back(hit);
  }
  std::sort(kept.begin(), kept.end(), [](const Hit& a, const Hit& b) { return a.begin < b.begin; });
  auto source_of = [&](std::size_t hay_begin, std::size_t hay_end) {
    const Word& first = words[hay_word[std::min(hay_begin + 1, hay_word.size() - 1)]];
    const Word& last = words[hay_word[std::min(hay_end - 2, hay_word.size() - 1)]];
    const auto [b, e] = norm.original(first.begin, last.end);
    return Source{std::string(original.substr(b, e - b)), b, e};
  };
  if (!kept.empty()) {
    // Fold like the other fields: a correction between two names keeps the later; two names without one is a doubt.
    const Hit* current = &kept[0];
    std::vector<const Restaurant*> several{current->restaurant};
    for (std::size_t k = 1; k < kept.size(); ++k) {
      if (kept[k].restaurant == current->restaurant) continue;
      // markers are in normalized coordinates; compare through the words' normalized ranges
      const std::size_t a_end = words[hay_word[std::min(current->end - 2, hay_word.size() - 1)]].end;
      const std::size_t b_begin = words[hay_word[std::min(kept[k].begin + 1, hay_word.size() - 1)]].begin;
      const bool corrected = std::any_of(markers.begin(), markers.end(), [&](const Marker& m) {
        return m.correction && m.begin >= a_end && m.end <= b_begin;
      });
      if (corrected) {
        current = &kept[k];
        several = {current->restaurant};
      } else if (std::find(several.begin(), several.end(), kept[k].restaurant) == several.end()) {
        several.push_back(kept[k].restaurant);
      }
    }
    out.source = source_of(current->begin, current->end);
    if (several.size() > 1) {
      out.candidates = several;
      out.how = "several";
    } else {
      out.restaurant = current->restaurant;
      out.how = current->alias ? "alias" : "name";
    }
    return out;
  }
  // No exact name: a partial or misspelt one. Every distinctive word of a name (not "the", "restaurant", ...) is
  // compared with the text's words; a word of 4+ letters that equals one is a partial match, one a letter or two
  // away (5+ letters) a misspelt one. Either is asked back ("Did you mean ...?"), never taken.
  std::vector<const Restaurant*> candidates;
  std::size_t source_begin = std::string::npos, source_end = 0;
  for (const Restaurant& r : config.restaurants) {
    std::vector<std::string> name_words;
    for (const std::string& name : [&] {
           std::vector<std::string> all{r.name};
           all.insert(all.end(), r.aliases.begin(), r.aliases.end());
           return all;
         }()) {
      for (const Word& nw : words_of(name))
        if (!nw.punct && !generic_word(nw.text) && nw.text.size() >= 4) name_words.push_back(nw.text);
    }
    bool matched = false;
    for (std::size_t k : content) {
      const std::string& tw = words[k].text;
      if (tw.size() < 4 || generic_word(tw)) continue;
      for (const std::string& nw : name_words) {
        const std::size_t d = edit_distance(tw, nw);
        const bool close = d == 0 || (tw.size() >= 5 && nw.size() >= 5 && d <= (nw.size() >= 8 ? 2u : 1u)) ||
                           (tw.size() >= 4 && (nw.rfind(tw, 0) == 0 || tw.rfind(nw, 0) == 0) &&
                            std::min(tw.size(), nw.size()) >= 4 && std::max(tw.size(), nw.size()) -
                            std::min(tw.size(), nw.size()) <= 2);
        if (close) {
          matched = true;
          source_begin = std::min(source_begin, words[k].begin);
          source_end = std::max(source_end, words[k].end);
        }
      }
    }
    if (matched) candidates.push_back(&r);
  }
  if (!candidates.empty()) {
    out.candidates = candidates;
    out.how = candidates.size() == 1 ? "partial" : "several";
    const auto [b, e] = norm.original(source_begin, source_end);
    out.source = Source{std::string(original.substr(b, e - b)), b, e};
  }
  return out;
}

std::string say_party(const int& n) { return std::to_string(n) + (n == 1 ? " person" : " people"); }
std::string say_clock(const int& m) { return say_time(m); }

}  // namespace

bool within_dining_hours(int minutes) {
  return (minutes >= 11 * 60 && minutes < 15 * 60) || (minutes >= 17 * 60 && minutes <= 22 * 60 + 30);
}

RequestReading read_request(std::string_view text, const ReservationConfig& config, chr::year_month_day today) {
  RequestReading reading;
  const Normalized norm = normalize(text);
  reading.normalized = norm.text;
  const auto words = words_of(norm.text);
  const auto markers = markers_in(words);

  // Phone numbers (found in the original: the normalizer may touch digits) take their digits out of every other
  // field. Their normalized range is found by the original offsets.
  std::vector<std::pair<std::size_t, std::size_t>> phone_spans;  // normalized
  for (std::size_t from = 0; from < text.size();) {
    auto found = find_phone_number(text.substr(from), config.phone_region);
    if (!found) break;
    const std::size_t b = found->begin + from, e = found->end + from;
    std::size_t nb = std::string::npos, ne = 0;
    for (std::size_t k = 0; k < norm.text.size(); ++k)
      if (norm.from[k] >= b && norm.to[k] <= e) {
        nb = std::min(nb, k);
        ne = k + 1;
      }
    if (nb != std::string::npos) phone_spans.emplace_back(nb, ne);
    from = e;
  }

  // Dates.
  std::vector<Mention<chr::year_month_day>> dates;
  std::vector<std::pair<std::size_t, std::size_t>> date_spans;
  for (const DateMention& d : find_dates(norm.text, today, config.date_order)) {
    if (inside(d.begin, d.end, phone_spans)) continue;
    dates.push_back({d.date, d.begin, d.end, d.doubt});
    date_spans.emplace_back(d.begin, d.end);
    const std::string said = lower(std::string_view(norm.text).substr(d.begin, d.end - d.begin));
    if (said.find("tonight") != std::string::npos) reading.said_tonight = true;
  }
  // Times (not inside a date or a phone number).
  std::vector<Mention<int>> times;
  std::vector<std::pair<std::size_t, std::size_t>> taken = phone_spans;
  taken.insert(taken.end(), date_spans.begin(), date_spans.end());
  for (const TimeMention& t : find_times_of_day(norm.text)) {
    if (inside(t.begin, t.end, taken)) continue;
    Mention<int> time{t.minutes, t.begin, t.end, ""};
    if (!t.definite) time.other_half = (t.minutes + 12 * 60) % (24 * 60);
    if (!t.definite && !within_dining_hours(t.minutes)) {
      const int h12 = (t.minutes / 60) % 12 == 0 ? 12 : (t.minutes / 60) % 12;
      const int minute = t.minutes % 60;
      const std::string clock = std::to_string(h12) + (minute ? (minute < 10 ? ":0" : ":") + std::to_string(minute) : "");
      time.doubt =
          clock + " in the morning or in the evening? (" + say_time(t.minutes) + " is outside usual dining hours)";
      time.doubt_is_dining_hours = true;
    } else if (t.definite && t.minutes < 6 * 60) {
      time.doubt = say_time(t.minutes) + " is outside any usual opening hours";
    }
    times.push_back(std::move(time));
  }
  // A bare hour after a day ("tomorrow 2") is a time only when no other time was said ("7pm tomorrow 2").
  if (times.size() > 1) {
    times.erase(std::remove_if(times.begin(), times.end(),
                               [&](const auto& t) {
                                 return std::find(norm.guessed_times.begin(), norm.guessed_times.end(), t.begin) !=
                                        norm.guessed_times.end();
                               }),
                times.end());
  }
  // "between 7 and 8" is a range, not a time.
  for (std::size_t k = 0; k + 1 < words.size(); ++k)
    if (words[k].text == "between")
      for (auto& t : times)
        if (t.begin >= words[k].end && t.begin <= words[k].end + 2) t.doubt = "a time between two times was given";
  for (const auto& t : times) taken.emplace_back(t.begin, t.end);

  // Head counts.
  auto parties = party_mentions(words, taken);

  // A bare number right after a correction or an alternative belongs to the field said just before it.
  for (const Marker& m : markers) {
    std::size_t k = 0;
    while (k < words.size() && words[k].begin < m.end) ++k;
    while (k < words.size() && (words[k].punct || words[k].text == "thats" || words[k].text == "it" ||
                                words[k].text == "make" || words[k].text == "to" || words[k].text == "for" ||
                                words[k].text == "i" || words[k].text == "mean" || words[k].text == "at"))
      ++k;
    auto n = number_at(words, k);
    if (!n) continue;
    const std::size_t nb = words[k].begin, ne = words[k + n->second - 1].end;
    auto covered = [&](const auto& list) {
      return std::any_of(list.begin(), list.end(), [&](const auto& x) { return x.begin < ne && x.end > nb; });
    };
    if (covered(times) || covered(parties) || covered(dates) || inside(nb, ne, phone_spans)) continue;
    // The field of the last mention that ends before the marker.
    std::size_t last_time = 0, last_party = 0;
    bool have_time = false, have_party = false;
    for (const auto& t : times)
      if (t.end <= m.begin) { last_time = t.end; have_time = true; }
    for (const auto& p : parties)
      if (p.end <= m.begin) { last_party = p.end; have_party = true; }
    if (have_time && (!have_party || last_time > last_party)) {
      std::string said = std::string(std::string_view(norm.text).substr(nb, ne - nb));
      std::size_t end = ne;
      if (k + n->second < words.size() && (words[k + n->second].text == "pm" || words[k + n->second].text == "am")) {
        said += " " + words[k + n->second].text;
        end = words[k + n->second].end;
      }
      if (auto minutes = parse_time_of_day(said)) {
        Mention<int> time{*minutes, nb, end, ""};
        if (said.find('m') == std::string::npos) {
          time.other_half = (*minutes + 12 * 60) % (24 * 60);
          if (!within_dining_hours(*minutes)) {
            time.doubt = say_time(*minutes) + " is outside usual dining hours";
            time.doubt_is_dining_hours = true;
          }
        }
        times.push_back(std::move(time));
      }
    } else if (have_party) {
      parties.push_back({n->first, nb, ne, ""});
    }
  }

  fold<chr::year_month_day>(dates, markers, norm, text, reading.date, "dates",
                            [&](const chr::year_month_day& d) { return say_date(d, today); });
  fold<int>(times, markers, norm, text, reading.time, "times", say_clock);
  fold<int>(parties, markers, norm, text, reading.party_size, "party sizes", say_party);
  reading.restaurant = read_restaurant(config, norm, text, markers);
  return reading;
}

}  // namespace concierge::reservation
