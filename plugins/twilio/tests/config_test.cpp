#include <gtest/gtest.h>

#include "twilio_config.hpp"

namespace concierge::twilio {
namespace {

TwilioConfig parse(const std::string& yaml, const std::string& host_domain = "host.example") {
  return parse_config(ConfigNode(YAML::Load(yaml), "plugins.telephony.config"), host_domain);
}

std::string error_of(const std::string& yaml, const std::string& host_domain = "host.example") {
  try {
    parse(yaml, host_domain);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "";
}

constexpr const char* kCredentials = "{account_sid: AC123, auth_token: tok, from_number: '+15005550006'";

TEST(TwilioConfig, DefaultsAndHostDomain) {
  const auto config = parse(std::string(kCredentials) + "}");
  EXPECT_EQ(config.public_domain, "host.example");
  EXPECT_EQ(config.api_base_url, "https://api.twilio.com");
  EXPECT_EQ(config.status_callback_events, (std::vector<std::string>{"initiated", "ringing", "answered", "completed"}));
  EXPECT_TRUE(config.validate_signatures);
  EXPECT_FALSE(config.inbound_streams);
  EXPECT_EQ(config.machine_detection, "");
}

TEST(TwilioConfig, EveryKey) {
  const auto config = parse(std::string(kCredentials) +
                            ", public_domain: abc.ngrok.io, api_base_url: 'http://127.0.0.1:9/', ring_timeout_seconds: "
                            "20, status_callback_events: [ringing, completed], machine_detection: DetectMessageEnd, "
                            "record: true, validate_signatures: false, inbound_streams: true, request_timeout_seconds: 3}");
  EXPECT_EQ(config.public_domain, "abc.ngrok.io");
  EXPECT_EQ(config.api_base_url, "http://127.0.0.1:9");
  EXPECT_EQ(config.ring_timeout.count(), 20);
  EXPECT_EQ(config.status_callback_events, (std::vector<std::string>{"ringing", "completed"}));
  EXPECT_EQ(config.machine_detection, "DetectMessageEnd");
  EXPECT_TRUE(config.record);
  EXPECT_FALSE(config.validate_signatures);
  EXPECT_TRUE(config.inbound_streams);
  EXPECT_EQ(config.request_timeout.count(), 3);
}

TEST(TwilioConfig, MissingCredentialsNameTheVariables) {
  // An unset ${VAR} arrives as an empty value.
  for (const char* yaml : {"{auth_token: tok, from_number: '+1555'}", "{account_sid: AC1, auth_token: '', from_number: '+1555'}",
                           "{account_sid: AC1, auth_token: tok}", "{}"}) {
    EXPECT_NE(error_of(yaml).find(kNotConfiguredMessage), std::string::npos) << yaml << " -> " << error_of(yaml);
  }
}

TEST(TwilioConfig, MissingPublicDomainSaysSo) {
  const auto error = error_of(std::string(kCredentials) + "}", "");
  EXPECT_NE(error.find("PUBLIC_DOMAIN not configured"), std::string::npos) << error;
  EXPECT_NE(error_of(std::string(kCredentials) + ", public_domain: 'https://abc.ngrok.io'}").find("without scheme"),
            std::string::npos);
}

TEST(TwilioConfig, BadValuesAreNamed) {
  EXPECT_NE(error_of(std::string(kCredentials) + ", machine_detection: maybe}").find("machine_detection"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kCredentials) + ", status_callback_events: [answered, hungup]}").find("hungup"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kCredentials) + ", ring_timout_seconds: 3}").find("unknown key"), std::string::npos);
  EXPECT_NE(error_of("{account_sid: XX1, auth_token: t, from_number: '+1'}").find("starts with \"AC\""),
            std::string::npos);
}

}  // namespace
}  // namespace concierge::twilio
