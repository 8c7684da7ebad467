#include "realtime_transport.hpp"

#include "concierge/openai/websocket.hpp"

namespace concierge::openai {

net::WebSocketClientOptions realtime_transport_options(const Endpoint& endpoint, const std::string& api_key,
                                                       std::chrono::seconds connect_timeout) {
  static const openai_common::OpenAiService kRealtime{
      .peer_name = "OpenAI Realtime",
      .user_agent = "concierge-openai-realtime/1.0",
      .forbidden = "access",
      .forbidden_advice = "check the key's project and model access",
      .not_found = "Realtime endpoint or model",
      .not_found_advice = "check url and model",
  };
  return openai_common::openai_websocket_options(kRealtime, endpoint, api_key, connect_timeout);
}

}  // namespace concierge::openai
