#include "twilio_config.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace concierge::twilio {
namespace {
constexpr std::array<std::string_view, 4> kKnownEvents{"initiated", "ringing", "answered", "completed"};

bool is_blank(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c); });
}
}  // namespace

TwilioConfig parse_config(const ConfigNode& node, const std::string& host_public_domain) {
  node.allow_only({"account_sid", "auth_token", "from_number", "public_domain", "api_base_url",
                   "ring_timeout_seconds", "status_callback_events", "machine_detection", "record",
                   "validate_signatures", "inbound_streams", "inbound_stream_tokens", "request_timeout_seconds",
                   "late_answer_seconds", "stream_token_ttl_seconds", "destinations"});
  TwilioConfig config;

  // All three credentials are named in one message: a user who forgot one usually forgot the .env file.
  config.account_sid = node.get_string("account_sid", "");
  config.auth_token = node.get_string("auth_token", "");
  config.from_number = node.get_string("from_number", "");
  const std::pair<const char*, const std::string*> credentials[] = {
      {"account_sid", &config.account_sid}, {"auth_token", &config.auth_token}, {"from_number", &config.from_number}};
  for (const auto& [key, value] : credentials)
    if (is_blank(*value)) node.fail(key, kNotConfiguredMessage);
  if (config.account_sid.rfind("AC", 0) != 0)
    node.fail("account_sid", "a Twilio Account SID starts with \"AC\" (found \"" + config.account_sid + "\")");
  if (config.from_number.front() != '+')
    node.fail("from_number", "expected an E.164 number such as +15555551234, found \"" + config.from_number + "\"");

  config.public_domain = node.get_string("public_domain", host_public_domain);
  if (is_blank(config.public_domain)) node.fail("public_domain", kNoPublicDomainMessage);
  if (config.public_domain.find("://") != std::string::npos || config.public_domain.find('/') != std::string::npos)
    node.fail("public_domain", "expected a host name without scheme or path (e.g. abc123.ngrok.io), found \"" +
                                   config.public_domain + "\"");

  config.api_base_url = node.get_string("api_base_url", config.api_base_url);
  while (!config.api_base_url.empty() && config.api_base_url.back() == '/') config.api_base_url.pop_back();
  if (config.api_base_url.rfind("https://", 0) != 0 && config.api_base_url.rfind("http://", 0) != 0)
    node.fail("api_base_url", "expected an http(s):// URL, found \"" + config.api_base_url + "\"");

  config.ring_timeout = std::chrono::seconds(node.get_int("ring_timeout_seconds", 30, 5, 600));
  config.request_timeout = std::chrono::seconds(node.get_int("request_timeout_seconds", 15, 1, 120));
  config.late_answer_wait = std::chrono::seconds(node.get_int("late_answer_seconds", 30, 0, 300));
  config.stream_token_ttl = std::chrono::seconds(node.get_int("stream_token_ttl_seconds", 30, 1, 600));

  if (node.has("status_callback_events")) {
    config.status_callback_events = node.get_string_list("status_callback_events");
    for (const auto& event : config.status_callback_events)
      if (std::find(kKnownEvents.begin(), kKnownEvents.end(), event) == kKnownEvents.end())
        node.fail("status_callback_events",
                  "unknown event \"" + event + "\" (known: initiated, ringing, answered, completed)");
  }

  const std::string detection = node.get_string("machine_detection", "off");
  if (detection == "off" || detection == "false" || detection.empty())
    config.machine_detection.clear();
  else if (detection == "Enable" || detection == "DetectMessageEnd")
    config.machine_detection = detection;
  else
    node.fail("machine_detection", "expected off, Enable or DetectMessageEnd, found \"" + detection + "\"");

  config.record = node.get_bool("record", false);
  config.validate_signatures = node.get_bool("validate_signatures", true);
  config.inbound_streams = node.get_bool("inbound_streams", false);
  config.inbound_stream_tokens = node.get_bool("inbound_stream_tokens", true);
  config.destinations = parse_destination_policy(node, config.from_number);
  return config;
}

}  // namespace concierge::twilio
