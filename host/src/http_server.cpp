#include "http_server.hpp"

#include <algorithm>
#include <cctype>
#include <deque>
#include <list>

#include "concierge/net/asio.hpp"

namespace concierge::host {
namespace {
using namespace concierge::net;
using asio::awaitable;
using asio::use_awaitable;

HttpRequest to_sdk_request(const http::request<http::string_body>& req, const std::string& remote) {
  HttpRequest out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  const auto question = out.target.find('?');
  out.path = out.target.substr(0, question);
  if (question != std::string::npos) out.query = parse_query(std::string_view(out.target).substr(question + 1));
  out.headers.reserve(16);
  for (const auto& field : req) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    out.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  out.body = req.body();
  out.remote_address = remote;
  return out;
}

http::response<http::string_body> to_beast_response(const HttpResponse& r, unsigned version, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "concierge");
  if (!r.content_type.empty()) res.set(http::field::content_type, r.content_type);
  for (const auto& [name, value] : r.headers) res.set(name, value);
  res.body() = r.body;
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

// One accepted WebSocket. Reads run in a coroutine; writes go through a queue of reusable strings so that steady
// media traffic allocates nothing (a string keeps its capacity when it is recycled).
class WebSocketConnection : public WebSocketPeer, public std::enable_shared_from_this<WebSocketConnection> {
 public:
  WebSocketConnection(websocket::stream<beast::tcp_stream> ws, HttpRequest upgrade, std::shared_ptr<Logger> log,
                      const HttpServerLimits& limits)
      : ws_(std::move(ws)), upgrade_(std::move(upgrade)), log_(std::move(log)), limits_(limits) {}

  void send_text(std::string_view message) override {
    if (!open_) return;
    if (queued_bytes_ + message.size() > limits_.max_queued_bytes) {
      log_->warning("websocket " + upgrade_.path + " from " + upgrade_.remote_address +
                    ": peer is not reading, output queue over its limit; closing");
      close("output queue overflow");
      return;
    }
    std::string buffer;
    if (!spare_.empty()) {
      buffer = std::move(spare_.back());
      spare_.pop_back();
    }
    buffer.assign(message);
    queued_bytes_ += buffer.size();
    pending_.push_back(std::move(buffer));
    if (!writing_) write_next();
  }

  void close(std::string_view reason) override {
    if (!open_) return;
    open_ = false;
    close_reason_ = std::string(reason);
    if (!writing_) start_close();
  }

  bool is_open() const override { return open_; }
  const HttpRequest& upgrade_request() const override { return upgrade_; }

  awaitable<void> run(std::shared_ptr<WebSocketHandler> handler) {
    auto self = shared_from_this();
    handler_ = handler;
    beast::flat_buffer buffer;
    buffer.reserve(8192);
    std::string reason = "closed by peer";
    for (;;) {
      beast::error_code ec;
      co_await ws_.async_read(buffer, asio::redirect_error(use_awaitable, ec));
      if (ec) {
        if (ec == websocket::error::closed) reason = "closed by peer";
        else if (ec == websocket::error::message_too_big) reason = "message larger than the configured limit";
        else if (!open_) reason = close_reason_.empty() ? "closed" : close_reason_;
        else reason = "connection lost: " + ec.message();
        break;
      }
      if (!ws_.got_text()) {
        log_->warning("websocket " + upgrade_.path + ": binary message ignored (the protocol is JSON text)");
      } else if (open_) {
        const auto data = buffer.cdata();
        try {
          handler->on_text(std::string_view(static_cast<const char*>(data.data()), data.size()));
        } catch (const std::exception& e) {
          // A plugin that throws on a message loses this stream, not the daemon.
          log_->error("websocket " + upgrade_.path + " from " + upgrade_.remote_address +
                      ": the message handler failed: " + e.what() + "; closing the stream");
          close("internal error");
        }
      }
      buffer.consume(buffer.size());
    }
    open_ = false;
    handler_.reset();
    handler->on_closed(reason);
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  void force_close() {
    open_ = false;
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

 private:
  void write_next() {
    if (pending_.empty()) {
      writing_ = false;
      if (!open_) start_close();
      return;
    }
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(pending_.front()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->queued_bytes_ -= self->pending_.front().size();
      self->spare_.push_back(std::move(self->pending_.front()));
      self->pending_.pop_front();
      if (ec) {
        self->pending_.clear();
        self->queued_bytes_ = 0;
        self->writing_ = false;
        self->open_ = false;
        return;
      }
      self->write_next();
    });
  }

  void start_close() {
    if (close_started_) return;
    close_started_ = true;
    ws_.async_close(websocket::close_reason(websocket::close_code::normal),
                    [self = shared_from_this()](beast::error_code) {});
  }

  websocket::stream<beast::tcp_stream> ws_;
  HttpRequest upgrade_;
  std::shared_ptr<Logger> log_;
  HttpServerLimits limits_;
  std::shared_ptr<WebSocketHandler> handler_;
  std::deque<std::string> pending_;
  std::vector<std::string> spare_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool open_ = true;
  bool close_started_ = false;
  std::string close_reason_;
};

}  // namespace

struct HttpServer::State : std::enable_shared_from_this<HttpServer::State> {
  asio::io_context& io;
  std::shared_ptr<Logger> log;
  Handlers handlers;
  HttpServerLimits limits;
  tcp::acceptor acceptor;
  bool stopped = false;
  std::list<std::weak_ptr<beast::tcp_stream>> http_streams;
  std::list<std::weak_ptr<WebSocketConnection>> websockets;

