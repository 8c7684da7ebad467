#pragma once
// Helpers for text as people speak it: number words, times of day, dates, party sizes and spelled codes.
//
// Used on both sides of a call: the reservation agent reads the user's request and the restaurant's words with
// them, and the offline simulated restaurant / scripted voice model use them to understand each other and to speak.
// Everything here works on plain English text (any case, punctuation allowed) and never throws; "not understood" is
// an empty optional.
//
// THE RULES (one place, so every user reads text the same way)
// - Numbers: digits ("22") or words ("twenty two", "twenty-two", "one hundred and five", "a dozen" = 12).
// - Times of day: "7pm", "7 p.m.", "7:30 pm", "19:00", "noon", "midnight", "seven thirty", "half past seven",
//   "quarter past 7", "quarter to 8", "7 o'clock", "7 in the evening", "eight tonight".
//   Without AM/PM, a 12-hour reading is chosen for dinner: hours 1..10 mean PM (7 -> 19:00, 10 -> 22:00), 11 means
//   11 AM and 12 means noon. A colon time with a two-digit hour ("07:30", "10:00", "19:00") is a 24-hour time, so
//   every "HH:MM" reads back as itself; "7:30" (one digit) follows the dinner rule and is 19:30.
//   "in the morning" / "am" force AM; "tonight", "in the evening", "in the afternoon", "pm" force PM. An hour of
//   13..23 with "pm" ("19:00 pm", "13pm") is read as the 24-hour time it already is; with "am" it is not a time.
// - Dates: "today", "tonight", "tomorrow", "day after tomorrow", weekdays, "Dec 3", "December 3rd", "3 December",
//   "the 3rd of December", "December 3, 2026", "2026-12-03", and US-ordered "12/3" or "12/3/2026".
//   A weekday ("Friday", "on Friday", "this Friday") is the first such day from today on, today included.
//   "next Friday" is the Friday of the following week (weeks start on Monday): on Monday 23 Nov 2026 "Friday" is
//   27 Nov and "next Friday" is 4 Dec. A month and day without a year is the first such date from today on (so
//   "Jan 5" said in November is next year's); an explicit year is kept as written, even in the past.
// - Spoken codes: digit words and digits, "oh"/"o" = 0, "double 7" = 77, "triple 0" = 000, single letters,
//   "A as in apple" = A, NATO words (alpha, bravo, ...) = their letter, letter names ("bee", "aitch", "double
//   you"; see normalize_spoken_code), "dash"/"hyphen" = '-', "forty five" = 45.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <utility>

