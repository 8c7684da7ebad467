#include "destination_policy.hpp"

#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <charconv>

namespace concierge::twilio {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

constexpr int kSatelliteCodes[] = {870, 881, 882, 883};

bool is_test_number(std::string_view number) {
  // +1 500 555 000x: Twilio's magic numbers for test credentials.
  return number.size() == 12 && number.substr(0, 11) == "+1500555000" && number[11] >= '0' && number[11] <= '9';
}

std::string possible_reason(PhoneNumberUtil::ValidationResult result) {
  switch (result) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE: return "no country has that calling code";
    case PhoneNumberUtil::TOO_SHORT: return "it is too short for its country";
    case PhoneNumberUtil::TOO_LONG: return "it is too long for its country";
    case PhoneNumberUtil::INVALID_LENGTH: return "its length fits no number of its country";
    case PhoneNumberUtil::IS_POSSIBLE_LOCAL_ONLY: return "it is a local number (no area code)";
    default: return "no number of its country is assigned like that";
  }
}

}  // namespace

int country_calling_code(std::string_view e164) {
  if (e164.size() < 2 || e164[0] != '+') return 0;
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  PhoneNumber parsed;
  if (util.Parse(std::string(e164), "ZZ", &parsed) != PhoneNumberUtil::NO_PARSING_ERROR) return 0;
  return parsed.country_code();
}

std::string DestinationPolicy::refusal(std::string_view number) const {
  const std::string quoted = "\"" + std::string(number.substr(0, 40)) + "\"";
  if (number.empty() || number[0] != '+' || number.size() > 16 ||
      !std::all_of(number.begin() + 1, number.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return "the number " + quoted + " is not in E.164 form (+ and country code, e.g. +15551234567)";
  if (is_test_number(number)) {
    if (allow_test_numbers) return "";
    return "the number " + quoted + " is one of Twilio's test numbers; they work only with test credentials "
           "(allow them with destinations.allow_test_numbers: true)";
  }
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  PhoneNumber parsed;
  if (util.Parse(std::string(number), "ZZ", &parsed) != PhoneNumberUtil::NO_PARSING_ERROR)
    return "the number " + quoted + " is not a phone number libphonenumber can read";
  const int code = parsed.country_code();
  const bool satellite = std::find(std::begin(kSatelliteCodes), std::end(kSatelliteCodes), code) !=
                         std::end(kSatelliteCodes);
  if (satellite && !allow_satellite)
    return "the number " + quoted + " is a satellite or international-network number (+" + std::to_string(code) +
           "), billed at satellite rates; refused (destinations.allow_satellite: true allows it)";
  if (!allowed_country_codes.empty() &&
      std::find(allowed_country_codes.begin(), allowed_country_codes.end(), code) == allowed_country_codes.end()) {
    std::string allowed;
    for (int c : allowed_country_codes) allowed += (allowed.empty() ? "+" : ", +") + std::to_string(c);
    return "the number " + quoted + " is in country code +" + std::to_string(code) + ", which is not allowed (allowed: " +
           allowed + "; see destinations.allowed_country_codes)";
  }
  if (!satellite && !util.IsValidNumber(parsed))
    return "the number " + quoted + " is not a valid phone number: " +
           possible_reason(util.IsPossibleNumberWithReason(parsed));
  switch (util.GetNumberType(parsed)) {
    case PhoneNumberUtil::PREMIUM_RATE:
      if (!allow_premium_rate)
        return "the number " + quoted + " is a premium-rate number; refused (destinations.allow_premium_rate: true "
               "allows it)";
      break;
    case PhoneNumberUtil::SHARED_COST:
      if (!allow_shared_cost)
        return "the number " + quoted + " is a shared-cost number; refused (destinations.allow_shared_cost: true "
               "allows it)";
      break;
    default:
      break;
  }
  return "";
}

DestinationPolicy parse_destination_policy(const ConfigNode& node, const std::string& from_number) {
  DestinationPolicy policy;
  const int own_code = country_calling_code(from_number);
  if (own_code != 0) policy.allowed_country_codes = {own_code};
  const auto block = node.optional_child("destinations");
  if (!block) return policy;
  block->allow_only({"allowed_country_codes", "allow_premium_rate", "allow_shared_cost", "allow_satellite",
                     "allow_test_numbers"});
  if (block->has("allowed_country_codes")) {
    const YAML::Node codes = block->yaml()["allowed_country_codes"];
    if (codes.IsScalar() && codes.Scalar() == "any") {
      policy.allowed_country_codes.clear();
    } else {
      policy.allowed_country_codes.clear();
      for (const std::string& text : block->get_string_list("allowed_country_codes")) {
        std::string_view digits = text;
        if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
        int code = 0;
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), code);
        if (ec != std::errc() || end != digits.data() + digits.size() || code < 1 || code > 999)
          block->fail("allowed_country_codes", "\"" + text + "\" is not a country calling code (1, 44, +49, ...; "
                                               "or write any)");
        policy.allowed_country_codes.push_back(code);
      }
      if (policy.allowed_country_codes.empty())
        block->fail("allowed_country_codes", "lists no country: nothing could be dialled (write any for all)");
    }
  }
  policy.allow_premium_rate = block->get_bool("allow_premium_rate", false);
  policy.allow_shared_cost = block->get_bool("allow_shared_cost", false);
  policy.allow_satellite = block->get_bool("allow_satellite", false);
  policy.allow_test_numbers = block->get_bool("allow_test_numbers", false);
  return policy;
}

}  // namespace concierge::twilio
