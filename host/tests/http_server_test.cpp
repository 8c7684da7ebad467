// The daemon's HTTP/WebSocket server over real loopback sockets, with handlers standing in for the routes.
#include <gtest/gtest.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "concierge/net/asio.hpp"
#include "concierge/net/websocket_frame.hpp"
#include "http_server.hpp"
#include "logging.hpp"

using namespace concierge;
using namespace concierge::host;
using namespace concierge::net;

namespace {

struct Echo : WebSocketHandler {
  std::shared_ptr<WebSocketPeer> peer;
  std::vector<std::string>* closed_reasons;
  void on_text(std::string_view message) override { peer->send_text(std::string("echo:") + std::string(message)); }
  void on_closed(std::string_view reason) override { closed_reasons->push_back(std::string(reason)); }
};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpServer::Handlers handlers;
    handlers.http = [](const HttpRequest& r) {
      if (r.path == "/boom") throw std::runtime_error("handler exploded");
      nlohmann::json j{{"method", r.method}, {"path", r.path}, {"query", r.query}, {"body", r.body},
                       {"content_type", std::string(r.header("content-type"))}};
      return HttpResponse::json(200, j.dump());
    };
    handlers.check_upgrade = [](const HttpRequest& r) -> std::optional<HttpResponse> {
      if (r.query.count("deny")) return HttpResponse::json_error(403, "forbidden");
      return std::nullopt;
    };
    handlers.open_websocket = [this](std::shared_ptr<WebSocketPeer> peer) {
      auto h = std::make_shared<Echo>();
      h->peer = peer;
      h->closed_reasons = &closed_;
      return h;
    };
    HttpServerLimits limits;
    limits.max_body_bytes = 1000;
    limits.max_message_bytes = 2000;
    limits.max_queued_bytes = 64 * 1024;
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

  http::response<http::string_body> request(http::verb verb, const std::string& target, std::string body = "") {
    asio::io_context io;
    tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), port_});
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
    req.prepare_payload();
    http::write(socket, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    return res;
  }

  asio::io_context io_;
  std::unique_ptr<HttpServer> server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::vector<std::string> closed_;
};

TEST_F(HttpServerTest, PassesMethodPathQueryHeadersAndBody) {
  auto res = request(http::verb::post, "/calls?call_id=a%20b&x=1", R"({"k":1})");
  EXPECT_EQ(res.result_int(), 200);
  auto j = nlohmann::json::parse(res.body());
  EXPECT_EQ(j["method"], "POST");
  EXPECT_EQ(j["path"], "/calls");
  EXPECT_EQ(j["query"]["call_id"], "a b");
  EXPECT_EQ(j["body"], R"({"k":1})");
  EXPECT_EQ(j["content_type"], "application/json");
}

TEST_F(HttpServerTest, AThrowingHandlerIsA500AndTheServerCarriesOn) {
  EXPECT_EQ(request(http::verb::get, "/boom").result_int(), 500);
  EXPECT_EQ(request(http::verb::get, "/fine").result_int(), 200);
}

TEST_F(HttpServerTest, OversizedBodyIs413) {
  EXPECT_EQ(request(http::verb::post, "/calls", std::string(5000, 'x')).result_int(), 413);
}

TEST_F(HttpServerTest, GarbageIsA400) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port_});
  asio::write(socket, asio::buffer(std::string("THIS IS NOT HTTP\r\n\r\n")));
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  beast::error_code ec;
  http::read(socket, buffer, res, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(res.result_int(), 400);
}

TEST_F(HttpServerTest, WebSocketEchoesAndReportsTheClose) {
  asio::io_context io;
  websocket::stream<tcp::socket> ws(io);
  ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), port_});
  ws.handshake("127.0.0.1", "/media-stream?call_id=1");
  for (int i = 0; i < 100; ++i) {
    ws.write(asio::buffer(std::string("hello ") + std::to_string(i)));
    beast::flat_buffer b;
    ws.read(b);
    EXPECT_EQ(beast::buffers_to_string(b.data()), "echo:hello " + std::to_string(i));
  }
  ws.close(websocket::close_code::normal);
  for (int i = 0; i < 100 && closed_.empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(closed_.size(), 1u);
  EXPECT_EQ(closed_[0], "closed by peer");
}

TEST_F(HttpServerTest, RefusedUpgradeGetsTheHandlersResponse) {
  // A raw upgrade request, so the refusal's status and body can be read as a client would see them.
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port_});
  http::request<http::empty_body> req{http::verb::get, "/media-stream?deny=1", 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::upgrade, "websocket");
  req.set(http::field::connection, "upgrade");
  req.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  req.set(http::field::sec_websocket_version, "13");
  http::write(socket, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  EXPECT_EQ(res.result_int(), 403);
  EXPECT_NE(res.body().find("forbidden"), std::string::npos);
}

