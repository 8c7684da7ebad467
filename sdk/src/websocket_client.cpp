// The SDK's WebSocket client (concierge/net/websocket_client.hpp): the one place Beast's client-side WebSocket
// templates are instantiated, plain and TLS, so plugins that talk to a remote service compile none of it.
#include "concierge/net/websocket_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <cstddef>
#include <new>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <type_traits>

#include "concierge/net/asio.hpp"
#include "concierge/net/websocket_url.hpp"
#include "concierge/text.hpp"

namespace concierge::net {

namespace {

using PlainWs = websocket::stream<beast::tcp_stream>;
using TlsWs = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

// The text of a JSON error body ({"error": {"message": ...}}, OpenAI's shape and a common one), or the body itself,
// shortened.
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

std::string default_host_header(const WebSocketClientOptions& o) {
  return WebSocketUrl{o.tls, o.host, o.port, o.target}.host_header();
}

// Memory for the client's own asynchronous operations (the read loop's and the write queue's, through Beast's and
// Asio's composed operations down to the socket's), recycled per client. Without it they would share Asio's
// per-thread cache, which keeps ONE freed block for everything run on the thread: a write's operation and any other
// post on the host's loop evict each other, and every frame sent cost a fresh `new`. A handler says where its
// operations' memory comes from through its associated allocator (HandlerAllocator below). Each slot keeps the
// largest block it was asked for, so the first frames size the slots (about 1.1 KB for a write with Boost 1.74) and
// later ones reuse them; with every slot in use, operator new serves. Single-threaded, like everything of the client.
class HandlerMemory {
 public:
  HandlerMemory() = default;
  HandlerMemory(const HandlerMemory&) = delete;
  HandlerMemory& operator=(const HandlerMemory&) = delete;
  ~HandlerMemory() {
    for (auto& slot : slots_) ::operator delete(slot.memory);
  }

  void* allocate(std::size_t size) {
    Slot* free_slot = nullptr;
    for (auto& slot : slots_) {
      if (slot.in_use) continue;
      if (slot.capacity >= size) {
        slot.in_use = true;
        return slot.memory;
      }
      if (!free_slot) free_slot = &slot;
    }
    if (!free_slot) return ::operator new(size);  // more operations at once than slots: rare (close, pings)
    void* memory = ::operator new(size);  // grows this slot once; the old block was too small to keep
    ::operator delete(free_slot->memory);
    *free_slot = Slot{memory, size, true};
    return memory;
  }
  void deallocate(void* pointer) noexcept {
    for (auto& slot : slots_)
      if (slot.in_use && pointer == slot.memory) {
        slot.in_use = false;
        return;
      }
    ::operator delete(pointer);
  }

 private:
  struct Slot {
    void* memory = nullptr;
    std::size_t capacity = 0;
    bool in_use = false;
  };
  // A read, a write, a control frame's and a paused operation may be alive at once.
  std::array<Slot, 6> slots_{};
};

template <class T>
class HandlerAllocator {
 public:
  using value_type = T;
  explicit HandlerAllocator(HandlerMemory& memory) noexcept : memory_(&memory) {}
  template <class U>
  HandlerAllocator(const HandlerAllocator<U>& other) noexcept : memory_(other.memory_) {}
  T* allocate(std::size_t n) { return static_cast<T*>(memory_->allocate(sizeof(T) * n)); }
  void deallocate(T* pointer, std::size_t) noexcept { memory_->deallocate(pointer); }
  friend bool operator==(const HandlerAllocator& a, const HandlerAllocator& b) noexcept {
    return a.memory_ == b.memory_;
  }
  friend bool operator!=(const HandlerAllocator& a, const HandlerAllocator& b) noexcept { return !(a == b); }

 private:
  template <class>
  friend class HandlerAllocator;
  HandlerMemory* memory_;
};

// A completion handler whose operations take their memory from `memory` (the handler's function holds the client,
// and with it the memory, until the operation's memory has been given back: Asio frees it before the upcall).
template <class Function>
class MemoryHandler {
 public:
  using allocator_type = HandlerAllocator<void>;
  MemoryHandler(HandlerMemory& memory, Function function) : memory_(&memory), function_(std::move(function)) {}
  allocator_type get_allocator() const noexcept { return allocator_type(*memory_); }
  template <class... Args>
  void operator()(Args&&... args) {
    function_(std::forward<Args>(args)...);
  }