namespace concierge {

// ---- numbers ----------------------------------------------------------------------------------------------------

// Lower-case ASCII copy.
std::string to_lower(std::string_view text);
// The words of a sentence, lower-case, apostrophes kept ("that's"), other punctuation dropped.
std::vector<std::string> words_of(std::string_view text);

// The whole text as a number: "4", "four", "twenty two", "twenty-two", "one hundred and five", "a dozen".
// Non-negative results only; nullopt when anything else is in the text.
std::optional<int> parse_number(std::string_view text);

// The words for n: 4 -> "four", 22 -> "twenty-two", 105 -> "one hundred five", 2026 -> "two thousand twenty-six".
// Negative numbers get "minus ".
std::string say_number(int n);

// ---- times of day -----------------------------------------------------------------------------------------------

// The whole text as a time of day, in minutes since midnight (0..1439). Lenient: a bare "7" or "seven" is a time
// here (19:00 by the dinner rule above), because the caller already knows the text is a time.
std::optional<int> parse_time_of_day(std::string_view text);

// The first time of day in a sentence: {minutes since midnight, byte offset where the time's words begin}.
// Stricter than parse_time_of_day: a bare number counts only after "at", "around", "about", "by" or "until", or
// before "o'clock"/"am"/"pm", or as an hour word with a minute word ("seven thirty") — so "for 4 people" and
// "party of 7" are not times, while "at 7", "7pm", "19:30" and "half past seven" are.
std::optional<std::pair<int, std::size_t>> find_time_of_day(std::string_view text);

// Every time of day in a sentence, by the rules of find_time_of_day, in order. `definite` says whether the half of
// the day was said (am/pm, "in the evening", noon, midnight, a 24-hour clock such as "19:30" or "07:30") rather
// than chosen by the dinner rule ("at 7", "seven thirty").
struct TimeMention {
  int minutes = 0;
  std::size_t begin = 0, end = 0;  // byte range in the text
  bool definite = false;
};
std::vector<TimeMention> find_times_of_day(std::string_view text);

// For people and for speech: 19:00 -> "7 PM", 19:30 -> "7:30 PM", 9:05 -> "9:05 AM", 12:00 -> "noon",
// 0:00 -> "midnight", 12:30 -> "12:30 PM". parse_time_of_day reads every result back to the same minutes.
std::string say_time(int minutes_since_midnight);

// 19:30 -> "19:30" (what the reservation task and the confirm_reservation tool carry).
std::string format_hh_mm(int minutes_since_midnight);

// ---- party sizes ------------------------------------------------------------------------------------------------

// The number of people in a sentence: "for 4 people", "party of four", "table for two", "4 guests", "for 4 at 7pm",
// "six of us", "2 adults", "with 3 friends" (4: the speaker comes too), "me and my wife" / "my wife and I" (2),
// "family of 5". "for 7pm" and "for 7:30" are times, not party sizes. nullopt when none is said.
std::optional<int> find_party_size(std::string_view text);

// ---- dates ------------------------------------------------------------------------------------------------------

// "2026-11-25" -> that date (must be a real calendar date); nullopt otherwise.
std::optional<std::chrono::year_month_day> parse_iso_date(std::string_view text);
std::string format_iso_date(std::chrono::year_month_day date);  // "2026-11-25"

// The first date in a sentence, resolved against `today` by the rules above: {date, byte offset where it begins}.
std::optional<std::pair<std::chrono::year_month_day, std::size_t>> find_date(std::string_view text,
                                                                             std::chrono::year_month_day today);

// Which number comes first in "12/5": the month (US), the day, or neither (ask when both readings are dates).
enum class DateOrder { month_first, day_first, ask };
// Every date in a sentence, in order, with the doubts a careful reader has about it: a slashed date that reads
// two ways (DateOrder::ask) or only the other way round, "next Friday" said while this week's Friday is still to
// come, a weekday said on that weekday ("Tuesday" on a Tuesday: today or next week?), a weekday beside a calendar
// date that it does not match ("Friday, December 3" when the 3rd is a Thursday). A weekday right beside a
// calendar date is one mention. Also: "yesterday", "in two weeks", "a week from today", "Friday week", "a week on
// Friday", and holidays (Christmas Eve/Day, Boxing Day, New Year's Eve/Day, NYE, Valentine's Day, St Patrick's Day,
// Halloween, Independence Day, Thanksgiving = the US one): the first such day from today on. With
// DateOrder::day_first, "25.12." and "25.12.2026" are dates too.
struct DateMention {
  std::chrono::year_month_day date;
  std::size_t begin = 0, end = 0;  // byte range in the text
  std::string doubt;               // "" when sure; else why not, in words
};
std::vector<DateMention> find_dates(std::string_view text, std::chrono::year_month_day today,
                                    DateOrder order = DateOrder::month_first);

// For speech: "Wednesday, November 25". With the year when it differs from today's: "Monday, January 4, 2027".
std::string say_date(std::chrono::year_month_day date, std::chrono::year_month_day today);
// For a summary line: "Wed 25 Nov 2026".
std::string short_date(std::chrono::year_month_day date);

// ---- spoken codes (confirmation numbers) ------------------------------------------------------------------------

// Spoken characters to characters: "four five seven two" -> "4572", "four oh seven" -> "407", "double seven" -> "77",
// "A as in apple" -> "A", "R dash 4 5" -> "R-45", "ABC 123" -> "ABC123", "forty five seventy two" -> "4572".
// A letter is a single letter, a NATO word, a word written in capitals ("ABC"), or a letter's name: "bee", "dee",
// "aitch", "ess", "zed" and the like anywhere; names that are also ordinary words or people's names ("see",
// "you", "why", "are", "jay", "kay", "ex") only glued between two characters of the code, one of them a letter
// ("bee see four" -> "BC4", but "let me see, 1 9 9 3" keeps its "see"). "double you" is W. The word after "as in"
// ("apple") is not a character. Letters come out upper-case; commas, periods and words that
// are not characters are dropped. Dashes stay ("R-45") unless every dash-separated group is a single character
// ("4-5-7-2" -> "4572", the way recognisers write spelled digits).
std::string normalize_spoken_code(std::string_view spoken);

// The confirmation number a restaurant gives in one utterance, normalized as above, or nullopt. It is the code
// spoken right after "confirmation (number|code)", "reference (number)", "booking (number|reference)",
// "reservation number" or "code", skipping "is", "it's", ":", "will be" and the like: "your confirmation number is
// 4572", "confirmation: R as in Robert, 4 5 7 2", "the reference is four five seven two", "for 4 people at 7,
// confirmation 8812" (-> "8812"). Without such a word, only a token that mixes letters and digits and is at least
// four long counts ("it's ABC123"); bare digit runs are left alone, since they may be a phone number or a time.
// A code has at least 3 characters.
// The plausible length of a confirmation number, in characters without dashes.
struct CodeLength {
  std::size_t min = 3;
  std::size_t max = 10;
};
// Also: "number" alone as the keyword ("your number is 4813"; not "table number", "number of guests"); "M for
// Mike" / "L like Lima"; "capital B"; "three thousand four hundred and twelve" read by the number grammar; "uh"/"um"
// inside a code skipped; a correction after a code ("4-8-3-1, sorry, that's 4-8-1-3", "five six seven... no wait,
// five seven six eight") replaces it; ten or more digits alone are a phone number, not a code.
std::optional<std::string> find_confirmation_code(std::string_view utterance, CodeLength length = {});
// The same, with the readings the speaker corrected away (oldest first), so a caller can tell a correction from a
// disagreement.
struct CodeReading {
  std::string code;
  std::vector<std::string> corrected;
};
std::optional<CodeReading> read_confirmation_code(std::string_view utterance, CodeLength length = {});
// The same for the answer to "could I have the confirmation number?": when the utterance has no keyword, a code
// that IS the answer is taken too — the utterance opens with it, after at most a few words like "sure", "it's",
// "that's", "yes" ("It's bee see four four one", "five six seven... no wait, five seven six eight"), and nothing but a
// correction and a short close follows it. Anything else (times, party sizes, "let me check") is still not a code.
std::optional<CodeReading> read_confirmation_answer(std::string_view utterance, CodeLength length = {});

// How to read a code aloud: "4572" -> "four five seven two"; a code with letters or dashes is read item by item
// with commas, letters as capitals: "R45" -> "R, four, five", "R-45" -> "R, dash, four, five".
// normalize_spoken_code(spell_code(c)) == c for every code of capital letters, digits and dashes (except codes like
// "A-1" whose dashes only separate single characters, which normalize without them). Letter O is read "O as in Oscar"
// so it is not heard as zero.
std::string spell_code(std::string_view code);

}  // namespace concierge