TEST_F(HttpServerTest, OversizedWebSocketMessageClosesThatSocketOnly) {
  asio::io_context io;
  websocket::stream<tcp::socket> ws(io);
  ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), port_});
  ws.handshake("127.0.0.1", "/media-stream");
  beast::error_code ec;
  ws.write(asio::buffer(std::string(10000, 'x')), ec);  // the server may close while this is still being sent
  beast::flat_buffer b;
  if (!ec) ws.read(b, ec);
  EXPECT_TRUE(ec);  // closed by the server (1009 message too big)
  for (int i = 0; i < 100 && closed_.empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(closed_.size(), 1u);
  EXPECT_NE(closed_[0].find("larger than the configured limit"), std::string::npos);
  EXPECT_EQ(request(http::verb::get, "/still-here").result_int(), 200);
}

// A client frame (masked, as clients must) with this opcode and payload.
std::string client_frame(std::uint8_t opcode, std::string payload) {
  static const std::uint8_t key[4] = {0x12, 0x34, 0x56, 0x78};
  std::string frame;
  ws::append_header(frame, opcode, payload.size(), key);
  ws::apply_mask(payload.data(), payload.size(), key);
  return frame + payload;
}

// A WebSocket opened with Beast's handshake, then spoken to in raw frames.
struct RawWebSocket {
  asio::io_context io;
  websocket::stream<tcp::socket> ws{io};
  explicit RawWebSocket(std::uint16_t port, int receive_buffer = 0) {
    ws.next_layer().open(tcp::v4());
    if (receive_buffer) ws.next_layer().set_option(asio::socket_base::receive_buffer_size(receive_buffer));
    ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    ws.handshake("127.0.0.1", "/media-stream");
  }
  tcp::socket& socket() { return ws.next_layer(); }
  // The code of the close frame the server sends (0 when none arrives).
  int read_close_code() {
    std::uint8_t header[4];
    beast::error_code ec;
    asio::read(socket(), asio::buffer(header), ec);
    if (ec || header[0] != 0x88 || header[1] != 2) return 0;
    return header[2] << 8 | header[3];
  }
};

TEST_F(HttpServerTest, InvalidCloseCodesAreAnsweredWith1002AndValidOnesEchoed) {
  auto close_with = [&](std::string body) {
    RawWebSocket client(port_);
    asio::write(client.socket(), asio::buffer(client_frame(ws::kClose, std::move(body))));
    return client.read_close_code();
  };
  auto code = [](int c, std::string reason = "") {
    return std::string{static_cast<char>(c >> 8), static_cast<char>(c & 0xff)} + reason;
  };
  for (int invalid : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535})
    EXPECT_EQ(close_with(code(invalid)), 1002) << invalid;
  EXPECT_EQ(close_with(std::string(1, 'x')), 1002) << "a one-byte close body";
  EXPECT_EQ(close_with(code(1000, "bye \xFF")), 1002) << "a reason that is not UTF-8";
  for (int valid : {1000, 1001, 1003, 1011, 3000, 4999}) EXPECT_EQ(close_with(code(valid, "ok")), valid) << valid;
  EXPECT_EQ(close_with(""), 1000);
}

TEST_F(HttpServerTest, PongsToAPeerThatNeverReadsCountTowardTheOutputLimit) {
  RawWebSocket client(port_, 4096);
  std::string pings;
  for (int i = 0; i < 1000; ++i) pings += client_frame(ws::kPing, std::string(125, 'p'));
  // Pings and never a read: once the unanswered pongs pass the 64 KiB limit the server drops the connection, so the
  // writes fail long before the 2 GB of pongs an unbounded queue would hold.
  beast::error_code ec;
  std::size_t sent = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!ec && std::chrono::steady_clock::now() < deadline && sent < (std::size_t(2) << 30)) {
    asio::write(client.socket(), asio::buffer(pings), ec);
    if (!ec) sent += pings.size();
  }
  EXPECT_TRUE(ec) << "the server kept taking pings: " << sent << " bytes";
  for (int i = 0; i < 200 && closed_.empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(closed_.size(), 1u);
  EXPECT_EQ(closed_[0], "output queue overflow");
  EXPECT_EQ(request(http::verb::get, "/still-here").result_int(), 200);
}

}  // namespace
