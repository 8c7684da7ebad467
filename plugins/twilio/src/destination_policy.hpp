#pragma once
// Where the Twilio plugin may place calls: every number it dials (the agent's callee, a transfer, a customer's
// number) passes this first, so a request's text or a leaked API token cannot run up premium-rate or satellite
// charges. Numbers are judged with libphonenumber (Debian's libphonenumber 8.12): the country calling code, whether
// the number is valid at all, and its type.
//
// The plugin's YAML block:
//   destinations:
//     allowed_country_codes: [1]   calling codes that may be dialled; default: the from_number's own (a US number
//                                  calls the NANP), "any" for every one
//     allow_premium_rate: false    libphonenumber's PREMIUM_RATE (+1 900 ..., +44 9 ...)
//     allow_shared_cost: false     libphonenumber's SHARED_COST (+44 845 ..., +33 8 ...)
//     allow_satellite: false       +870 (Inmarsat), +881 (global mobile satellite), +882/+883 (international
//                                  networks): billed at satellite rates, and 8.12 has no number type for them
//     allow_test_numbers: false    Twilio's magic test numbers +15005550000..9 (for test credentials)
// An invalid number (the seed's placeholder +1234567890 is one: too short for +1) is always refused, with
// libphonenumber's reason.
#include <string>
#include <string_view>
#include <vector>

#include "concierge/config.hpp"

namespace concierge::twilio {

struct DestinationPolicy {
  std::vector<int> allowed_country_codes;  // empty = any
  bool allow_premium_rate = false;
  bool allow_shared_cost = false;
  bool allow_satellite = false;
  bool allow_test_numbers = false;

  // "" when `number` (E.164) may be dialled; otherwise a sentence for the user that says why not and which setting
  // would allow it.
  std::string refusal(std::string_view number) const;
};

// Reads `destinations` under `node` (absent: the defaults above). `from_number` gives the default country code.
DestinationPolicy parse_destination_policy(const ConfigNode& node, const std::string& from_number);

// The country calling code of an E.164 number (1 for +1..., 44 for +44...), 0 when it has none.
int country_calling_code(std::string_view e164);

}  // namespace concierge::twilio
