#pragma once
// The server side the loopback fakes of WebSocket services share (the fake OpenAI Realtime and GPT-Live servers):
// a listener on 127.0.0.1 (plain or TLS with the test PKI), the HTTP upgrade handed to the fake to judge, and one
// connection object per accepted WebSocket with a write queue, a polite close and an abrupt drop. Compiled once in
// concierge_fake_ws_server, so a fake compiles no Beast templates of its own.
//
// Threads: the server runs one io_context on its own thread. Every callback (judge_upgrade, accept, the handler's)
// runs on that thread, and WsConnection's methods may be called only there (post to io() from elsewhere).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "concierge_fakes/test_pki.hpp"

namespace boost::asio {
class io_context;
}

namespace concierge::fakes {

struct UpgradeRequest {
  std::string target;                                        // path and query as sent
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, in order
  bool is_websocket_upgrade = false;                         // Upgrade: websocket and the rest of RFC 6455's rules
  // The first value of a (lower-case) header, or nullopt when absent.
  std::optional<std::string> header(std::string_view lower_case_name) const;
};

// The fake's answer to an upgrade: accept it (status 101) or refuse it with that status and body.
struct UpgradeVerdict {
  int status = 101;
  std::string body;  // sent with Content-Type: application/json
  static UpgradeVerdict accept() { return {}; }
};

// One accepted WebSocket. Owned by the server while its read loop runs and by whoever keeps the shared_ptr.
class WsConnection {
 public:
  virtual ~WsConnection();
  // Queues a text message; nothing happens once the connection is closing or closed.
  virtual void send(std::string text) = 0;
  // A WebSocket close with this code and reason once everything queued has gone out.
  virtual void close(int code = 1000, std::string reason = {}) = 0;
  // Closes the TCP connection at once, without a close frame (a dropped network).
  virtual void drop() = 0;
  virtual bool is_open() const = 0;  // false after close(), drop(), or the peer leaving
  virtual bool writing() const = 0;  // a message is being written or waits in the queue
  virtual boost::asio::io_context& io() = 0;
};

// What a fake gives the server for each accepted WebSocket. The server holds it (shared) until on_closed().
class WsHandler {
 public:
  virtual ~WsHandler();
  virtual void on_text(std::string_view text) = 0;  // the view is valid during the call only
  virtual void on_closed() = 0;                     // the read loop ended (peer gone, close, drop); once
};

struct WsServerOptions {
  std::optional<TestPki> tls;  // wss when set
  std::uint16_t port = 0;      // 0: any free port on 127.0.0.1
  std::size_t max_message_bytes = 32 * 1024 * 1024;
  // Judges every upgrade request (records headers, checks the path and key). Required.
  std::function<UpgradeVerdict(const UpgradeRequest&)> judge_upgrade;
  // Makes the handler of an accepted WebSocket. Required.
  std::function<std::shared_ptr<WsHandler>(std::shared_ptr<WsConnection>)> accept;
};

class WsServer {
 public:
  // Listens and starts the loop thread; throws when the port cannot be bound.
  explicit WsServer(WsServerOptions options);
  // stop()s.
  ~WsServer();
  WsServer(const WsServer&) = delete;
  WsServer& operator=(const WsServer&) = delete;

  std::uint16_t port() const;
  boost::asio::io_context& io();
  // Drops every open connection (from any thread; it happens on the loop).
  void drop_connections();
  // Closes the listener, drops every connection, lets the loop finish what is under way (50 ms), joins the thread.
  void stop();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace concierge::fakes
