#pragma once
// The WebSocket upgrade to OpenAI's voice APIs (Realtime and GPT-Live take the same one): the bearer token, a
// User-Agent, the keep-alive and message limits, and refusals worded so a person can act on them (a refused key names
// OPENAI_API_KEY). What differs between the two services is said in OpenAiService.
#include <chrono>
#include <string>

#include "concierge/net/websocket_client.hpp"
#include "concierge/net/websocket_url.hpp"

namespace concierge::openai_common {

struct OpenAiService {
  std::string peer_name;   // how failures name the service: "OpenAI Realtime", "GPT-Live"
  std::string user_agent;  // "concierge-openai-realtime/1.0"
  // A 403 reads "OpenAI refused <forbidden> (HTTP 403: ...); <forbidden_advice>".
  std::string forbidden;
  std::string forbidden_advice;
  // A 404 reads "OpenAI has no <not_found> there (HTTP 404: ...); <not_found_advice>".
  std::string not_found;
  std::string not_found_advice;
};

// The client's options for `service` at `url`. The key is copied into the Authorization header, never logged.
net::WebSocketClientOptions openai_websocket_options(const OpenAiService& service, const net::WebSocketUrl& url,
                                                     const std::string& api_key,
                                                     std::chrono::seconds connect_timeout);

// A refused upgrade (HTTP `status`, `detail` from OpenAI's error body, maybe ""), in words for the call record.
std::string describe_openai_refusal(const OpenAiService& service, unsigned status, const std::string& detail);

}  // namespace concierge::openai_common
