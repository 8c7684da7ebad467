#include "restaurant_dialogue.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <vector>

#include "concierge/speech/spoken.hpp"

namespace concierge::sim {
namespace {

using namespace std::chrono;

bool has_word(const std::vector<std::string>& words, std::string_view word) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

bool has_phrase(const std::string& lower_text, std::string_view phrase) {
  return lower_text.find(phrase) != std::string::npos;
}

bool is_negative(std::string_view text) {
  const auto words = words_of(text);
  const std::string l = to_lower(text);
  return has_word(words, "no") || has_word(words, "not") || has_word(words, "unfortunately") ||
         has_word(words, "doesn't") || has_word(words, "won't") || has_word(words, "can't") ||
         has_word(words, "cannot") || has_phrase(l, "too late") || has_phrase(l, "too early") ||
         has_word(words, "decline");
}

bool is_affirmative(std::string_view text) {
  const auto words = words_of(text);
  for (std::string_view w : {"yes", "yeah", "yep", "sure", "great", "perfect", "fine", "okay", "ok", "works",
                             "good", "absolutely", "correct", "right"})
    if (has_word(words, w)) return true;
  return false;
}

bool is_goodbye(std::string_view text) {
  const auto words = words_of(text);
  return has_word(words, "bye") || has_word(words, "goodbye") || has_word(words, "thanks") ||
         has_word(words, "thank");
}

bool asks_to_repeat(std::string_view text) {
  const std::string l = to_lower(text);
  return has_phrase(l, "repeat") || has_phrase(l, "again") || has_phrase(l, "say that") ||
         has_phrase(l, "pardon");
}

std::string trim_punctuation(std::string_view token) {
  while (!token.empty() && !std::isalnum(static_cast<unsigned char>(token.back()))) token.remove_suffix(1);
  while (!token.empty() && !std::isalnum(static_cast<unsigned char>(token.front()))) token.remove_prefix(1);
  return std::string(token);
}

// The customer's name from "It's under Alex Morgan", "The name is Alex Morgan", "Alex Morgan, please": the capitalised
// words after a cue, or else every capitalised word that is not a common sentence opener.
std::string extract_name(std::string_view text) {
  std::vector<std::string> tokens;
  for (std::size_t pos = 0; pos < text.size();) {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    const auto start = pos;
    while (pos < text.size() && !std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    if (pos > start) tokens.emplace_back(text.substr(start, pos - start));
  }
  static const std::array<std::string_view, 26> not_names{
      "it's", "it", "the", "my", "yes", "sure", "i", "i'm", "that", "name", "under", "this", "please", "thanks",
      "thank", "okay", "ok", "hi", "hello", "sorry", "you", "we", "and", "is", "for", "a"};
  auto is_name_word = [&](const std::string& token) {
    const std::string bare = trim_punctuation(token);
    return !bare.empty() && std::isupper(static_cast<unsigned char>(bare[0])) &&
           std::find(not_names.begin(), not_names.end(), to_lower(bare)) == not_names.end();
  };
  std::size_t begin = 0;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string l = to_lower(trim_punctuation(tokens[i]));
    if (l == "under" || l == "is" || l == "name's" || l == "it's") begin = i + 1;
  }
  for (std::size_t start : {begin, std::size_t{0}}) {
    std::string name;
    for (std::size_t i = start; i < tokens.size(); ++i) {
      if (!is_name_word(tokens[i])) {
        if (!name.empty()) break;
        continue;
      }
      name += (name.empty() ? "" : " ") + trim_punctuation(tokens[i]);
      const char last = tokens[i].back();
      if (last == ',' || last == '.' || last == '!' || last == '?') break;
    }
    if (!name.empty()) return name;
  }
  return {};
}

std::string digits_only(std::string_view text) {
  std::string out;
  for (char c : text)
    if (std::isdigit(static_cast<unsigned char>(c))) out.push_back(c);
  return out;
}

std::string without_dashes(std::string_view text) {
  std::string out;
  for (char c : text)
    if (c != '-') out.push_back(c);
  return out;
}

// Words for spelling letters over the phone (the names US restaurants actually use, not NATO's).
constexpr std::array<std::string_view, 26> kLetterWords{
    "Adam",  "Boy",  "Charlie", "David",   "Edward", "Frank",  "George", "Henry", "Ida",
    "John",  "King", "Lincoln", "Mary",    "Nancy",  "Ocean",  "Peter",  "Queen", "Robert",
    "Sam",   "Tom",  "Union",   "Victor",  "William", "Xavier", "Young", "Zebra"};

// How staff name letters aloud ("bee", "aitch"). Letters whose names are also everyday words ("see", "you",
// "why", "jay") are said with a word ("C as in Charlie"), as careful staff do so they are not misheard.
constexpr std::array<std::string_view, 26> kLetterNames{
    "ay", "bee", "", "dee", "ee", "eff", "", "aitch", "", "", "", "ell", "em",
    "en", "",    "pee", "cue", "ar", "ess", "tee", "", "vee", "double you", "", "", "zee"};

std::string weekday_name(year_month_day date) {
  static constexpr std::array<std::string_view, 7> names{"Sunday", "Monday", "Tuesday", "Wednesday",
                                                         "Thursday", "Friday", "Saturday"};
  return std::string(names[weekday(sys_days(date)).c_encoding()]);
}

year_month_day utc_today() { return year_month_day(floor<days>(system_clock::now())); }

}  // namespace

// ---- BookingLedger / SplitMix64 ---------------------------------------------------------------------------------

int BookingLedger::booked(year_month_day date, int minutes) const {
  const auto found = tables_.find({sys_days(date).time_since_epoch().count(), minutes});
  return found == tables_.end() ? 0 : found->second;
}

void BookingLedger::book(year_month_day date, int minutes) {
  ++tables_[{sys_days(date).time_since_epoch().count(), minutes}];
}

std::uint64_t SplitMix64::next() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

double SplitMix64::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

std::uint64_t SplitMix64::below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }

