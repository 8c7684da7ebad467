// The daemon's WebSocket frames (host/src/http_server.cpp reads and writes them itself after Beast's handshake, to
// coalesce a media stream's output into one write per loop turn), driven with the load generator's own frame code:
// ping -> pong, fragmented messages, messages pipelined in one segment and behind the upgrade request, protocol
// errors, replies of one turn leaving in one write, and the close handshake both ways.
#include <gtest/gtest.h>

#include <thread>

#include "concierge/net/asio.hpp"
#include "http_server.hpp"
#include "logging.hpp"
#include "ws_frames.hpp"

namespace {

using namespace concierge;
using namespace concierge::host;
using namespace concierge::net;
using concierge::bench::append_client_frame;
using concierge::bench::WsFrame;
using concierge::bench::WsFrameReader;

struct Echo : WebSocketHandler {
  std::shared_ptr<WebSocketPeer> peer;
  std::vector<std::string>* closed;
  void on_text(std::string_view message) override {
    if (message == "close-me") return peer->close("asked to");
    // Two replies per message, like media + mark: they leave in one write.
    peer->send_text(std::string("a:") + std::string(message));
    peer->send_text(std::string("b:") + std::string(message));
  }
  void on_closed(std::string_view reason) override { closed->push_back(std::string(reason)); }
};

class WebSocketFrames : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpServer::Handlers handlers;
    handlers.http = [](const HttpRequest&) { return HttpResponse::json(200, "{}"); };
    handlers.check_upgrade = [](const HttpRequest&) -> std::optional<HttpResponse> { return std::nullopt; };
    handlers.open_websocket = [this](std::shared_ptr<WebSocketPeer> peer) {
      auto h = std::make_shared<Echo>();
      h->peer = peer;
      h->closed = &closed_;
      return h;
    };
    HttpServerLimits limits;
    limits.max_message_bytes = 100000;
    server_ = std::make_unique<HttpServer>(io_, make_logger("test", LogLevel::error), handlers, limits);
    port_ = server_->listen("127.0.0.1", 0);
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    asio::post(io_, [this] { server_->stop(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    io_.stop();
    thread_.join();
    server_.reset();
  }

  // A raw connection after a handshake written by hand; `after_upgrade` goes in the same write as the request.
  void connect(const std::string& after_upgrade = {}) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), port_});
    std::string request =
        "GET /media-stream HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    asio::write(socket_, asio::buffer(request + after_upgrade));
    asio::streambuf response;
    const std::size_t n = asio::read_until(socket_, response, "\r\n\r\n");
    const std::string head(asio::buffers_begin(response.data()), asio::buffers_begin(response.data()) + n);
    ASSERT_NE(head.find(" 101 "), std::string::npos) << head;
    const std::string rest(asio::buffers_begin(response.data()) + n, asio::buffers_end(response.data()));
    std::copy(rest.begin(), rest.end(), reader_.write_position());
    reader_.wrote(rest.size());
  }
  void send(std::uint8_t opcode, std::string_view payload, bool fin = true) {
    std::string out;
    append_client_frame(out, opcode, payload, 0x12345678u ^ static_cast<std::uint32_t>(payload.size()));
    if (!fin) out[0] = static_cast<char>(out[0] & 0x7f);
    asio::write(socket_, asio::buffer(out));
  }
  // The next frame from the server; opcode 0xff when the connection ended first.
  WsFrame receive() {
    WsFrame frame;
    for (;;) {
      if (reader_.next(frame) == WsFrameReader::Result::frame) return frame;
      beast::error_code ec;
      const std::size_t n = socket_.read_some(asio::buffer(reader_.write_position(), reader_.write_room()), ec);
      if (ec) return WsFrame{0xff, true, {}};
      reader_.wrote(n);
    }
  }
  std::string receive_text() {
    const WsFrame f = receive();
    EXPECT_EQ(f.opcode, concierge::bench::kWsText);
    return std::string(f.payload);
  }
  void wait_closed() {
    for (int i = 0; i < 200 && closed_.empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  asio::io_context io_;
  std::unique_ptr<HttpServer> server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::vector<std::string> closed_;
  asio::io_context client_io_;
  tcp::socket socket_{client_io_};
  WsFrameReader reader_;
};

TEST_F(WebSocketFrames, RepliesOfOneMessageArriveTogetherAndInOrder) {
  connect();
  send(concierge::bench::kWsText, "hello");
  // Both replies were queued in one handler call: they are written together (one segment on loopback).
  std::array<char, 256> bytes{};
  const std::size_t n = socket_.read_some(asio::buffer(bytes));
  EXPECT_EQ(n, 2u + 7u + 2u + 7u);
  std::copy(bytes.begin(), bytes.begin() + n, reader_.write_position());
  reader_.wrote(n);
  EXPECT_EQ(receive_text(), "a:hello");
  EXPECT_EQ(receive_text(), "b:hello");
}

TEST_F(WebSocketFrames, MessagesBehindTheUpgradeAndPipelinedAreAllRead) {
  std::string early;
  append_client_frame(early, concierge::bench::kWsText, "one", 1);
  append_client_frame(early, concierge::bench::kWsText, "two", 2);
  connect(early);
  std::string burst;
  for (int i = 0; i < 50; ++i) append_client_frame(burst, concierge::bench::kWsText, "m" + std::to_string(i), i);
  asio::write(socket_, asio::buffer(burst));
  EXPECT_EQ(receive_text(), "a:one");
  EXPECT_EQ(receive_text(), "b:one");
  EXPECT_EQ(receive_text(), "a:two");
  EXPECT_EQ(receive_text(), "b:two");
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(receive_text(), "a:m" + std::to_string(i));
    EXPECT_EQ(receive_text(), "b:m" + std::to_string(i));
  }
}

