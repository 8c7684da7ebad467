#include "live_transport.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <nlohmann/json.hpp>

#include "concierge/net/asio.hpp"
#include "concierge/text.hpp"

namespace concierge::openai_live {
namespace {

using namespace concierge::net;
using PlainWs = websocket::stream<beast::tcp_stream>;
using TlsWs = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

constexpr std::size_t kMaxMessageBytes = 16 * 1024 * 1024;  // one audio delta can carry seconds of audio
// Without traffic for this long the connection is probed with a ping; without an answer for as long again it is
// declared dead (a half-open TCP connection would otherwise look alive for minutes).
constexpr std::chrono::seconds kIdleTimeout{20};

// The text of OpenAI's error body ({"error": {"message": ...}}), or the body itself, shortened.
std::string error_text_from_body(const std::string& body) {
  try {
    const auto j = nlohmann::json::parse(body);
    if (j.contains("error") && j["error"].is_object() && j["error"].contains("message") &&
        j["error"]["message"].is_string())
      return j["error"]["message"].get<std::string>();
  } catch (const nlohmann::json::exception&) {
  }
  return truncate_utf8(body, 300);  // at a character boundary: the text ends up in a call record
}

bool is_ip_address(const std::string& host) {
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

template <class Ws>
class WsTransport final : public LiveTransport, public std::enable_shared_from_this<WsTransport<Ws>> {
  static constexpr bool kTls = std::is_same_v<Ws, TlsWs>;

 public:
  WsTransport(asio::io_context& io, std::shared_ptr<ssl::context> tls, Endpoint endpoint, std::string api_key,
              std::chrono::seconds connect_timeout)
      : tls_(std::move(tls)),
        ws_(make_stream(io, tls_.get())),
        resolver_(io),
        deadline_(io),
        endpoint_(std::move(endpoint)),
        api_key_(std::move(api_key)),
        connect_timeout_(connect_timeout),
        slots_(64) {}

  void start(TransportListener* listener) override {
    listener_ = listener;
    auto self = this->shared_from_this();
    deadline_.expires_after(connect_timeout_);
    deadline_.async_wait([self](beast::error_code ec) {
      if (!ec) self->on_deadline();
    });
    resolver_.async_resolve(endpoint_.host, endpoint_.port,
                            [self](beast::error_code ec, tcp::resolver::results_type results) {
                              self->on_resolve(ec, std::move(results));
                            });
  }

  bool send(std::string_view text) override {
    if (!open_ || done_ || closing_) return false;
    if (count_ == slots_.size()) grow();
    slots_[(head_ + count_) % slots_.size()].assign(text.data(), text.size());  // reuses the slot's capacity
    ++count_;
    if (!writing_) do_write();
    return true;
  }

  std::size_t queued_messages() const override { return count_; }

  void close() override {
    listener_ = nullptr;
    if (closing_) return;
    closing_ = true;
    deadline_.cancel();
    resolver_.cancel();
    if (!open_ || done_) {
      beast::error_code ignored;
      beast::get_lowest_layer(ws_).socket().close(ignored);  // aborts a connect or handshake in progress
      return;
    }
    if (!writing_) do_close();  // otherwise on_write closes once the frame in flight is out
  }

 private:
  static Ws make_stream(asio::io_context& io, ssl::context* tls) {
    if constexpr (kTls) return Ws(io, *tls);
    else return Ws(io);
  }

  std::string where() const { return endpoint_.host + ":" + endpoint_.port; }

  // The one way out for failures: reported once, and only while someone listens.
  void fail(const std::string& message) {
    if (done_) return;
    done_ = true;
    deadline_.cancel();
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    if (auto* l = listener_) {
      listener_ = nullptr;
      l->on_transport_failed(message);
    }
  }

  void on_deadline() {
    if (open_ || done_ || closing_) return;
    resolver_.cancel();
    fail("could not connect to GPT-Live at " + where() + " within " +
         std::to_string(connect_timeout_.count()) + " s");
  }

  void on_resolve(beast::error_code ec, tcp::resolver::results_type results) {
    if (done_ || closing_) return;
    if (ec) return fail("could not resolve " + endpoint_.host + ": " + ec.message());
    beast::get_lowest_layer(ws_).async_connect(
        results, [self = this->shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
          self->on_connect(ec);
        });
  }

  void on_connect(beast::error_code ec) {
    if (done_ || closing_) return;
    if (ec) return fail("could not connect to GPT-Live at " + where() + ": " + ec.message());
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true), ignored);  // small frames, sent now
    if constexpr (kTls) {
      auto& tls = ws_.next_layer();
      // SNI (a name, never an address: RFC 6066), then the certificate must name the host we dialled.
      if (!is_ip_address(endpoint_.host) && !SSL_set_tlsext_host_name(tls.native_handle(), endpoint_.host.c_str()))
        return fail("could not set the TLS server name for " + endpoint_.host);
      tls.set_verify_mode(ssl::verify_peer);
      tls.set_verify_callback(ssl::host_name_verification(endpoint_.host));
      tls.async_handshake(ssl::stream_base::client,
                          [self = this->shared_from_this()](beast::error_code ec) { self->on_tls_handshake(ec); });
    } else {
      upgrade();
    }
  }

  void on_tls_handshake(beast::error_code ec) {
    if (done_ || closing_) return;
    if (ec) {
      std::string detail = ec.message();
      if constexpr (kTls) {
        const long verify = SSL_get_verify_result(ws_.next_layer().native_handle());
        if (verify != X509_V_OK) detail = std::string("certificate rejected: ") + X509_verify_cert_error_string(verify);
      }
      return fail("TLS handshake with " + where() + " failed (" + detail + ")");
    }
    upgrade();
  }

