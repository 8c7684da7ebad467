#pragma once
// The daemon's HTTP and WebSocket server (Boost.Beast), kept behind plain SDK types so that routing, the call
// manager and plugins never see Beast. Runs entirely on the event loop it is given.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "concierge/http.hpp"
#include "concierge/log.hpp"

namespace boost::asio { class io_context; }

namespace concierge::host {

struct HttpServerLimits {
  std::size_t max_body_bytes = 1 << 20;       // HTTP request bodies
  std::size_t max_message_bytes = 64 * 1024;  // one WebSocket message; bigger closes the socket (1009)
  std::size_t max_queued_bytes = 4 << 20;     // unsent WebSocket output (frames and pongs) before a peer is dropped
  // Open connections (HTTP and WebSocket) in all, and from one client address; past either, a new connection is
  // closed as soon as it is accepted (from a client known only through X-Forwarded-For: answered 503).
  std::size_t max_connections = 10000;
  std::size_t max_connections_per_client = 2000;
  // An HTTP connection must deliver a whole request, and take a whole response, within this; an idle keep-alive
  // connection is closed after it.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(30)};
  // Peers (reverse proxies, load balancers) whose X-Forwarded-For names the real client: that client is then the
  // request's remote_address and what the per-client limit counts. Anyone else's X-Forwarded-For is ignored.
  std::vector<std::string> trusted_proxies;
  // A 429 (a client over one of its limits) is answered this late: a client that asks again at once on the same
  // connection then costs the loop a few answers a second, not thousands (issue 10's listing flood).
  std::chrono::milliseconds too_many_requests_delay{250};
};

class HttpServer {
 public:
  struct Handlers {
    // Every plain HTTP request.
    std::function<HttpResponse(const HttpRequest&)> http;
    // A WebSocket upgrade: nullopt accepts, a response refuses.
    std::function<std::optional<HttpResponse>(const HttpRequest&)> check_upgrade;
    // An accepted WebSocket: returns the handler of its messages (nullptr closes it).
    std::function<std::shared_ptr<WebSocketHandler>(std::shared_ptr<WebSocketPeer>)> open_websocket;
  };

  HttpServer(boost::asio::io_context& io, std::shared_ptr<Logger> log, Handlers handlers, HttpServerLimits limits);
  ~HttpServer();

  // Binds and starts accepting; returns the bound port (useful with port 0). Throws on failure with a clear message.
  std::uint16_t listen(const std::string& address, std::uint16_t port);
  // Stops accepting and closes every connection.
  void stop();

  std::size_t open_websockets() const;
  std::size_t open_connections() const;
  std::uint64_t refused_connections() const;  // over a connection limit, or shed when descriptors ran out

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace concierge::host
