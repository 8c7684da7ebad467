#include "user_text.hpp"

#include <cstdio>
#include <optional>
#include <vector>

namespace concierge::reservation {
namespace {

// The code points of `text`, or nullopt when it is not valid UTF-8 (overlong forms and surrogates included).
std::optional<std::vector<char32_t>> decode_utf8(std::string_view text) {
  std::vector<char32_t> out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    int length = 0;
    char32_t cp = 0;
    if (b < 0x80) { length = 1; cp = b; }
    else if ((b & 0xE0) == 0xC0) { length = 2; cp = b & 0x1F; }
    else if ((b & 0xF0) == 0xE0) { length = 3; cp = b & 0x0F; }
    else if ((b & 0xF8) == 0xF0) { length = 4; cp = b & 0x07; }
    else return std::nullopt;
    if (i + length > text.size()) return std::nullopt;
    for (int k = 1; k < length; ++k) {
      const auto c = static_cast<unsigned char>(text[i + k]);
      if ((c & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (c & 0x3F);
    }
    static constexpr char32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinimum[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    out.push_back(cp);
    i += static_cast<std::size_t>(length);
  }
  return out;
}

bool ascii_letter(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool digit(char32_t c) { return c >= '0' && c <= '9'; }
// Letters beyond ASCII (é, ß, Ł, ł, ñ, Greek, Cyrillic, CJK ...): everything from Latin-1's letters up, except the
// ranges that are punctuation, symbols, format or control characters, so a name may be "Zoë Łukasiewicz" or
// "山田 太郎" but never carry a bidi override or a zero-width character.
bool other_letter(char32_t c) {
  if (c < 0xC0 || c == 0xD7 || c == 0xF7) return false;
  if (c >= 0x2000 && c <= 0x2BFF) return false;   // General Punctuation (bidi controls, zero-width), symbols, arrows
  if (c >= 0x3000 && c <= 0x303F) return false;   // CJK punctuation
  if (c >= 0xE000 && c <= 0xF8FF) return false;   // private use
  if (c >= 0xFE00 && c <= 0xFE0F) return false;   // variation selectors
  if (c >= 0xFE30 && c <= 0xFE4F) return false;   // CJK compatibility forms
  if (c >= 0xFF00 && c <= 0xFF0F) return false;   // full-width punctuation
  if (c >= 0xFFF0) return c >= 0x10000 && c < 0x1F000;  // specials refused; supplementary letters (not emoji) kept
  return true;
}
bool control(char32_t c) { return c < 0x20 || (c >= 0x7F && c <= 0x9F); }
bool format_character(char32_t c) {
  return (c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) || (c >= 0x2060 && c <= 0x206F) ||
         c == 0xFEFF;
}

bool name_character(char32_t c) {
  return ascii_letter(c) || other_letter(c) || c == ' ' || c == '.' || c == '\'' || c == '-' || c == 0x2019;
}
// A restaurant's name, or the number it is known by when the request gives only that ("+1 555 987 6543").
bool restaurant_character(char32_t c) {
  return name_character(c) || digit(c) || c == '&' || c == ',' || c == '!' || c == '+' || c == '(' || c == ')';
}
// Free text a person would say to the restaurant: letters, digits, spaces and sentence punctuation. No brackets,
// braces, angle brackets, quotes of the JSON kind, backslashes, back-quotes or pipes: nothing that looks like markup,
// code or the data block's delimiters.
bool request_character(char32_t c) {
  if (ascii_letter(c) || digit(c) || other_letter(c) || c == 0x2019) return true;
  switch (c) {
    case ' ': case '.': case ',': case ';': case ':': case '!': case '?': case '\'': case '-': case '(': case ')':
    case '/': case '&': case '+': case '%': case '#': case '@':
      return true;
    default:
      return false;
  }
}

const UserTextRule kRules[] = {
    {"customer_name", "letters, spaces and . ' -", 80, name_character},
    {"restaurant", "letters, digits, spaces and . , ' - & ! + ( )", 100, restaurant_character},
    {"special_requests", "letters, digits, spaces and . , ; : ! ? ' - ( ) / & + % # @", 300, request_character},
};

std::string code_point_text(char32_t c) {
  char text[16];
  std::snprintf(text, sizeof text, "U+%04X", static_cast<unsigned>(c));
  return text;
}

// A character as the error message shows it: itself when printable ASCII, else its code point.
std::string shown(char32_t c) {
  if (c > 0x20 && c < 0x7F) return std::string("\"") + static_cast<char>(c) + "\"";
  if (c == ' ') return "a space";
  return code_point_text(c);
}

}  // namespace

const UserTextRule* user_text_rule(std::string_view field) {
  for (const auto& rule : kRules)
    if (field == rule.field) return &rule;
  return nullptr;
}

std::string user_text_problem(const UserTextRule& rule, std::string_view value) {
  const auto decoded = decode_utf8(value);
  const std::string field = std::string("The ") + rule.field;
  if (!decoded) return field + " is not valid UTF-8 text.";
  if (decoded->size() > rule.max_characters)
    return field + " is " + std::to_string(decoded->size()) + " characters long; at most " +
           std::to_string(rule.max_characters) + " are allowed.";
  for (char32_t c : *decoded)
    if (!rule.allowed(c))
      return field + " may hold only " + rule.description + "; it has " + shown(c) + ".";
  return "";
}

std::string request_text_problem(std::string_view text) {
  const auto decoded = decode_utf8(text);
  if (!decoded) return "The request is not valid UTF-8 text.";
  if (decoded->size() > kMaxRequestCharacters)
    return "The request is " + std::to_string(decoded->size()) + " characters long; at most " +
           std::to_string(kMaxRequestCharacters) + " are allowed.";
  for (char32_t c : *decoded)
    if (control(c) || format_character(c))
      return "The request may not hold control or invisible formatting characters (it has " + code_point_text(c) +
             "); write it as one line of plain text.";
  return "";
}

}  // namespace concierge::reservation
