#pragma once
// The WebSocket to the GPT-Live API: a net::WebSocketClient (connect, TLS with verification, upgrade, read loop,
// reused write buffers, keep-alive) given OpenAI's upgrade headers and the wording of its refusals
// (concierge/openai/websocket.hpp, shared with openai-realtime). In the plugin it is the host's client over the C
// boundary (cxx::WebSocketClientOverC), in tests the SDK's own (openai_common::WebSocketConnector). The session owns
// the client and is its listener; everything runs on the host's event loop.
#include <chrono>
#include <string>

#include "concierge/net/websocket_client.hpp"
#include "live_config.hpp"

namespace concierge::openai_live {

using LiveTransport = net::WebSocketClient;
using TransportListener = net::WebSocketListener;

// What the client needs for GPT-Live at `endpoint`: the bearer token, the User-Agent, the timeouts, and failure
// texts a person can act on (a refused key names OPENAI_API_KEY). The key is copied into the headers, never logged.
net::WebSocketClientOptions live_transport_options(const Endpoint& endpoint, const std::string& api_key,
                                                    std::chrono::seconds connect_timeout);

}  // namespace concierge::openai_live
