#pragma once
// The plugin's YAML block, validated once at startup into a typed object (fail fast, with the key path).
#include <chrono>
#include <string>
#include <vector>

#include "concierge/config.hpp"
#include "destination_policy.hpp"

namespace concierge::twilio {

struct TwilioConfig {
  std::string account_sid;
  std::string auth_token;
  std::string from_number;
  std::string public_domain;  // host name only ("abc123.ngrok.io"), optionally with ":port"
  std::string api_base_url = "https://api.twilio.com";
  std::chrono::seconds ring_timeout{30};
  std::vector<std::string> status_callback_events{"initiated", "ringing", "answered", "completed"};
  std::string machine_detection;  // "" (off), "Enable" or "DetectMessageEnd"
  bool record = false;
  bool validate_signatures = true;
  bool inbound_streams = false;
  // An inbound call's stream needs the one-time token its TwiML carried, with its CallSid, once, like an outbound
  // one's: the handshake's signature is the same for every stream, so without it whoever saw one could start calls.
  // Off only for the media benchmark, whose load generator opens streams without fetching TwiML.
  bool inbound_stream_tokens = true;
  std::chrono::seconds request_timeout{15};
  // A create Twilio has not answered within request_timeout fails here, but its request waits this much longer for
  // the answer: Twilio may have placed the call all the same, and the SID in a late answer lets the plugin end it
  // there and correct the record. Each such request holds one of the host's HTTP requests in flight meanwhile (of its
  // ordinary share: hang-ups go out as teardowns, from a share the creates cannot take).
  std::chrono::seconds late_answer_wait{30};
  // How long the one-time stream token of a call's TwiML stays valid (stream_token.hpp). Twilio opens the stream
  // within a second or two of fetching the TwiML.
  std::chrono::seconds stream_token_ttl{30};
  DestinationPolicy destinations;  // every number dialled passes it (destination_policy.hpp)
};

inline constexpr const char* kNotConfiguredMessage =
    "Twilio not configured: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_PHONE_NUMBER";
inline constexpr const char* kNoPublicDomainMessage =
    "PUBLIC_DOMAIN not configured: Twilio needs a public https host name for /twiml and /media-stream (e.g. your "
    "ngrok domain, without https://)";

// Reads and checks the block. `host_public_domain` is the daemon's PUBLIC_DOMAIN, used when the block has none.
// Throws ConfigError with the messages above when credentials or the public domain are missing.
TwilioConfig parse_config(const ConfigNode& node, const std::string& host_public_domain);

}  // namespace concierge::twilio