// ---- RestaurantDialogue -----------------------------------------------------------------------------------------

std::string_view to_string(RestaurantDialogue::State state) {
  using S = RestaurantDialogue::State;
  switch (state) {
    case S::awaiting_request: return "awaiting_request";
    case S::awaiting_offer_answer: return "awaiting_offer_answer";
    case S::awaiting_name: return "awaiting_name";
    case S::awaiting_phone: return "awaiting_phone";
    case S::awaiting_readback: return "awaiting_readback";
    case S::awaiting_goodbye: return "awaiting_goodbye";
    case S::finished: return "finished";
  }
  return "?";
}

RestaurantDialogue::RestaurantDialogue(const LineSettings& settings, Scenario scenario,
                                       std::shared_ptr<BookingLedger> ledger, std::uint64_t seed)
    : settings_(settings),
      scenario_(scenario),
      ledger_(std::move(ledger)),
      random_(seed),
      today_(settings.today.value_or(utc_today())) {}

std::string RestaurantDialogue::say(std::string_view pattern) const {
  std::map<std::string, std::string> values{{"restaurant", settings_.restaurant_name}, {"name", name_}};
  if (party_size_) values["party_size"] = std::to_string(*party_size_);
  if (date_) {
    values["date"] = say_date(*date_, today_);
    values["weekday"] = weekday_name(*date_);
    if (const auto& services = settings_.opening_hours.services_on(*date_); !services.empty()) {
      values["open"] = say_time(services.front().open);
      values["close"] = say_time(services.back().close % (24 * 60));
    }
  }
  if (requested_time_) values["requested_time"] = say_time(*requested_time_);
  if (offered_time_) values["alternative_time"] = say_time(*offered_time_);
  if (const auto t = agreed_time_ ? agreed_time_ : requested_time_) values["time"] = say_time(*t);
  if (!code_.empty()) values["code"] = code_spoken_;
  return fill_placeholders(pattern, values);
}

std::string RestaurantDialogue::greeting() const { return say(settings_.phrases.greeting); }

RestaurantDialogue::Reply RestaurantDialogue::misunderstood() {
  if (++misunderstandings_ > settings_.max_repeats) {
    state_ = State::finished;
    return {say(settings_.phrases.give_up), true};
  }
  return {say(settings_.phrases.repeat), false};
}

RestaurantDialogue::Reply RestaurantDialogue::on_idle() {
  if (state_ == State::finished) return {};
  if (++idle_prompts_ > 2) {
    state_ = State::finished;
    return {say(settings_.phrases.give_up), true};
  }
  return {say(settings_.phrases.idle), false};
}