TEST_F(WebSocketFrames, PingIsAnsweredAndFragmentsAreJoined) {
  connect();
  send(concierge::bench::kWsPing, "are you there");
  const WsFrame pong = receive();
  EXPECT_EQ(pong.opcode, concierge::bench::kWsPong);
  EXPECT_EQ(pong.payload, "are you there");
  const std::string big(70000, 'x');  // a 64-bit length in the middle fragment
  send(concierge::bench::kWsText, "start-", false);
  send(concierge::bench::kWsPing, "between");  // control frames may come between fragments
  send(concierge::bench::kWsContinuation, big, false);
  send(concierge::bench::kWsContinuation, "-end");
  EXPECT_EQ(receive().opcode, concierge::bench::kWsPong);
  EXPECT_EQ(receive_text(), "a:start-" + big + "-end");
  EXPECT_EQ(receive_text(), "b:start-" + big + "-end");
}

TEST_F(WebSocketFrames, PeerCloseIsAnsweredWithItsCodeAndReported) {
  connect();
  const char going_away[2] = {char(1001 >> 8), char(1001 & 0xff)};
  send(concierge::bench::kWsClose, std::string_view(going_away, 2));
  const WsFrame reply = receive();
  ASSERT_EQ(reply.opcode, concierge::bench::kWsClose);
  ASSERT_GE(reply.payload.size(), 2u);
  EXPECT_EQ((std::uint8_t(reply.payload[0]) << 8) | std::uint8_t(reply.payload[1]), 1001);
  EXPECT_EQ(receive().opcode, 0xff);  // and the server ends the TCP connection
  wait_closed();
  ASSERT_EQ(closed_.size(), 1u);
  EXPECT_EQ(closed_[0], "closed by peer");
}

TEST_F(WebSocketFrames, ServerCloseWaitsForThePeersAnswer) {
  connect();
  send(concierge::bench::kWsText, "close-me");
  const WsFrame close = receive();
  ASSERT_EQ(close.opcode, concierge::bench::kWsClose);
  EXPECT_TRUE(closed_.empty());  // not over until the peer answers
  const char normal[2] = {char(1000 >> 8), char(1000 & 0xff)};
  send(concierge::bench::kWsClose, std::string_view(normal, 2));
  EXPECT_EQ(receive().opcode, 0xff);
  wait_closed();
  ASSERT_EQ(closed_.size(), 1u);
  EXPECT_EQ(closed_[0], "asked to");
}

TEST_F(WebSocketFrames, UnmaskedClientFrameIsAProtocolError) {
  connect();
  const char unmasked[] = {char(0x81), 2, 'h', 'i'};
  asio::write(socket_, asio::buffer(unmasked, sizeof unmasked));
  const WsFrame close = receive();
  ASSERT_EQ(close.opcode, concierge::bench::kWsClose);
  EXPECT_EQ((std::uint8_t(close.payload[0]) << 8) | std::uint8_t(close.payload[1]), 1002);
  wait_closed();
  ASSERT_EQ(closed_.size(), 1u);
  EXPECT_NE(closed_[0].find("unmasked"), std::string::npos);
}

TEST_F(WebSocketFrames, ContinuationWithoutAMessageIsAProtocolError) {
  connect();
  send(concierge::bench::kWsContinuation, "orphan");
  const WsFrame close = receive();
  ASSERT_EQ(close.opcode, concierge::bench::kWsClose);
  EXPECT_EQ((std::uint8_t(close.payload[0]) << 8) | std::uint8_t(close.payload[1]), 1002);
}

}  // namespace
