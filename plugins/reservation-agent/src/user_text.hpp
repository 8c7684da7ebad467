#pragma once
// What text from a booking request may hold before it reaches the voice model: a character set and a length per
// field. The instructions carry these values only inside a delimited JSON block marked as data (see
// ReservationSession::instructions), and the rules here keep the block's markers and any markup out of them, so a
// request cannot end the block early or dress its text up as instructions.
#include <string>
#include <string_view>

namespace concierge::reservation {

struct UserTextRule {
  const char* field;         // "customer_name"
  const char* description;   // what it may hold, for the error: "letters, spaces and . ' -"
  std::size_t max_characters;
  bool (*allowed)(char32_t);
};

// The rules of the text fields a request may set: customer_name, special_requests, restaurant; nullptr for others.
const UserTextRule* user_text_rule(std::string_view field);

// "" when `value` keeps to `rule`; otherwise a sentence that names the field, says what is wrong and what is allowed
// (never echoing more than a short, sanitised excerpt of the value).
std::string user_text_problem(const UserTextRule& rule, std::string_view value);

// The whole free-text request (POST /calls "request"): at most this many characters, none of them control
// characters (newlines included: one request is one line of speech).
inline constexpr std::size_t kMaxRequestCharacters = 1000;
std::string request_text_problem(std::string_view text);

}  // namespace concierge::reservation