  void upgrade() {
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = connect_timeout_;
    timeouts.idle_timeout = kIdleTimeout;
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator([key = api_key_](websocket::request_type& request) {
      // GPT-Live: the bearer token; the model and everything else travel in session.start, not in the URL.
      request.set(http::field::authorization, "Bearer " + key);
      request.set(http::field::user_agent, "concierge-openai-live/1.0");
    }));
    ws_.read_message_max(kMaxMessageBytes);
    ws_.async_handshake(upgrade_response_, endpoint_.host_header(), endpoint_.target,
                        [self = this->shared_from_this()](beast::error_code ec) { self->on_upgrade(ec); });
  }

  void on_upgrade(beast::error_code ec) {
    if (done_ || closing_) return;
    if (ec == websocket::error::upgrade_declined) return fail(describe_refusal());
    if (ec) return fail("WebSocket upgrade at " + where() + " failed: " + ec.message());
    open_ = true;
    deadline_.cancel();
    ws_.text(true);
    do_read();
    if (auto* l = listener_) l->on_transport_open();
  }

  std::string describe_refusal() const {
    const unsigned status = upgrade_response_.result_int();
    const std::string detail = error_text_from_body(upgrade_response_.body());
    const std::string suffix = detail.empty() ? "" : ": " + detail;
    switch (status) {
      case 401:
        return "OpenAI refused the API key (HTTP 401" + suffix + "); check OPENAI_API_KEY";
      case 403:
        return "OpenAI refused access to GPT-Live (HTTP 403" + suffix + "); the key's project needs GPT-Live access "
               "(or use the openai-realtime plugin)";
      case 404:
        return "OpenAI has no GPT-Live endpoint there (HTTP 404" + suffix + "); check url "
               "(wss://api.openai.com/v1/live/sessions)";
      case 429:
        return "OpenAI rate-limited the connection (HTTP 429" + suffix + ")";
      default:
        return "OpenAI refused the WebSocket upgrade (HTTP " + std::to_string(status) + suffix + ")";
    }
  }

  void do_read() {
    ws_.async_read(read_buffer_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(beast::error_code ec) {
    if (closing_ || done_) return;
    if (ec) return lost(ec);
    const auto data = read_buffer_.cdata();
    const std::string_view text(static_cast<const char*>(data.data()), data.size());
    if (auto* l = listener_) l->on_transport_message(text);
    read_buffer_.consume(read_buffer_.size());
    if (!closing_ && !done_) do_read();
  }

  void lost(beast::error_code ec) {
    if (ec == websocket::error::closed) {
      const auto& reason = ws_.reason();
      std::string text = "GPT-Live closed the connection (code " + std::to_string(reason.code);
      if (!reason.reason.empty()) text += ": " + std::string(reason.reason.c_str());
      return fail(text + ")");
    }
    if (ec == beast::error::timeout) return fail("the GPT-Live connection stopped answering (no data for " +
                                                 std::to_string(2 * kIdleTimeout.count()) + " s)");
    fail("the connection to GPT-Live was lost (" + ec.message() + ")");
  }

  void do_write() {
    writing_ = true;
    const std::string& front = slots_[head_];
    ws_.async_write(asio::buffer(front.data(), front.size()),
                    [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    writing_ = false;
    head_ = (head_ + 1) % slots_.size();
    --count_;
    if (closing_) {
      if (!done_) do_close();
      return;
    }
    if (done_) return;
    if (ec) return lost(ec);
    if (count_ > 0) do_write();
  }

  void do_close() {
    done_ = true;
    ws_.async_close(websocket::close_code::normal, [self = this->shared_from_this()](beast::error_code) {
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
    });
  }

  // A full ring doubles, keeping the order; the strings move, so their buffers survive.
  void grow() {
    std::vector<std::string> bigger(slots_.size() * 2);
    for (std::size_t i = 0; i < count_; ++i) bigger[i] = std::move(slots_[(head_ + i) % slots_.size()]);
    slots_ = std::move(bigger);
    head_ = 0;
  }

  std::shared_ptr<ssl::context> tls_;
  Ws ws_;
  tcp::resolver resolver_;
  asio::steady_timer deadline_;
  Endpoint endpoint_;
  std::string api_key_;
  std::chrono::seconds connect_timeout_;
  websocket::response_type upgrade_response_;
  beast::flat_buffer read_buffer_;
  TransportListener* listener_ = nullptr;
  std::vector<std::string> slots_;  // ring of outgoing messages
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  bool open_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool done_ = false;
};

}  // namespace

std::shared_ptr<LiveTransport> LiveTransport::create(asio::io_context& io,
                                                             std::shared_ptr<ssl::context> tls_context,
                                                             Endpoint endpoint, std::string api_key,
                                                             std::chrono::seconds connect_timeout) {
  if (endpoint.tls) {
    if (!tls_context) throw std::invalid_argument("a wss:// endpoint needs a TLS context");
    return std::make_shared<WsTransport<TlsWs>>(io, std::move(tls_context), std::move(endpoint), std::move(api_key),
                                                connect_timeout);
  }
  return std::make_shared<WsTransport<PlainWs>>(io, nullptr, std::move(endpoint), std::move(api_key),
                                                connect_timeout);
}

}  // namespace concierge::openai_live
