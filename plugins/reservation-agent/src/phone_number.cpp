#include "phone_number.hpp"

#include <cctype>
#include <set>

#include <phonenumbers/phonenumberutil.h>

namespace concierge::reservation {

std::optional<std::string> normalize_phone_number(std::string_view text, std::string_view region) {
  // Only what people put in a written number: digits, one leading '+', spaces, dashes, dots and parentheses.
  std::string digits;
  bool plus = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (std::isdigit(c)) digits.push_back(static_cast<char>(c));
    else if (c == '+' && digits.empty() && !plus) plus = true;
    else if (!(c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '\t')) return std::nullopt;
  }
  std::string input(text);
  // "0044 20 ...": "00" is the international prefix in most of the world (libphonenumber reads it only for a
  // region that dials it, and the US does not).
  if (!plus && digits.size() > 2 && digits.compare(0, 2, "00") == 0) {
    std::string international(1, '+');  // built by append: GCC 12 warns falsely (-Wrestrict) on insert/concat
    international.append(input, input.find("00") + 2, std::string::npos);
    input = std::move(international);
    plus = true;
  }
  using i18n::phonenumbers::PhoneNumber;
  using i18n::phonenumbers::PhoneNumberUtil;
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  PhoneNumber number;
  if (util.Parse(input, std::string(region), &number) != PhoneNumberUtil::NO_PARSING_ERROR) return std::nullopt;
  // Without a country code only a number possible in the region is taken ("555 1234" is not enough to dial);
  // with one, any 7..15 digits (directories hold short test numbers like +1234567890).
  if (!plus && !util.IsPossibleNumber(number)) return std::nullopt;
  std::string e164;
  util.Format(number, PhoneNumberUtil::E164, &e164);
  if (e164.size() < 8 || e164.size() > 16) return std::nullopt;
  return e164;
}

bool is_phone_region(std::string_view region) {
  std::set<std::string> regions;
  i18n::phonenumbers::PhoneNumberUtil::GetInstance()->GetSupportedRegions(&regions);
  return regions.count(std::string(region)) > 0;
}

std::optional<PhoneMention> find_phone_number(std::string_view text, std::string_view region) {
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
      if (auto e164 = normalize_phone_number(text.substr(i, last_digit_end - i), region))
        return PhoneMention{*e164, i, last_digit_end};
    }
    i = j > i ? j : i + 1;
  }
  return std::nullopt;
}

}  // namespace concierge::reservation