  State(asio::io_context& io_, std::shared_ptr<Logger> log_, Handlers h, HttpServerLimits l)
      : io(io_), log(std::move(log_)), handlers(std::move(h)), limits(l), acceptor(io_) {}

  awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (!stopped) {
      beast::error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
      if (ec) {
        if (stopped || ec == asio::error::operation_aborted) break;
        log->warning(std::string("accept failed: ") + ec.message());
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      asio::co_spawn(io, session(std::move(socket)), asio::detached);
    }
  }

  awaitable<void> session(tcp::socket socket) {
    auto self = shared_from_this();
    beast::error_code ec;
    const auto endpoint = socket.remote_endpoint(ec);
    const std::string remote = ec ? std::string("?") : endpoint.address().to_string() + ":" +
                                                          std::to_string(endpoint.port());
    auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
    prune();
    http_streams.push_back(stream);
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(limits.max_body_bytes);
      stream->expires_after(std::chrono::seconds(60));
      co_await http::async_read(*stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
      if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted || stopped) break;
      if (ec == http::error::body_limit) {
        auto res = to_beast_response(HttpResponse::json_error(413, "request body too large"), 11, false);
        co_await http::async_write(*stream, res, asio::redirect_error(use_awaitable, ec));
        break;
      }
      if (ec) {
        if (ec != beast::error::timeout && ec != asio::error::connection_reset && ec != asio::error::eof) {
          auto res = to_beast_response(HttpResponse::json_error(400, "malformed HTTP request: " + ec.message()),
                                       11, false);
          co_await http::async_write(*stream, res, asio::redirect_error(use_awaitable, ec));
        }
        break;
      }
      auto req = parser.release();
      HttpRequest request = to_sdk_request(req, remote);

      if (websocket::is_upgrade(req)) {
        std::optional<HttpResponse> refusal;
        try {
          refusal = handlers.check_upgrade(request);
        } catch (const std::exception& e) {
          log->error(std::string("websocket upgrade check failed: ") + e.what());
          refusal = HttpResponse::json_error(500, "internal error");
        }
        if (refusal) {
          auto res = to_beast_response(*refusal, req.version(), false);
          co_await http::async_write(*stream, res, asio::redirect_error(use_awaitable, ec));
          break;
        }
        stream->expires_never();
        websocket::stream<beast::tcp_stream> ws(std::move(*stream));
        ws.read_message_max(limits.max_message_bytes);
        ws.auto_fragment(false);
        ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
        ws.set_option(websocket::stream_base::decorator(
            [](websocket::response_type& res) { res.set(http::field::server, "concierge"); }));
        co_await ws.async_accept(req, asio::redirect_error(use_awaitable, ec));
        if (ec) {
          log->warning("websocket handshake with " + remote + " failed: " + ec.message());
          co_return;
        }
        auto connection = std::make_shared<WebSocketConnection>(std::move(ws), std::move(request), log, limits);
        websockets.push_back(connection);
        std::shared_ptr<WebSocketHandler> handler;
        try {
          handler = handlers.open_websocket(connection);
        } catch (const std::exception& e) {
          log->error(std::string("opening the websocket failed: ") + e.what());
        }
        if (!handler) {
          connection->close("refused");
          co_return;
        }
        co_await connection->run(std::move(handler));
        co_return;
      }

      HttpResponse response;
      try {
        response = handlers.http(request);
      } catch (const std::exception& e) {
        log->error("request " + request.method + " " + request.target + " failed: " + e.what());
        response = HttpResponse::json_error(500, "internal error");
      }
      auto res = to_beast_response(response, req.version(), req.keep_alive());
      co_await http::async_write(*stream, res, asio::redirect_error(use_awaitable, ec));
      if (ec || !res.keep_alive()) break;
    }
    stream->socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  void prune() {
    http_streams.remove_if([](const auto& w) { return w.expired(); });
    websockets.remove_if([](const auto& w) { return w.expired(); });
  }
};

HttpServer::HttpServer(asio::io_context& io, std::shared_ptr<Logger> log, Handlers handlers, HttpServerLimits limits)
    : state_(std::make_shared<State>(io, std::move(log), std::move(handlers), limits)) {}

HttpServer::~HttpServer() { stop(); }

std::uint16_t HttpServer::listen(const std::string& address, std::uint16_t port) {
  beast::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec) throw std::runtime_error("cannot listen on \"" + address + "\": not an IP address");
  tcp::endpoint endpoint(ip, port);
  auto& acceptor = state_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message() +
                             (ec == asio::error::address_in_use ? " (is another concierge-host running?)" : ""));
  asio::co_spawn(state_->io, state_->accept_loop(), asio::detached);
  return acceptor.local_endpoint().port();
}

void HttpServer::stop() {
  if (!state_ || state_->stopped) return;
  state_->stopped = true;
  beast::error_code ec;
  state_->acceptor.close(ec);
  for (auto& weak : state_->http_streams)
    if (auto s = weak.lock()) s->socket().close(ec);
  for (auto& weak : state_->websockets)
    if (auto w = weak.lock()) w->force_close();
}

std::size_t HttpServer::open_websockets() const {
  std::size_t n = 0;
  for (auto& weak : state_->websockets)
    if (auto w = weak.lock(); w && w->is_open()) ++n;
  return n;
}

}  // namespace concierge::host
