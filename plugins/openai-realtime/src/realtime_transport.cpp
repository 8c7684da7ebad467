#include "realtime_transport.hpp"

namespace concierge::openai {

net::WebSocketClientOptions realtime_transport_options(const Endpoint& endpoint, const std::string& api_key,
                                                    std::chrono::seconds connect_timeout) {
  net::WebSocketClientOptions o;
  o.tls = endpoint.tls;
  o.host = endpoint.host;
  o.port = endpoint.port;
  o.target = endpoint.target;
  o.host_header = endpoint.host_header();
  // GA protocol: the bearer token and nothing else. The beta's "OpenAI-Beta: realtime=v1" header selects the
  // retired beta shape and is never sent.
  o.headers = {{"Authorization", "Bearer " + api_key}, {"User-Agent", "concierge-openai-realtime/1.0"}};
  o.connect_timeout = connect_timeout;
  o.idle_timeout = std::chrono::seconds(20);
  o.max_message_bytes = 16 * 1024 * 1024;  // one audio delta can carry seconds of audio
  o.peer_name = "OpenAI Realtime";
  o.describe_refusal = [](unsigned status, const std::string& detail) -> std::string {
    const std::string suffix = detail.empty() ? "" : ": " + detail;
    switch (status) {
      case 401:
        return "OpenAI refused the API key (HTTP 401" + suffix + "); check OPENAI_API_KEY";
      case 403:
        return "OpenAI refused access (HTTP 403" + suffix + "); check the key's project and model access";
      case 404:
        return "OpenAI has no Realtime endpoint or model there (HTTP 404" + suffix + "); check url and model";
      case 429:
        return "OpenAI rate-limited the connection (HTTP 429" + suffix + ")";
      default:
        return "OpenAI refused the WebSocket upgrade (HTTP " + std::to_string(status) + suffix + ")";
    }
  };
  return o;
}

}  // namespace concierge::openai