 private:
  HandlerMemory* memory_;
  Function function_;
};

template <class Ws>
class WsClient final : public WebSocketClient, public std::enable_shared_from_this<WsClient<Ws>> {
  static constexpr bool kTls = std::is_same_v<Ws, TlsWs>;

 public:
  WsClient(asio::io_context& io, std::shared_ptr<ssl::context> tls, WebSocketClientOptions options)
      : tls_(std::move(tls)),
        ws_(make_stream(io, tls_.get())),
        resolver_(io),
        deadline_(io),
        keepalive_(io),
        options_(std::move(options)),
        slots_(64) {
    if (options_.host_header.empty()) options_.host_header = default_host_header(options_);
  }

  void start(WebSocketListener* listener) override {
    listener_ = listener;
    auto self = this->shared_from_this();
    deadline_.expires_after(options_.connect_timeout);
    deadline_.async_wait([self](beast::error_code ec) {
      if (!ec) self->on_deadline();
    });
    resolver_.async_resolve(options_.host, options_.port,
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
    keepalive_.cancel();
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

  std::string where() const { return options_.host + ":" + options_.port; }

  // The one way out for failures: reported once, and only while someone listens.
  void fail(const std::string& message) {
    if (done_) return;
    done_ = true;
    deadline_.cancel();
    keepalive_.cancel();
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    if (auto* l = listener_) {
      listener_ = nullptr;
      l->on_websocket_failed(message);
    }
  }

  void on_deadline() {
    if (open_ || done_ || closing_) return;
    resolver_.cancel();
    fail("could not connect to " + options_.peer_name + " at " + where() + " within " +
         std::to_string(options_.connect_timeout.count()) + " s");
  }

  void on_resolve(beast::error_code ec, tcp::resolver::results_type results) {
    if (done_ || closing_) return;
    if (ec) return fail("could not resolve " + options_.host + ": " + ec.message());
    beast::get_lowest_layer(ws_).async_connect(
        results, [self = this->shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
          self->on_connect(ec);
        });
  }

  void on_connect(beast::error_code ec) {
    if (done_ || closing_) return;
    if (ec) return fail("could not connect to " + options_.peer_name + " at " + where() + ": " + ec.message());
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true), ignored);  // small frames, sent now
    if constexpr (kTls) {
      auto& tls = ws_.next_layer();
      // SNI (a name, never an address: RFC 6066), then the certificate must name the host we dialled.
      if (!is_ip_address(options_.host) && !SSL_set_tlsext_host_name(tls.native_handle(), options_.host.c_str()))
        return fail("could not set the TLS server name for " + options_.host);
      // Asio asks OpenSSL to free a connection's record buffers whenever they drain (SSL_MODE_RELEASE_BUFFERS), so
      // every record written or read mallocs them again; a call's socket is never idle long enough for that to
      // save anything.
      SSL_clear_mode(tls.native_handle(), SSL_MODE_RELEASE_BUFFERS);
      tls.set_verify_mode(ssl::verify_peer);
      tls.set_verify_callback(ssl::host_name_verification(options_.host));
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
    // The handshake's (and the close's) timeout is Beast's; the idle timeout is the client's own (keep_alive()):
    // Beast's re-arms a timer at every message read, an allocation per message received.
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = options_.connect_timeout;
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    ws_.control_callback([this](websocket::frame_type, beast::string_view) { heard_ = true; });  // ping, pong, close
    ws_.set_option(websocket::stream_base::decorator([headers = options_.headers](websocket::request_type& request) {
      for (const auto& [name, value] : headers) request.set(name, value);
    }));
    ws_.read_message_max(options_.max_message_bytes);
    ws_.async_handshake(upgrade_response_, options_.host_header, options_.target,
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
    arm_keep_alive();
    if (auto* l = listener_) l->on_websocket_open();
  }

  std::string describe_refusal() const {
    const unsigned status = upgrade_response_.result_int();
    const std::string detail = error_text_from_body(upgrade_response_.body());
    if (options_.describe_refusal) return options_.describe_refusal(status, detail);
    return options_.peer_name + " refused the WebSocket upgrade (HTTP " + std::to_string(status) +
           (detail.empty() ? "" : ": " + detail) + ")";
  }

  void do_read() {
    ws_.async_read(read_buffer_, with_memory([self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                     self->on_read(ec);
                   }));
  }

  void on_read(beast::error_code ec) {
    if (closing_ || done_) return;
    if (ec) return lost(ec);
    const auto data = read_buffer_.cdata();
    heard_ = true;
    const std::string_view text(static_cast<const char*>(data.data()), data.size());
    if (auto* l = listener_) l->on_websocket_message(text);
    read_buffer_.consume(read_buffer_.size());
    if (!closing_ && !done_) do_read();
  }

  void lost(beast::error_code ec) {
    if (ec == websocket::error::closed) {
      const auto& reason = ws_.reason();
      std::string text = options_.peer_name + " closed the connection (code " + std::to_string(reason.code);
      if (!reason.reason.empty()) text += ": " + std::string(reason.reason.c_str());
      return fail(text + ")");
    }
    fail("the connection to " + options_.peer_name + " was lost (" + ec.message() + ")");
  }

  // Once per idle_timeout: after a period without a byte from the peer, a ping; after a second one, the connection
  // is dead. One timer per period, whatever the traffic.
  void arm_keep_alive() {
    keepalive_.expires_after(options_.idle_timeout);
    keepalive_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (!ec) self->on_keep_alive();
    });
  }

