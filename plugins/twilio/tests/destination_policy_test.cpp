// Where calls may go: every class of number the issue names, judged by libphonenumber, and the config that opens
// each one.
#include <gtest/gtest.h>

#include "config_error.hpp"
#include "destination_policy.hpp"
#include "twilio_config.hpp"

namespace concierge::twilio {
namespace {

DestinationPolicy policy_of(const std::string& destinations_yaml, const std::string& from = "+15005550006") {
  const std::string yaml = "{account_sid: AC1, auth_token: t, from_number: '" + from + "', public_domain: x.example" +
                           (destinations_yaml.empty() ? "" : ", destinations: " + destinations_yaml) + "}";
  return parse_config(ConfigNode(YAML::Load(yaml), "plugins.telephony.config"), "").destinations;
}

std::string config_error(const std::string& destinations_yaml) {
  return concierge::testing::config_error_of([&] { policy_of(destinations_yaml); });
}

TEST(DestinationPolicy, DefaultsRefuseWhatCostsOrCannotBeRight) {
  const DestinationPolicy p = policy_of("");
  EXPECT_EQ(p.allowed_country_codes, std::vector<int>{1});  // the From number's country
  EXPECT_EQ(p.refusal("+12125551234"), "");                // New York, fixed line or mobile
  EXPECT_EQ(p.refusal("+18005550100"), "");                // toll-free: free to call
  EXPECT_NE(p.refusal("+19005550100").find("is a premium-rate number; refused (destinations.allow_premium_rate"),
            std::string::npos);
  EXPECT_NE(p.refusal("+1234567890").find("\"+1234567890\" is not a valid phone number: it is too short"),
            std::string::npos)
      << p.refusal("+1234567890");
  EXPECT_NE(p.refusal("+15551230000").find("is not a valid phone number"), std::string::npos);
  for (const char* satellite : {"+870772123456", "+881612345678", "+882345678901", "+883510012345"})
    EXPECT_NE(p.refusal(satellite).find("satellite or international-network number"), std::string::npos)
        << satellite << ": " << p.refusal(satellite);
  EXPECT_NE(p.refusal("+442079460000").find("country code +44, which is not allowed (allowed: +1;"),
            std::string::npos);
  EXPECT_NE(p.refusal("+15005550006").find("one of Twilio's test numbers"), std::string::npos);
  EXPECT_NE(p.refusal("555-1234").find("not in E.164 form"), std::string::npos);
  EXPECT_NE(p.refusal("+1 212 555 1234").find("not in E.164 form"), std::string::npos);
  EXPECT_NE(p.refusal("").find("not in E.164 form"), std::string::npos);
}

TEST(DestinationPolicy, EachRefusalHasTheSettingThatAllowsIt) {
  const DestinationPolicy open = policy_of(
      "{allowed_country_codes: any, allow_premium_rate: true, allow_shared_cost: true, allow_satellite: true, "
      "allow_test_numbers: true}");
  EXPECT_TRUE(open.allowed_country_codes.empty());
  for (const char* number : {"+19005550100", "+881612345678", "+442079460000", "+15005550001", "+34901123456"})
    EXPECT_EQ(open.refusal(number), "") << number;
  EXPECT_NE(open.refusal("+1234567890"), "");  // invalid stays refused whatever the settings
  // Where +34 and +44 are allowed: Spain's 901 (shared cost) and the UK's 0845 (premium rate in 8.12's metadata)
  // are still refused by default; a London fixed line is not.
  const DestinationPolicy europe = policy_of("{allowed_country_codes: [44, '+34', 1]}");
  EXPECT_EQ(europe.allowed_country_codes, (std::vector<int>{44, 34, 1}));
  EXPECT_NE(europe.refusal("+34901123456").find("is a shared-cost number"), std::string::npos)
      << europe.refusal("+34901123456");
  EXPECT_NE(europe.refusal("+448450000000").find("is a premium-rate number"), std::string::npos);
  EXPECT_EQ(europe.refusal("+442079460000"), "");
  EXPECT_NE(europe.refusal("+4909001234567").find("country code +49"), std::string::npos);  // Germany: not listed
  // A UK From number allows +44 by default.
  EXPECT_EQ(policy_of("", "+442079460000").allowed_country_codes, std::vector<int>{44});
}

TEST(DestinationPolicy, ConfigMistakesAreNamed) {
  EXPECT_NE(config_error("{allowed_country_codes: [one]}").find("\"one\" is not a country calling code"),
            std::string::npos);
  EXPECT_NE(config_error("{allowed_country_codes: []}").find("lists no country"), std::string::npos);
  EXPECT_NE(config_error("{allow_premium: true}").find("unknown key"), std::string::npos);
}

}  // namespace
}  // namespace concierge::twilio
