#pragma once
// A WebSocket client (ws:// and wss://) for plugins that talk to a remote service, compiled once in the SDK so that
// no plugin instantiates Beast itself: connect (resolve, TCP, TLS with certificate and host-name verification), the
// HTTP upgrade with the caller's headers, a read loop, a bounded-by-use write queue whose buffers are reused, keep-alive
// pings with a dead-peer timeout, and a polite close. A steady stream of messages allocates nothing once warm: the
// client's asynchronous operations take their memory from the client, and OpenSSL keeps its record buffers (counted
// over a real socket by sdk/tests/allocation_test.cpp; OpenSSL 3.0's record writer itself still mallocs three small
// blocks per TLS record inside SSL_write). A configured URL becomes options through concierge/net/websocket_url.hpp.
//
// Threads: everything happens on the io_context given to create(). start(), send(), queued_messages() and close()
// must be called on that loop's thread, and every listener callback runs on it, never inside start()/send()/close().
// Nothing blocks.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
namespace ssl {
class context;
}
}  // namespace boost::asio

namespace concierge::net {

// What the client reports. Owned by whoever starts the client (typically the session that also owns the client);
// the client holds a plain pointer and never deletes it. It must stay alive until close() has returned or
// on_websocket_failed() has been called, whichever comes first; after either, no further call is made.
// (Both interfaces stay inside one plugin, never crossing the host boundary, so their destructors are inline: a test
// or fuzz target can implement them without linking the client.)
class WebSocketListener {
 public:
  virtual ~WebSocketListener() = default;
  // The upgrade succeeded; send() now queues.
  virtual void on_websocket_open() = 0;
  // One whole text message. The view is valid only during the call (the read buffer is reused).
  virtual void on_websocket_message(std::string_view text) = 0;
  // The connection failed or was lost (connect, TLS, refused upgrade, close frame from the peer, silence, I/O
  // error). Called at most once, and never after close(). `message` is a sentence for people (a call record).
  virtual void on_websocket_failed(std::string_view message) = 0;
};

struct WebSocketClientOptions {
  bool tls = true;                // wss:// (a TLS context is then required) or ws://
  std::string host;               // a name or an address; a name is sent as SNI and must match the certificate
  std::string port = "443";
  std::string target = "/";       // path and query of the upgrade request
  std::string host_header;        // the Host header; "" = host, with ":port" when it is not the scheme's default
  std::vector<std::pair<std::string, std::string>> headers;  // sent with the upgrade (Authorization, User-Agent)
  std::chrono::seconds connect_timeout{10};                   // resolve + TCP + TLS + upgrade, all together
  // Without traffic for this long the peer is pinged; without an answer for as long again the connection is dead.
  std::chrono::seconds idle_timeout{20};
  std::size_t max_message_bytes = 16 * 1024 * 1024;  // a larger incoming message fails the connection
  // How failure messages name the service: "could not connect to <peer_name> at host:port ...".
  std::string peer_name = "the server";
  // Words a refused upgrade (any HTTP status but 101). `detail` is the body's JSON "error.message" when it has one,
  // else the body shortened at a UTF-8 boundary (maybe ""). Called on the loop's thread, while failing; copied into
  // the client (it may capture by value, never a pointer it does not own). Unset: "<peer_name> refused the WebSocket
  // upgrade (HTTP <status>: <detail>)".
  std::function<std::string(unsigned status, const std::string& detail)> describe_refusal;
};

class WebSocketClient {
 public:
  virtual ~WebSocketClient() = default;

  // The client is shared: the caller holds it, and each operation in flight holds it too, so it outlives its own
  // completions after the caller lets go. `tls_context` (shared with every client the caller makes) is required
  // when options.tls is set (std::invalid_argument otherwise) and ignored for ws://. `io` must outlive the client.
  static std::shared_ptr<WebSocketClient> create(boost::asio::io_context& io,
                                                 std::shared_ptr<boost::asio::ssl::context> tls_context,
                                                 WebSocketClientOptions options);

  // Begins connecting; `listener` (not owned, see WebSocketListener) hears the outcome. Call once.
  virtual void start(WebSocketListener* listener) = 0;
  // Queues a text message, copied into a reused buffer (no allocation once the queue's slots have grown to the
  // message sizes in use). False, and nothing queued, when the connection is not open or is closing.
  virtual bool send(std::string_view text) = 0;
  // Messages queued and not yet written to the socket (the one being written included).
  virtual std::size_t queued_messages() const = 0;
  // Detaches the listener (no call after this returns) and closes politely: a close frame once the message being
  // written is out (what is queued behind it is dropped), or an abort when not yet open. Idempotent.
  virtual void close() = 0;
};

// A TLS client context for create(): TLS 1.2 or later, peer verification on, trusting the system's CA store when
// `ca_file` is "" and only the PEM bundle `ca_file` otherwise. Throws std::runtime_error saying what could not be
// loaded. Share one per plugin instance: contexts are costly to build and safe to share between connections.
std::shared_ptr<boost::asio::ssl::context> make_tls_client_context(const std::string& ca_file);

}  // namespace concierge::net