  void on_keep_alive() {
    if (done_ || closing_) return;
    if (heard_) {
      heard_ = false;
      pinged_ = false;
    } else if (pinged_) {
      return fail("the " + options_.peer_name + " connection stopped answering (no data for " +
                  std::to_string(2 * options_.idle_timeout.count()) + " s)");
    } else {
      pinged_ = true;
      if (!ping_in_flight_) {
        ping_in_flight_ = true;
        ws_.async_ping({}, [self = this->shared_from_this()](beast::error_code) { self->ping_in_flight_ = false; });
      }
    }
    arm_keep_alive();
  }

  void do_write() {
    writing_ = true;
    const std::string& front = slots_[head_];
    ws_.async_write(asio::buffer(front.data(), front.size()),
                    with_memory([self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                      self->on_write(ec);
                    }));
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

  template <class Function>
  MemoryHandler<Function> with_memory(Function function) {
    return MemoryHandler<Function>(handler_memory_, std::move(function));
  }

  // A full ring doubles, keeping the order; the strings move, so their buffers survive.
  void grow() {
    std::vector<std::string> bigger(slots_.size() * 2);
    for (std::size_t i = 0; i < count_; ++i) bigger[i] = std::move(slots_[(head_ + i) % slots_.size()]);
    slots_ = std::move(bigger);
    head_ = 0;
  }

  std::shared_ptr<ssl::context> tls_;
  HandlerMemory handler_memory_;  // before ws_: operations still in the stream give their memory back to it
  Ws ws_;
  tcp::resolver resolver_;
  asio::steady_timer deadline_;
  asio::steady_timer keepalive_;
  WebSocketClientOptions options_;
  websocket::response_type upgrade_response_;
  beast::flat_buffer read_buffer_;
  WebSocketListener* listener_ = nullptr;
  std::vector<std::string> slots_;  // ring of outgoing messages
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  bool open_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool done_ = false;
  bool heard_ = false;           // the peer sent something since the last keep-alive check
  bool pinged_ = false;          // the last check found silence and pinged
  bool ping_in_flight_ = false;  // Beast allows one ping at a time
};

}  // namespace

std::shared_ptr<WebSocketClient> WebSocketClient::create(asio::io_context& io, std::shared_ptr<ssl::context> tls_context,
                                                         WebSocketClientOptions options) {
  if (options.tls) {
    if (!tls_context) throw std::invalid_argument("a wss:// endpoint needs a TLS context");
    return std::make_shared<WsClient<TlsWs>>(io, std::move(tls_context), std::move(options));
  }
  return std::make_shared<WsClient<PlainWs>>(io, nullptr, std::move(options));
}

std::shared_ptr<ssl::context> make_tls_client_context(const std::string& ca_file) {
  auto tls = std::make_shared<ssl::context>(ssl::context::tls_client);
  tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  tls->set_verify_mode(ssl::verify_peer);
  boost::system::error_code ec;
  if (ca_file.empty()) {
    tls->set_default_verify_paths(ec);
    if (ec) throw std::runtime_error("could not load the system's CA certificates: " + ec.message());
  } else {
    tls->load_verify_file(ca_file, ec);
    if (ec) throw std::runtime_error("could not load " + ca_file + ": " + ec.message());
  }
  return tls;
}

}  // namespace concierge::net