namespace {
// Does the restaurant seat a table at `minutes` on `date`: inside one of the day's services, or the late part of
// the day before's? The last table of a service is seated one slot before it closes.
bool seats_at(const LineSettings& settings, year_month_day date, int minutes) {
  auto seats = [&](year_month_day day, int at) {
    for (const auto& service : settings.opening_hours.services_on(day))
      if (at >= service.open && at <= service.close - settings.slot_minutes) return true;
    return false;
  };
  return seats(date, minutes) || seats(year_month_day{sys_days(date) - days{1}}, minutes + 24 * 60);
}
}  // namespace

bool RestaurantDialogue::slot_open(year_month_day date, int minutes) const {
  return seats_at(settings_, date, minutes) && ledger_->booked(date, minutes) < settings_.tables_per_slot;
}

std::optional<int> RestaurantDialogue::nearest_free_slot(year_month_day date, int minutes) const {
  std::optional<int> best;
  // The day's own services, before midnight (a table after midnight is the next day's date).
  for (const auto& service : settings_.opening_hours.services_on(date)) {
    const int last = std::min(service.close - settings_.slot_minutes, 24 * 60 - 1);
    for (int t = service.open; t <= last; t += settings_.slot_minutes) {
      if (t == minutes || !slot_open(date, t)) continue;
      // Closest first; on a tie the later time, since a restaurant would rather push a table back than forward.
      if (!best || std::abs(t - minutes) < std::abs(*best - minutes) ||
          (std::abs(t - minutes) == std::abs(*best - minutes) && t > *best))
        best = t;
    }
  }
  return best;
}

RestaurantDialogue::Reply RestaurantDialogue::decide_availability() {
  // Closed that day, unless the table falls in the late part of the day before's service.
  const auto& hours = settings_.opening_hours;
  if (!hours.open_on(*date_) && !(requested_time_ && hours.open_at(*date_, *requested_time_))) {
    state_ = State::awaiting_goodbye;
    return {say(settings_.phrases.closed), false};
  }
  ScenarioOutcome outcome = scenario_.outcome;
  if (outcome == ScenarioOutcome::normal) {
    // Both draws happen on every call, so one probability does not shift the other's random sequence.
    const double booked_draw = random_.uniform();
    const double offer_draw = random_.uniform();
    if (booked_draw < settings_.fully_booked_probability) outcome = ScenarioOutcome::fully_booked;
    else if (offer_draw < settings_.offer_alternative_probability) outcome = ScenarioOutcome::offer_alternative;
    else outcome = ScenarioOutcome::available;
  }
  auto fully_booked = [&] {
    state_ = State::awaiting_goodbye;
    return Reply{say(settings_.phrases.fully_booked), false};
  };
  auto offer = [&](int time, const std::string& phrase) {
    offered_time_ = time;
    state_ = State::awaiting_offer_answer;
    return Reply{say(phrase), false};
  };

  if (outcome == ScenarioOutcome::fully_booked) return fully_booked();
  if (outcome == ScenarioOutcome::offer_alternative) {
    static constexpr std::array<int, 5> kOffsets{30, -30, 60, -60, 90};
    const int offset = scenario_.offer_minutes.value_or(
        scenario_.outcome == ScenarioOutcome::offer_alternative ? 30 : kOffsets[random_.below(kOffsets.size())]);
    for (int candidate : {*requested_time_ + offset, *requested_time_ - offset})
      if (slot_open(*date_, candidate)) return offer(candidate, settings_.phrases.offer);
    if (const auto nearest = nearest_free_slot(*date_, *requested_time_))
      return offer(*nearest, settings_.phrases.offer);
    return fully_booked();
  }
  if (slot_open(*date_, *requested_time_)) {
    agreed_time_ = requested_time_;
    state_ = State::awaiting_name;
    return {say(settings_.phrases.available), false};
  }
  const auto nearest = nearest_free_slot(*date_, *requested_time_);
  if (!nearest) return fully_booked();
  const bool inside_hours = seats_at(settings_, *date_, *requested_time_);
  return offer(*nearest, inside_hours ? settings_.phrases.offer : settings_.phrases.outside_hours);
}

