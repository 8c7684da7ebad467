#pragma once
// Phone numbers as people write them, turned into E.164 ("+15551234567").
#include <optional>
#include <string>
#include <string_view>

namespace concierge::reservation {

// "+1 555 123 4567", "(555) 123-4567", "555.123.4567", "1-555-123-4567", "0044 20 7946 0018", "+44 (0)20 7946
// 0018" -> E.164, read by libphonenumber (Debian's libphonenumber-dev) in `region` (ISO 3166, "US", "GB") when the
// number has no country code; "00" is an international prefix. Without a country code only a number possible in the
// region is taken. nullopt for anything but digits and the usual separators, or when the result is not 7..15 digits.
std::optional<std::string> normalize_phone_number(std::string_view text, std::string_view region = "US");
// Does libphonenumber know this region code ("US", "GB", "DE")?
bool is_phone_region(std::string_view region);

struct PhoneMention {
  std::string e164;
  std::size_t begin = 0;  // byte range in the text
  std::size_t end = 0;
};
// The first phone number in running text: a run of digits and separators with at least 10 digits (so dates, times
// and confirmation numbers are not mistaken for one), optionally starting with '+' or '('.
std::optional<PhoneMention> find_phone_number(std::string_view text, std::string_view region = "US");

}  // namespace concierge::reservation
