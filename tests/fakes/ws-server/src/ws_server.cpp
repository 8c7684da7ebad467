// The fakes' shared WebSocket server (ws_server.hpp): the one place their Beast server templates are instantiated.
#include "concierge_fakes/ws_server.hpp"

#include <algorithm>
#include <cctype>
#include <deque>
#include <thread>
#include <type_traits>

#include "concierge/net/asio.hpp"

namespace concierge::fakes {

using namespace concierge::net;
using asio::awaitable;
using asio::use_awaitable;

WsConnection::~WsConnection() = default;
WsHandler::~WsHandler() = default;

std::optional<std::string> UpgradeRequest::header(std::string_view lower_case_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_case_name) return value;
  return std::nullopt;
}

namespace {

template <class Ws>
class Connection final : public WsConnection, public std::enable_shared_from_this<Connection<Ws>> {
 public:
  Connection(asio::io_context& io, Ws ws) : io_(io), ws_(std::move(ws)) {}

  void send(std::string text) override {
    if (!open_ || closing_) return;
    queue_.push_back(std::move(text));
    if (!writing_) {
      writing_ = true;
      asio::co_spawn(ws_.get_executor(), write_loop(this->shared_from_this()), asio::detached);
    }
  }

  void close(int code, std::string reason) override {
    if (!open_ || closing_) return;
    closing_ = true;
    close_reason_ = websocket::close_reason(static_cast<websocket::close_code>(code), reason);
    if (!writing_) asio::co_spawn(ws_.get_executor(), close_now(this->shared_from_this()), asio::detached);
  }

  void drop() override {
    open_ = false;
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

  bool is_open() const override { return open_ && !closing_; }
  bool writing() const override { return writing_; }
  asio::io_context& io() override { return io_; }

  // Reads until the peer leaves; the handler hears every message, then on_closed().
  awaitable<void> read_loop(std::shared_ptr<WsHandler> handler) {
    beast::flat_buffer buffer;
    for (;;) {
      beast::error_code ec;
      co_await ws_.async_read(buffer, asio::redirect_error(use_awaitable, ec));
      if (ec) break;
      const auto data = buffer.cdata();
      handler->on_text(std::string_view(static_cast<const char*>(data.data()), data.size()));
      buffer.consume(buffer.size());
    }
    open_ = false;
    handler->on_closed();
  }

  Ws& stream() { return ws_; }

 private:
  static awaitable<void> write_loop(std::shared_ptr<Connection> self) {
    while (!self->queue_.empty() && self->open_) {
      std::string message = std::move(self->queue_.front());
      self->queue_.pop_front();
      beast::error_code ec;
      co_await self->ws_.async_write(asio::buffer(message), asio::redirect_error(use_awaitable, ec));
      if (ec) {
        self->open_ = false;
        break;
      }
    }
    self->queue_.clear();
    self->writing_ = false;
    if (self->closing_ && self->open_) co_await close_now(self);
  }

  static awaitable<void> close_now(std::shared_ptr<Connection> self) {
    beast::error_code ec;
    co_await self->ws_.async_close(self->close_reason_, asio::redirect_error(use_awaitable, ec));
    self->open_ = false;
  }

  asio::io_context& io_;
  Ws ws_;
  std::deque<std::string> queue_;
  websocket::close_reason close_reason_;
  bool open_ = true;
  bool closing_ = false;
  bool writing_ = false;
};

}  // namespace

struct WsServer::Impl : std::enable_shared_from_this<WsServer::Impl> {
  WsServerOptions options;
  // Owned through pointers so stop() can destroy them in order: the acceptor, then the loop (which destroys the
  // coroutines still suspended on it, and with them the connections).
  std::unique_ptr<asio::io_context> io_owner = std::make_unique<asio::io_context>();
  asio::io_context& io = *io_owner;
  std::unique_ptr<tcp::acceptor> acceptor_owner = std::make_unique<tcp::acceptor>(io);
  tcp::acceptor& acceptor = *acceptor_owner;
  std::optional<ssl::context> tls;
  std::thread thread;
  std::uint16_t port = 0;
  bool stopped = false;
  std::vector<std::weak_ptr<WsConnection>> connections;  // touched on the loop thread only

