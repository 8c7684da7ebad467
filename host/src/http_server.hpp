#pragma once
// The daemon's HTTP and WebSocket server (Boost.Beast), kept behind plain SDK types so that routing, the call
// manager and plugins never see Beast. Runs entirely on the event loop it is given.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "concierge/http.hpp"
#include "concierge/log.hpp"

namespace boost::asio { class io_context; }

namespace concierge::host {

struct HttpServerLimits {
  std::size_t max_body_bytes = 1 << 20;       // HTTP request bodies
  std::size_t max_message_bytes = 64 * 1024;  // one WebSocket message; bigger closes the socket (1009)
  std::size_t max_queued_bytes = 4 << 20;     // unsent WebSocket output before a slow peer is dropped
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

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace concierge::host