namespace {
constexpr std::array<std::string_view, 26> kNato{
    "Alpha", "Bravo",   "Charlie", "Delta",  "Echo",     "Foxtrot", "Golf",  "Hotel", "India",
    "Juliet", "Kilo",   "Lima",    "Mike",   "November", "Oscar",   "Papa",  "Quebec", "Romeo",
    "Sierra", "Tango",  "Uniform", "Victor", "Whiskey",  "X-ray",   "Yankee", "Zulu"};

// "45" -> "forty-five", "05" -> "oh five", "7" -> "seven".
std::string digit_pair_words(std::string_view digits) {
  if (digits.size() == 1) return say_number(digits[0] - '0');
  if (digits[0] == '0') return "oh " + say_number(digits[1] - '0');
  return say_number((digits[0] - '0') * 10 + (digits[1] - '0'));
}
}  // namespace

std::string RestaurantDialogue::spoken_code() {
  const auto& styles = settings_.confirmation_styles;
  const std::string style = styles.size() == 1 ? styles[0] : styles[random_.below(styles.size())];
  if (style == "digits") return spoken_digits(code_);
  // The other styles read runs of digits and letters their own way.
  std::string spoken;
  auto add = [&](const std::string& item) { spoken += (spoken.empty() ? "" : ", ") + item; };
  std::size_t k = 0;
  while (k < code_.size()) {
    const char c = code_[k];
    if (c == '-') { add("dash"); ++k; continue; }
    if (std::isalpha(static_cast<unsigned char>(c))) {
      if (style == "nato") add(std::string(kNato[c - 'A']));
      else if (style == "names" && !kLetterNames[c - 'A'].empty()) add(std::string(kLetterNames[c - 'A']));
      else add(std::string(1, c) + " as in " + std::string(kLetterWords[c - 'A']));
      ++k;
      continue;
    }
    std::size_t end = k;
    while (end < code_.size() && std::isdigit(static_cast<unsigned char>(code_[end]))) ++end;
    const std::string digits = code_.substr(k, end - k);
    std::string words;
    if (style == "words") {
      for (std::size_t p = 0; p < digits.size(); p += 2)
        words += (words.empty() ? "" : " ") + digit_pair_words(std::string_view(digits).substr(p, 2));
    } else if (style == "grouped") {
      for (std::size_t p = 0; p < digits.size();) {
        std::size_t run = 1;
        while (p + run < digits.size() && digits[p + run] == digits[p] && run < 3) ++run;
        const std::string one = digits[p] == '0' ? "oh" : say_number(digits[p] - '0');
        words += (words.empty() ? "" : " ") + (run == 3 ? "triple " + one : run == 2 ? "double " + one : one);
        p += run;
      }
    } else {  // nato, names, correction: digits one by one
      for (char d : digits) words += (words.empty() ? "" : " ") + say_number(d - '0');
    }
    add(words);
    k = end;
  }
  if (style != "correction") return spoken;
  // A slip first: the last two characters swapped (or the last digit changed when they are equal), then the right
  // number, as staff correct themselves mid-sentence.
  std::string slip = code_;
  if (slip.size() >= 2 && slip[slip.size() - 1] != slip[slip.size() - 2] && slip.back() != '-' &&
      slip[slip.size() - 2] != '-')
    std::swap(slip[slip.size() - 1], slip[slip.size() - 2]);
  else if (std::isdigit(static_cast<unsigned char>(slip.back())))
    slip.back() = static_cast<char>('0' + (slip.back() - '0' + 1) % 10);
  return spoken_digits(slip) + ", sorry, that's " + spoken;
}

std::string RestaurantDialogue::spoken_digits(const std::string& code) {
  // People read codes in groups: digits one by one, letters either plainly or "R as in Robert" (about half the
  // time, decided by the call's seed so a test sees the same speech every run).
  std::string spoken;
  bool previous_was_digit = false;
  for (char c : code) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      spoken += (spoken.empty() ? "" : previous_was_digit ? " " : ", ") + say_number(c - '0');
      previous_was_digit = true;
      continue;
    }
    if (!spoken.empty()) spoken += ", ";
    if (c == '-') spoken += "dash";
    else if (random_.below(2) == 0) spoken += std::string(1, c) + " as in " + std::string(kLetterWords[c - 'A']);
    else spoken += std::string(1, c);
    previous_was_digit = false;
  }
  return spoken;
}

