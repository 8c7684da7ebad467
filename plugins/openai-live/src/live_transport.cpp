#include "live_transport.hpp"

#include "concierge/openai/websocket.hpp"

namespace concierge::openai_live {

net::WebSocketClientOptions live_transport_options(const Endpoint& endpoint, const std::string& api_key,
                                                   std::chrono::seconds connect_timeout) {
  static const openai_common::OpenAiService kLive{
      .peer_name = "GPT-Live",
      .user_agent = "concierge-openai-live/1.0",
      .forbidden = "access to GPT-Live",
      .forbidden_advice = "the key's project needs GPT-Live access (or use the openai-realtime plugin)",
      .not_found = "GPT-Live endpoint",
      .not_found_advice = "check url (wss://api.openai.com/v1/live/sessions)",
  };
  return openai_common::openai_websocket_options(kLive, endpoint, api_key, connect_timeout);
}

}  // namespace concierge::openai_live
