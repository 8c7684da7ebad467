#include "concierge/openai/websocket.hpp"

#include <fstream>
#include <iterator>

namespace concierge::openai_common {

std::string ca_file_problem(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read " + path;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    return path + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)";
  return "";
}

std::string describe_openai_refusal(const OpenAiService& service, unsigned status, const std::string& detail) {
  const std::string suffix = detail.empty() ? "" : ": " + detail;
  switch (status) {
    case 401:
      return "OpenAI refused the API key (HTTP 401" + suffix + "); check OPENAI_API_KEY";
    case 403:
      return "OpenAI refused " + service.forbidden + " (HTTP 403" + suffix + "); " + service.forbidden_advice;
    case 404:
      return "OpenAI has no " + service.not_found + " there (HTTP 404" + suffix + "); " + service.not_found_advice;
    case 429:
      return "OpenAI rate-limited the connection (HTTP 429" + suffix + ")";
    default:
      return "OpenAI refused the WebSocket upgrade (HTTP " + std::to_string(status) + suffix + ")";
  }
}

net::WebSocketClientOptions openai_websocket_options(const OpenAiService& service, const net::WebSocketUrl& url,
                                                     const std::string& api_key,
                                                     std::chrono::seconds connect_timeout) {
  net::WebSocketClientOptions o;
  url.apply_to(o);
  // The bearer token and nothing else: Realtime's beta header ("OpenAI-Beta: realtime=v1") selects the retired beta
  // shape, and GPT-Live takes the model and everything else in session.start.
  o.headers = {{"Authorization", "Bearer " + api_key}, {"User-Agent", service.user_agent}};
  o.connect_timeout = connect_timeout;
  o.idle_timeout = std::chrono::seconds(20);
  o.max_message_bytes = 16 * 1024 * 1024;  // one audio delta can carry seconds of audio
  o.peer_name = service.peer_name;
  o.describe_refusal = [service](unsigned status, const std::string& detail) {
    return describe_openai_refusal(service, status, detail);
  };
  return o;
}

}  // namespace concierge::openai_common
