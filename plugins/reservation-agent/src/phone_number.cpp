#include "phone_number.hpp"

#include <cctype>

namespace concierge::reservation {

std::optional<std::string> normalize_phone_number(std::string_view input) {
  // "+44 (0)20 7946 0018": the "(0)" is the trunk prefix dialled only from inside the country.
  std::string cleaned(input);
  if (const auto at = cleaned.find("(0)"); at != std::string::npos &&
                                           (cleaned.find('+') < at || cleaned.rfind("00", 0) == 0))
    cleaned.erase(at, 3);
  const std::string_view text = cleaned;
  std::string digits;
  bool plus = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (std::isdigit(c)) {
      digits.push_back(static_cast<char>(c));
    } else if (c == '+' && digits.empty() && !plus) {
      plus = true;
    } else if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '\t') {
      continue;
    } else {
      return std::nullopt;
    }
  }
  if (!plus && digits.size() > 2 && digits.compare(0, 2, "00") == 0) {
    digits.erase(0, 2);
    plus = true;
  }
  if (!plus) {
    if (digits.size() == 10 && digits[0] != '0' && digits[0] != '1') digits.insert(digits.begin(), '1');
    else if (!(digits.size() == 11 && digits[0] == '1')) return std::nullopt;
  }
  if (digits.size() < 7 || digits.size() > 15 || digits[0] == '0') return std::nullopt;
  std::string e164 = "+";  // built by append: GCC 12 warns falsely (-Wrestrict) on "+" + digits
  e164 += digits;
  return e164;
}

std::optional<PhoneMention> find_phone_number(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const bool can_start = std::isdigit(c) || ((c == '+' || c == '(') && i + 1 < text.size() &&
                                               std::isdigit(static_cast<unsigned char>(text[i + 1])));
    // A number glued to letters ("ABC1234567890") is a code, not a phone number.
    if (!can_start || (i > 0 && std::isalnum(static_cast<unsigned char>(text[i - 1])))) {
      ++i;
      continue;
    }
    std::size_t j = i, digit_count = 0, last_digit_end = i;
    while (j < text.size()) {
      const unsigned char d = static_cast<unsigned char>(text[j]);
      if (std::isdigit(d)) {
        ++digit_count;
        last_digit_end = j + 1;
      } else if (!(d == ' ' || d == '-' || d == '.' || d == '(' || d == ')' || (d == '+' && j == i))) {
        break;
      }
      ++j;
    }
    const bool glued = last_digit_end < text.size() && std::isalpha(static_cast<unsigned char>(text[last_digit_end]));
    // "2026-11-25 19:00" and "7:30 5551234567" must not merge into a phone number: a run with an ISO date or that
    // runs into a clock time is not one.
    const std::string_view run = text.substr(i, last_digit_end - i);
    const bool into_time = last_digit_end < text.size() && text[last_digit_end] == ':';
    const bool from_time = i > 0 && text[i - 1] == ':';
    bool has_iso_date = false;
    for (std::size_t k = 0; k + 10 <= run.size(); ++k) {
      const auto dg = [&](std::size_t p) { return std::isdigit(static_cast<unsigned char>(run[k + p])) != 0; };
      if (dg(0) && dg(1) && dg(2) && dg(3) && run[k + 4] == '-' && dg(5) && dg(6) && run[k + 7] == '-' && dg(8) &&
          dg(9))
        has_iso_date = true;
    }
    if (digit_count >= 10 && !glued && !into_time && !from_time && !has_iso_date) {
      if (auto e164 = normalize_phone_number(text.substr(i, last_digit_end - i)))
        return PhoneMention{*e164, i, last_digit_end};
    }
    i = j > i ? j : i + 1;
  }
  return std::nullopt;
}

}  // namespace concierge::reservation