  void start() {
    if (options.tls) {
      tls.emplace(ssl::context::tls_server);
      tls->use_certificate_chain(asio::buffer(options.tls->server_cert_pem));
      tls->use_private_key(asio::buffer(options.tls->server_key_pem), ssl::context::pem);
    }
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), options.port);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen();
    port = acceptor.local_endpoint().port();
    asio::co_spawn(io, accept_loop(shared_from_this()), asio::detached);
    thread = std::thread([this] { io.run(); });
  }

  void drop_all() {  // on the loop thread
    auto open = connections;
    for (auto& weak : open)
      if (auto c = weak.lock()) c->drop();
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    asio::post(io, [this] {
      beast::error_code ignored;
      acceptor.close(ignored);
      drop_all();
    });
    asio::post(io, [this] {
      auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(50));
      timer->async_wait([this, timer](beast::error_code) { io.stop(); });
    });
    if (thread.joinable()) thread.join();
    acceptor_owner.reset();
    io_owner.reset();
  }

  static awaitable<void> accept_loop(std::shared_ptr<Impl> self) {
    for (;;) {
      beast::error_code ec;
      tcp::socket socket = co_await self->acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
      if (ec) co_return;
      socket.set_option(tcp::no_delay(true), ec);
      if (self->tls) {
        beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *self->tls);
        asio::co_spawn(self->io, serve(self, std::move(stream)), asio::detached);
      } else {
        asio::co_spawn(self->io, serve(self, beast::tcp_stream(std::move(socket))), asio::detached);
      }
    }
  }

  template <class Stream>
  static awaitable<void> serve(std::shared_ptr<Impl> self, Stream stream) {
    beast::error_code ec;
    constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
    if constexpr (kTls) {
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
      co_await stream.async_handshake(ssl::stream_base::server, asio::redirect_error(use_awaitable, ec));
      if (ec) co_return;
    }
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    co_await http::async_read(stream, buffer, request, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    beast::get_lowest_layer(stream).expires_never();

    UpgradeRequest upgrade;
    upgrade.target = std::string(request.target());
    upgrade.is_websocket_upgrade = websocket::is_upgrade(request);
    for (const auto& field : request) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      upgrade.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    const UpgradeVerdict verdict = self->options.judge_upgrade(upgrade);
    if (verdict.status != 101) {
      http::response<http::string_body> response{static_cast<http::status>(verdict.status), request.version()};
      response.set(http::field::content_type, "application/json");
      response.body() = verdict.body;
      response.prepare_payload();
      response.keep_alive(false);
      beast::error_code ignored;
      co_await http::async_write(stream, response, asio::redirect_error(use_awaitable, ignored));
      co_return;
    }

    using Ws = websocket::stream<Stream>;
    Ws ws(std::move(stream));
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws.text(true);
    ws.read_message_max(self->options.max_message_bytes);
    co_await ws.async_accept(request, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    auto connection = std::make_shared<Connection<Ws>>(self->io, std::move(ws));
    std::erase_if(self->connections, [](const std::weak_ptr<WsConnection>& w) { return w.expired(); });
    self->connections.push_back(connection);
    std::shared_ptr<WsHandler> handler = self->options.accept(connection);
    co_await connection->read_loop(std::move(handler));
  }
};

WsServer::WsServer(WsServerOptions options) : impl_(std::make_shared<Impl>()) {
  impl_->options = std::move(options);
  impl_->start();
}

WsServer::~WsServer() { stop(); }

std::uint16_t WsServer::port() const { return impl_->port; }
asio::io_context& WsServer::io() { return impl_->io; }

void WsServer::drop_connections() {
  asio::post(impl_->io, [impl = impl_] { impl->drop_all(); });
}

void WsServer::stop() { impl_->stop(); }

}  // namespace concierge::fakes
