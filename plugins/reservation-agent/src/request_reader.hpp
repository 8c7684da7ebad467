#pragma once
// Reads a booking request as people type and dictate it: every value said for each field, where in the text it
// was said, and whether the reader is sure of it. plan() turns this into a task or into questions.
//
// How a field's value is chosen (README.md, "What the request parser understands"):
// - every mention of the field is collected, in order, each with its byte range in the original text;
// - the same value said twice is one value; a later value after a correction ("no wait", "sorry", "actually",
//   "I mean", "make that/it", "scratch that", "correction", "no", "oops") replaces the earlier one; two different
//   values without a correction ("7 or 8", "Friday or Saturday", "4, maybe 5") are a doubt, asked back;
// - a bare number right after a correction or "or"/"maybe" belongs to the field said just before it
//   ("at 8 no 9" is 9 PM; "for 4, no wait 5" is five people).
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reservation_config.hpp"

namespace concierge::reservation {

// Where a value came from: the words as the user wrote them and their byte range in the request text.
struct Source {
  std::string text;
  std::size_t begin = 0, end = 0;
};

template <typename T>
struct FieldReading {
  std::optional<T> value;
  Source source;
  std::string doubt;       // "" when sure; else what is unsure, in words (the value, if any, is only a guess)
  bool corrected = false;  // a correction replaced an earlier value
  // A time said without am/pm: the other half of the day's reading (the dinner rule chose `value`: "at 4" is
  // 16:00, the other reading 04:00), and whether the only doubt is that `value` is outside the fixed dining hours —
  // a doubt the restaurant's own opening hours can settle.
  std::optional<T> other_half;
  bool doubt_is_dining_hours = false;
};

struct RestaurantReading {
  const Restaurant* restaurant = nullptr;     // sure, from the directory by name or alias
  std::vector<const Restaurant*> candidates;  // unsure: a partial or misspelt name (one or more), or two named
  std::string how;                            // "name" | "alias" | "partial" | "misspelt" | "several"
  Source source;
};

struct RequestReading {
  std::string normalized;  // the text after shorthand and typos were read ("tmrw" -> "tomorrow"), for logs
  RestaurantReading restaurant;
  FieldReading<std::chrono::year_month_day> date;
  FieldReading<int> time;        // minutes since midnight
  FieldReading<int> party_size;
  bool said_tonight = false;     // "tonight" / "tonite" named the date
};

// `today` is the restaurant's today; the date order comes from the config.
RequestReading read_request(std::string_view text, const ReservationConfig& config,
                            std::chrono::year_month_day today);

// Plausible hours for a time said without am/pm (after the dinner rule chose a half of the day): 11:00-14:59 and
// 17:00-22:30. Outside them ("at 4", "10:45") the time is asked back, unless the restaurant's `opening_hours`
// settle which half of the day is meant (the planner's part).
bool within_dining_hours(int minutes);

}  // namespace concierge::reservation
