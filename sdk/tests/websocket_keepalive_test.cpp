// The SDK WebSocket client's keep-alive (concierge/net/websocket_client.hpp: after idle_timeout without a byte from
// the peer a ping, after as long again the connection is dead), against a peer that answers pings (the fakes'
// WebSocket server) and one that accepts the upgrade and then says nothing (a raw socket here).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/sha.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "concierge/base64.hpp"
#include "concierge/net/websocket_client.hpp"
#include "concierge_fakes/ws_server.hpp"

namespace concierge {
namespace {

using KeepAliveClock = std::chrono::steady_clock;

// Accepts one connection, answers its WebSocket upgrade with 101, then reads and drops whatever comes (pings
// included) and never sends a byte: a peer that has stopped answering.
class SilentWebSocketPeer {
 public:
  SilentWebSocketPeer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(listen_fd_, 4);
    socklen_t size = sizeof address;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~SilentWebSocketPeer() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    if (const int fd = connection_fd_.load(); fd >= 0) ::shutdown(fd, SHUT_RDWR);
    thread_.join();
    ::close(listen_fd_);
  }
  std::uint16_t port() const { return port_; }
  std::size_t bytes_after_upgrade() const { return after_upgrade_.load(); }

 private:
  void serve() {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    connection_fd_ = fd;
    std::string request;
    char buffer[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) break;
      request.append(buffer, static_cast<std::size_t>(n));
    }
    const std::string name = "Sec-WebSocket-Key: ";
    const auto at = request.find(name);
    if (at != std::string::npos) {
      const auto end = request.find("\r\n", at);
      const std::string key = request.substr(at + name.size(), end - at - name.size()) +
                              "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // RFC 6455's GUID
      unsigned char digest[SHA_DIGEST_LENGTH];
      SHA1(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
      const std::string response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                   "Sec-WebSocket-Accept: " +
                                   base64::encode(std::span<const std::uint8_t>(digest, sizeof digest)) + "\r\n\r\n";
      if (::write(fd, response.data(), response.size()) < 0) return;
      for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) break;
        after_upgrade_ += static_cast<std::size_t>(n);
      }
    }
    connection_fd_ = -1;
    ::close(fd);
  }

  int listen_fd_ = -1;
  std::atomic<int> connection_fd_{-1};
  std::uint16_t port_ = 0;
  std::atomic<std::size_t> after_upgrade_{0};
  std::thread thread_;
};

class KeepAliveListener final : public net::WebSocketListener {
 public:
  void on_websocket_open() override { opened_at = KeepAliveClock::now(); }
  void on_websocket_message(std::string_view) override {}
  void on_websocket_failed(std::string_view message) override {
    failure = std::string(message);
    failed_at = KeepAliveClock::now();
  }
  std::optional<KeepAliveClock::time_point> opened_at, failed_at;
  std::string failure;
};

net::WebSocketClientOptions keep_alive_options(std::uint16_t port) {
  net::WebSocketClientOptions options;
  options.tls = false;
  options.host = "127.0.0.1";
  options.port = std::to_string(port);
  options.idle_timeout = std::chrono::seconds(1);
  options.peer_name = "test peer";
  return options;
}

TEST(WebSocketKeepAlive, APeerThatStopsAnsweringIsDeadAfterTwoIdlePeriodsNeverBefore) {
  SilentWebSocketPeer peer;
  boost::asio::io_context io;
  const auto client = net::WebSocketClient::create(io, nullptr, keep_alive_options(peer.port()));
  KeepAliveListener listener;
  client->start(&listener);
  const auto deadline = KeepAliveClock::now() + std::chrono::seconds(15);
  while (listener.failure.empty() && KeepAliveClock::now() < deadline) io.run_one_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(listener.opened_at) << listener.failure;
  ASSERT_TRUE(listener.failed_at) << "the silent peer was never declared dead";
  EXPECT_EQ(listener.failure, "the test peer connection stopped answering (no data for 2 s)");
  EXPECT_GE(*listener.failed_at - *listener.opened_at, std::chrono::milliseconds(1900));  // never early
  EXPECT_GT(peer.bytes_after_upgrade(), 0u);  // the ping went out (a masked frame of 6 bytes at least)
}

class QuietHandler final : public fakes::WsHandler {
 public:
  void on_text(std::string_view) override {}
  void on_closed() override {}
};

TEST(WebSocketKeepAlive, APeerThatAnswersPingsStaysConnectedThroughSilence) {
  fakes::WsServerOptions server_options;
  server_options.judge_upgrade = [](const fakes::UpgradeRequest&) { return fakes::UpgradeVerdict::accept(); };
  server_options.accept = [](std::shared_ptr<fakes::WsConnection>) -> std::shared_ptr<fakes::WsHandler> {
    return std::make_shared<QuietHandler>();
  };
  fakes::WsServer server(std::move(server_options));
  boost::asio::io_context io;
  const auto client = net::WebSocketClient::create(io, nullptr, keep_alive_options(server.port()));
  KeepAliveListener listener;
  client->start(&listener);
  const auto connect_deadline = KeepAliveClock::now() + std::chrono::seconds(10);
  while (!listener.opened_at && listener.failure.empty() && KeepAliveClock::now() < connect_deadline)
    io.run_one_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(listener.opened_at) << listener.failure;
  // Four idle periods without a message either way: every silence is pinged and answered.
  io.run_for(std::chrono::milliseconds(4200));
  EXPECT_EQ(listener.failure, "");
  EXPECT_TRUE(client->send("still here"));
  client->close();
  io.run_for(std::chrono::milliseconds(100));
}

}  // namespace
}  // namespace concierge
