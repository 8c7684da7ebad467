#pragma once
// The WebSocket upgrade to OpenAI's voice APIs (Realtime and GPT-Live take the same one): the bearer token, a
// User-Agent, the keep-alive and message limits, and refusals worded so a person can act on them (a refused key names
// OPENAI_API_KEY). What differs between the two services is said in OpenAiService.
#include <chrono>
#include <functional>
#include <memory>
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

// Makes one call's WebSocket client for `options`, trusting the PEM bundle `ca_file` ("" = the system's store) when
// options.tls. In the plugins it is the host's client over the C boundary (cxx::WebSocketClientOverC,
// concierge/cxx/websocket_client.hpp); in the plugins' tests, the SDK's own client on the test's io_context. The
// sessions see only net::WebSocketClient (start, send, queued_messages, close) and are its net::WebSocketListener, so
// the same session code runs over either. Called on the loop, once per session.
using WebSocketConnector =
    std::function<std::shared_ptr<net::WebSocketClient>(net::WebSocketClientOptions options, const std::string& ca_file)>;

// Loads ahead the TLS context the connector's wss:// clients will use for `ca_file` ("" = the system's store) and
// returns "" or why the PEM bundle `ca_file` cannot be loaded. In the plugins it is the host's
// (cxx::WebSocketClientOverC::prepare_tls, abi.h's ws_client_prepare_tls): the model calls it once at start-up, so
// a bundle OpenSSL cannot load is a config error naming ca_file, and the first call does not wait for the load.
// Unset (the plugins' unit tests): nothing is loaded ahead.
using TlsPreparer = std::function<std::string(const std::string& ca_file)>;

// What is wrong with `ca_file` as a CA bundle for the host's TLS client, in words ("" when it is readable and holds a
// PEM certificate): the config parser's own check, which needs no host (a key, an empty file). Whether the
// certificates in it really load is the host's to say (TlsPreparer), once the config has parsed.
std::string ca_file_problem(const std::string& path);

// A refused upgrade (HTTP `status`, `detail` from OpenAI's error body, maybe ""), in words for the call record.
std::string describe_openai_refusal(const OpenAiService& service, unsigned status, const std::string& detail);

}  // namespace concierge::openai_common