RestaurantDialogue::Reply RestaurantDialogue::on_agent_text(std::string_view text) {
  switch (state_) {
    case State::awaiting_request: {
      bool learned = false;
      if (const auto n = find_party_size(text); n && *n > 0 && *n <= 50) party_size_ = *n, learned = true;
      if (const auto d = find_date(text, today_)) date_ = d->first, learned = true;
      if (const auto t = find_time_of_day(text)) requested_time_ = t->first, learned = true;
      // A short answer to the question just asked: "Four.", "Seven thirty."
      if (!learned && asked_ == Asked::party_size)
        for (const auto& word : words_of(text))
          if (const auto n = parse_number(word); n && *n > 0 && *n <= 50) {
            party_size_ = *n, learned = true;
            break;
          }
      if (!learned && asked_ == Asked::time)
        if (const auto t = parse_time_of_day(trim_punctuation(text))) requested_time_ = *t, learned = true;
      if (!learned) return misunderstood();
      if (!party_size_) return asked_ = Asked::party_size, Reply{say(settings_.phrases.ask_party_size), false};
      if (!date_) return asked_ = Asked::date, Reply{say(settings_.phrases.ask_date), false};
      if (!requested_time_) return asked_ = Asked::time, Reply{say(settings_.phrases.ask_time), false};
      asked_ = Asked::nothing;
      return decide_availability();
    }
    case State::awaiting_offer_answer:
      if (is_negative(text)) {
        state_ = State::awaiting_goodbye;
        return {say(settings_.phrases.declined), false};
      }
      if (is_affirmative(text)) {
        agreed_time_ = offered_time_;
        state_ = State::awaiting_name;
        return {say(settings_.phrases.alternative_accepted), false};
      }
      return misunderstood();
    case State::awaiting_name:
      name_ = extract_name(text);
      if (name_.empty()) return misunderstood();
      state_ = State::awaiting_phone;
      return {say(settings_.phrases.ask_phone), false};
    case State::awaiting_phone: {
      const std::string digits = digits_only(normalize_spoken_code(text));
      if (digits.size() < 7) return misunderstood();
      phone_ = digits;
      ledger_->book(*date_, *agreed_time_);
      {
        // With a salt (no configured seed) the code comes from a stream of its own, different on every run.
        SplitMix64 salted(settings_.code_salt ? random_.next() ^ settings_.code_salt : 0);
        SplitMix64& codes = settings_.code_salt ? salted : random_;
        for (char c : settings_.confirmation_format) {
          if (c == '#') code_.push_back(static_cast<char>('0' + codes.below(10)));
          else if (c == 'A') {
            static constexpr std::string_view kLetters = "ABCDEFGHJKLMNPQRSTUVWXYZ";  // no I or O: read as 1, 0
            code_.push_back(kLetters[codes.below(kLetters.size())]);
          } else code_.push_back(c);
        }
      }
      code_spoken_ = spoken_code();
      state_ = State::awaiting_readback;
      return {say(settings_.phrases.confirm), false};
    }
    case State::awaiting_readback: {
      const std::string heard = without_dashes(normalize_spoken_code(text));
      if (heard.find(without_dashes(code_)) != std::string::npos) {
        state_ = State::awaiting_goodbye;
        return {say(settings_.phrases.readback_correct), false};
      }
      if (digits_only(heard).size() >= 3) {
        if (++misunderstandings_ > settings_.max_repeats) {
          state_ = State::finished;
          return {say(settings_.phrases.give_up), true};
        }
        return {say(settings_.phrases.readback_wrong), false};
      }
      if (asks_to_repeat(text)) return {say(settings_.phrases.repeat_code), false};
      if (is_goodbye(text)) {
        state_ = State::finished;
        return {say(settings_.phrases.goodbye), true};
      }
      return misunderstood();
    }
    case State::awaiting_goodbye:
      if (!code_.empty() && asks_to_repeat(text)) return {say(settings_.phrases.repeat_code), false};
      state_ = State::finished;
      return {say(settings_.phrases.goodbye), true};
    case State::finished:
      return {};
  }
  return {};
}

}  // namespace concierge::sim
