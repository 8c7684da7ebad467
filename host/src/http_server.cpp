#include "http_server.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <list>
#include <unordered_map>

#include "concierge/net/asio.hpp"
#include "concierge/net/websocket_frame.hpp"
#include "concierge/text.hpp"

// Boost 1.74's coroutine frames come from a recycling allocator whose operator delete GCC 12 cannot pair with its
// operator new (-Wmismatched-new-delete, reported at the end of every coroutine here): a false positive in Boost's
// header code, checked clean by the AddressSanitizer run (scripts/test-sanitizers.sh).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

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

http::response<http::string_body> to_beast_response(HttpResponse r, unsigned version, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "concierge");
  if (!r.content_type.empty()) res.set(http::field::content_type, r.content_type);
  for (const auto& [name, value] : r.headers) res.set(name, value);
  res.body() = std::move(r.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

// Open connections, in all and by client address (the event loop's thread only).
struct ConnectionCounts {
  std::size_t total = 0;
  std::unordered_map<std::string, std::size_t> by_client;
  std::uint64_t refused = 0;
};

// One open connection's place in the counts, for as long as the connection (HTTP session, then its WebSocket)
// lives.
class ConnectionSlot {
 public:
  explicit ConnectionSlot(std::shared_ptr<ConnectionCounts> counts) : counts_(std::move(counts)) { ++counts_->total; }
  ~ConnectionSlot() {
    release_client();
    --counts_->total;
  }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;

  // Counts this connection as `client`'s; false (and counted for no client) when that client is at `limit`.
  bool count_for(const std::string& client, std::size_t limit) {
    if (client == client_) return true;
    release_client();
    auto& n = counts_->by_client[client];
    if (n >= limit) {
      if (n == 0) counts_->by_client.erase(client);
      return false;
    }
    ++n;
    client_ = client;
    return true;
  }

 private:
  void release_client() {
    if (client_.empty()) return;
    auto it = counts_->by_client.find(client_);
    if (it != counts_->by_client.end() && --it->second == 0) counts_->by_client.erase(it);
    client_.clear();
  }
  std::shared_ptr<ConnectionCounts> counts_;
  std::string client_;
};

// Memory for one kind of asynchronous operation of one connection (its read, its write, its flush). Asio allocates
// each operation through the handler's associated allocator; its own per-thread cache holds one block, which a
// thousand connections with a read each in flight defeat, so every frame would cost a malloc. A connection has at
// most one operation of each kind in flight, so one fixed block each is enough; anything bigger goes to the heap.
class OpMemory {
 public:
  void* allocate(std::size_t size) {
    if (!in_use_ && size <= sizeof storage_) {
      in_use_ = true;
      return storage_;
    }
    return ::operator new(size);
  }
  void deallocate(void* p) {
    if (p == storage_) in_use_ = false;
    else ::operator delete(p);
  }

 private:
  alignas(std::max_align_t) unsigned char storage_[512];
  bool in_use_ = false;
};

template <typename T>
struct OpAllocator {
  using value_type = T;
  OpMemory* memory;
  explicit OpAllocator(OpMemory& m) : memory(&m) {}
  template <typename U>
  OpAllocator(const OpAllocator<U>& other) noexcept : memory(other.memory) {}
  T* allocate(std::size_t n) { return static_cast<T*>(memory->allocate(sizeof(T) * n)); }
  void deallocate(T* p, std::size_t) { memory->deallocate(p); }
  template <typename U>
  bool operator==(const OpAllocator<U>& other) const noexcept { return memory == other.memory; }
  template <typename U>
  bool operator!=(const OpAllocator<U>& other) const noexcept { return memory != other.memory; }
};

// A completion handler that allocates its operation from `memory`.
template <typename F>
struct WithMemory {
  using allocator_type = OpAllocator<char>;
  OpMemory* memory;
  F f;
  allocator_type get_allocator() const noexcept { return allocator_type(*memory); }
  template <typename... Args>
  void operator()(Args&&... args) { f(std::forward<Args>(args)...); }
};
template <typename F>
WithMemory<F> with_memory(OpMemory& memory, F f) { return {&memory, std::move(f)}; }

using namespace concierge::net::ws;  // the frame layout: opcodes, headers, masking
constexpr std::uint16_t kCloseNormal = 1000, kCloseProtocolError = 1002, kCloseTooBig = 1009;
// The close codes a peer may put on the wire (RFC 6455 7.4.1, IANA's registry): 1004-1006 and 1015 are reserved or
// only for reporting, 1016-2999 unassigned, 5000 and up undefined.
constexpr bool is_sendable_close_code(std::uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}
// The peer's answer to our close frame, after which the socket is closed regardless.
constexpr auto kCloseTimeout = std::chrono::seconds(5);
// A stream that sends nothing at all for this long is dead (Twilio sends media every 20 ms).
constexpr auto kIdleTimeout = std::chrono::seconds(300);

// One accepted WebSocket, after Beast's handshake. The frames are read and written here, on the socket itself
// (RFC 6455, server side: masked client frames, fragmented messages, ping -> pong, the close handshake), because a
// media stream sends two messages for every 20 ms frame (media and mark): through Beast's stream each message is a
// separate write with its own syscall and completion, where here everything a handler sends in one turn of the loop
// leaves in one write. Output goes to a buffer that is swapped with the one being written; both keep their
// capacity, and each operation's memory is the connection's own, so steady media traffic allocates nothing.
class WebSocketConnection : public WebSocketPeer, public std::enable_shared_from_this<WebSocketConnection> {
 public:
  WebSocketConnection(tcp::socket socket, HttpRequest upgrade, std::shared_ptr<Logger> log,
                      const HttpServerLimits& limits, std::string_view already_read,
                      std::shared_ptr<ConnectionSlot> slot)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), upgrade_(std::move(upgrade)),
        log_(std::move(log)), limits_(limits), slot_(std::move(slot)) {
    in_.resize(std::max<std::size_t>(16 * 1024, already_read.size()));
    std::copy(already_read.begin(), already_read.end(), in_.begin());
    in_end_ = already_read.size();
    pending_.reserve(4096);
    writing_buf_.reserve(4096);
  }

  void send_text(std::string_view message) override {
    if (!open_) return;
    if (!room_for(message.size())) return;
    append_frame(kText, message);
    request_flush();
  }

  void close(std::string_view reason) override {
    if (!open_) return;
    open_ = false;
    close_reason_ = std::string(reason);
    send_close(kCloseNormal);
  }

  bool is_open() const override { return open_; }
  const HttpRequest& upgrade_request() const override { return upgrade_; }

  // Reads until the connection ends; then tells the handler once.
  void start(std::shared_ptr<WebSocketHandler> handler) {
    handler_ = std::move(handler);
    if (!close_sent_) arm_idle_timer();  // a refused connection's timer already waits for the close answer
    process_input();  // bytes that arrived with the upgrade request
  }

  void force_close() {
    open_ = false;
    beast::error_code ignored;
    socket_.close(ignored);
  }

 private:
  // ---- reading ----------------------------------------------------------------------------------------------
  void read_more() {
    if (in_begin_ > 0) {  // keep the unread tail at the front of the buffer
      std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
      in_end_ -= in_begin_;
      in_begin_ = 0;
    }
    // One whole frame must fit: its header and at most max_message_bytes of payload (bigger is refused unread).
    if (in_end_ == in_.size())
      in_.resize(std::max(in_.size(), std::min(in_.size() * 2, limits_.max_message_bytes + 14)));
    socket_.async_read_some(
        asio::buffer(in_.data() + in_end_, in_.size() - in_end_),
        with_memory(read_memory_, [self = shared_from_this()](beast::error_code ec, std::size_t n) {
          self->on_read(ec, n);
        }));
  }

  void on_read(beast::error_code ec, std::size_t n) {
    if (ec) {
      if (peer_closed_) end("closed by peer");
      else if (!open_) end(close_reason_.empty() ? "closed" : close_reason_);
      else if (ec == asio::error::eof) end("connection lost: the peer closed the connection without a close frame");
      else end("connection lost: " + ec.message());
      return;
    }
    in_end_ += n;
    ++reads_;
    process_input();
  }

  // Every complete frame in the buffer, then one flush of what the handler sent in reply, then the next read.
  void process_input() {
    in_handler_ = true;
    bool more = true;
    while (more) more = next_frame();
    in_handler_ = false;
    flush();
    if (reading_stopped_) {
      end(peer_closed_ && close_reason_.empty() ? "closed by peer" : close_reason_);
      return;
    }
    read_more();
  }

  // Reads one frame from the buffer; false when it holds no complete frame or reading is over.
  bool next_frame() {
    if (reading_stopped_) return false;
    const std::size_t available = in_end_ - in_begin_;
    if (available < 2) return false;
    FrameHeader frame;
    const bool whole_header =
        parse_header(reinterpret_cast<const std::uint8_t*>(in_.data() + in_begin_), available, frame);
    if (frame.reserved_bits) return protocol_error("reserved bits set (no extension was negotiated)");
    if (!frame.masked) return protocol_error("unmasked frame from the client");
    if (!whole_header) return false;
    const bool fin = frame.fin;
    const std::uint8_t opcode = frame.opcode;
    const std::uint64_t length = frame.length;
    const std::size_t header = frame.size;
    const bool control = opcode & 0x8;
    if (control && (!fin || length > 125)) return protocol_error("fragmented or oversized control frame");
    if (!control && (length > limits_.max_message_bytes ||
                     (in_message_ && message_.size() + length > limits_.max_message_bytes))) {
      close_reason_ = "message larger than the configured limit";
      fail(kCloseTooBig);
      return false;
    }
    if (available < header + length) return false;
    char* payload = in_.data() + in_begin_ + header;
    apply_mask(payload, static_cast<std::size_t>(length), frame.mask_key);
    const std::string_view data(payload, static_cast<std::size_t>(length));
    in_begin_ += header + static_cast<std::size_t>(length);

    switch (opcode) {
      case kText:
      case kBinary:
        if (in_message_) return protocol_error("a new message inside a fragmented one");
        if (fin) {
          deliver(opcode, data);
        } else {
          in_message_ = true;
          message_opcode_ = opcode;
          message_.assign(data);
        }
        return true;
      case kContinuation:
        if (!in_message_) return protocol_error("a continuation frame outside a message");
        message_.append(data);
        if (fin) {
          in_message_ = false;
          deliver(message_opcode_, message_);
        }
        return true;
      case kPing:
        if (close_sent_) return true;
        if (!room_for(data.size())) return false;
        append_frame(kPong, data);
        return true;
      case kPong: return true;
      case kClose: {
        peer_closed_ = true;
        std::uint16_t code = kCloseNormal;
        if (data.size() >= 2) code = static_cast<std::uint16_t>((std::uint8_t(data[0]) << 8) | std::uint8_t(data[1]));
        // A one-byte body, a code no endpoint may send (RFC 6455 7.4), or a reason that is not UTF-8 is a protocol
        // error: answered with 1002, never echoed.
        const bool valid = data.size() != 1 && (data.size() < 2 || is_sendable_close_code(code)) &&
                           (data.size() <= 2 || is_valid_utf8(data.substr(2)));
        if (!valid) close_reason_ = "protocol error: invalid close frame from the peer";
        if (!close_sent_) {
          // Answer with the peer's code, as RFC 6455 asks; the connection then ends.
          open_ = false;
          send_close(valid ? code : kCloseProtocolError);
        }
        reading_stopped_ = true;
        return false;
      }
      default: return protocol_error("unknown opcode");
    }
  }

  void deliver(std::uint8_t opcode, std::string_view message) {
    if (opcode != kText) {
      log_->warning("websocket " + upgrade_.path + ": binary message ignored (the protocol is JSON text)");
      return;
    }
    if (!open_ || !handler_) return;
    try {
      handler_->on_text(message);
    } catch (const std::exception& e) {
      // A plugin that throws on a message loses this stream, not the daemon.
      log_->error("websocket " + upgrade_.path + " from " + upgrade_.remote_address +
                  ": the message handler failed: " + e.what() + "; closing the stream");
      close("internal error");
    }
  }

  bool protocol_error(const char* what) {
    close_reason_ = std::string("protocol error: ") + what;
    fail(kCloseProtocolError);
    return false;
  }

  // A protocol violation: say why in a close frame and stop reading.
  void fail(std::uint16_t code) {
    open_ = false;
    if (!close_sent_) send_close(code);
    reading_stopped_ = true;
  }

  // The read side is over: the handler hears it once; the socket closes once the last frame (a close) is written.
  void end(const std::string& reason) {
    if (ended_) return;
    ended_ = true;
    open_ = false;
    reading_stopped_ = true;
    if (auto handler = std::move(handler_)) handler->on_closed(reason);
    if (!writing_ && pending_.empty()) shut_down();
  }

  void shut_down() {
    beast::error_code ignored;
    timer_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  // ---- writing ----------------------------------------------------------------------------------------------
  // Every frame we queue (messages, and the pongs a peer can ask for at will) counts toward the output limit; a
  // peer that sends but does not read is dropped once its unsent output passes the limit.
  bool room_for(std::size_t payload_bytes) {
    if (pending_.size() + writing_buf_.size() + payload_bytes + 14 <= limits_.max_queued_bytes) return true;
    log_->warning("websocket " + upgrade_.path + " from " + upgrade_.remote_address +
                  ": peer is not reading, output queue over its limit; closing");
    // Nothing more can reach a peer that does not read, not even a close frame: drop the connection.
    open_ = false;
    reading_stopped_ = true;
    close_reason_ = "output queue overflow";
    pending_.clear();
    force_close();
    return false;
  }

  void append_frame(std::uint8_t opcode, std::string_view payload) {
    append_header(pending_, opcode, payload.size());  // server frames are not masked
    pending_.append(payload);
  }

  void send_close(std::uint16_t code) {
    if (close_sent_) return;
    close_sent_ = true;
    const char body[2] = {static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
    append_frame(kClose, std::string_view(body, 2));
    request_flush();
    if (!peer_closed_) {
      // Our close: the peer answers with its own, which ends the read loop. A peer that never does is cut off.
      timer_.expires_after(kCloseTimeout);
      timer_.async_wait([weak = weak_from_this()](const beast::error_code& ec) {
        if (auto self = weak.lock(); self && !ec) self->force_close();
      });
    }
  }

  // Output written outside the read loop (another connection's handler, a timer) goes out on the next turn of the
  // loop, together with whatever else is sent on this connection until then.
  void request_flush() {
    if (in_handler_ || writing_ || flush_posted_) return;
    flush_posted_ = true;
    asio::post(socket_.get_executor(), with_memory(flush_memory_, [self = shared_from_this()] {
                 self->flush_posted_ = false;
                 self->flush();
               }));
  }

  void flush() {
    if (writing_ || pending_.empty()) return;
    if (!write_what_fits_now()) return;
    writing_ = true;
    std::swap(pending_, writing_buf_);
    asio::async_write(socket_, asio::buffer(writing_buf_),
                      with_memory(write_memory_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        self->on_written(ec);
                      }));
  }

  // Most turns the socket has room for the whole turn's output: it is written there and then, with no asynchronous
  // write to start, complete and dispatch (the operation, its completion posted to the loop and its handler cost
  // ~1,000 instructions per frame). Returns true when output is left for an asynchronous write (the socket was
  // full), false when none is (all written, or the connection failed and was closed as on_written does).
  bool write_what_fits_now() {
    const ssize_t n = ::send(socket_.native_handle(), pending_.data(), pending_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0 && static_cast<std::size_t>(n) == pending_.size()) {
      pending_.clear();
      if (ended_) shut_down();
      return false;
    }
    if (n > 0) {
      pending_.erase(0, static_cast<std::size_t>(n));
      return true;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
    write_failed();
    return false;
  }

  void on_written(beast::error_code ec) {
    writing_ = false;
    writing_buf_.clear();
    if (ec) {
      write_failed();
      return;
    }
    if (!pending_.empty()) flush();
    else if (ended_) shut_down();
  }

  // A write failed, at once or asynchronously: nothing more goes out.
  void write_failed() {
    pending_.clear();
    open_ = false;
    if (ended_) shut_down();
    else force_close();  // the read fails next and ends the connection
  }

  // ---- idle timeout -----------------------------------------------------------------------------------------
  void arm_idle_timer() {
    timer_.expires_after(kIdleTimeout);
    timer_.async_wait([weak = weak_from_this(), reads = reads_](const beast::error_code& ec) {
      auto self = weak.lock();
      if (!self || ec || self->close_sent_) return;
      if (self->reads_ == reads) {
        self->open_ = false;
        self->close_reason_ = "nothing received for " + std::to_string(kIdleTimeout.count()) + " s";
        self->force_close();
        return;
      }
      self->arm_idle_timer();
    });
  }

  tcp::socket socket_;
  asio::steady_timer timer_;  // idle timeout, then the close handshake's timeout
  HttpRequest upgrade_;
  std::shared_ptr<Logger> log_;
  HttpServerLimits limits_;
  std::shared_ptr<ConnectionSlot> slot_;  // counted as open until this connection is destroyed
  std::shared_ptr<WebSocketHandler> handler_;
  // Input: frames are parsed (and unmasked) in place; a fragmented message is put together in message_.
  std::vector<char> in_;
  std::size_t in_begin_ = 0, in_end_ = 0;
  std::string message_;
  std::uint8_t message_opcode_ = kText;
  bool in_message_ = false;
  std::uint64_t reads_ = 0;
  // Output: frames queued since the last write, and the buffer being written.
  std::string pending_, writing_buf_;
  OpMemory read_memory_, write_memory_, flush_memory_;
  bool writing_ = false;
  bool flush_posted_ = false;
  bool in_handler_ = false;
  bool open_ = true;
  bool close_sent_ = false;
  bool peer_closed_ = false;
  bool reading_stopped_ = false;
  bool ended_ = false;
  std::string close_reason_;
};


// The address part of an X-Forwarded-For entry ("203.0.113.7", "[2001:db8::1]:443", "203.0.113.7:5000"),
// normalised; "" when it is not an IP address.
std::string forwarded_address(std::string_view entry) {
  while (!entry.empty() && (entry.front() == ' ' || entry.front() == '\t')) entry.remove_prefix(1);
  while (!entry.empty() && (entry.back() == ' ' || entry.back() == '\t')) entry.remove_suffix(1);
  if (!entry.empty() && entry.front() == '[') {
    const auto close = entry.find(']');
    if (close == std::string_view::npos) return "";
    entry = entry.substr(1, close - 1);
  } else if (std::count(entry.begin(), entry.end(), ':') == 1) {
    entry = entry.substr(0, entry.find(':'));  // IPv4 with a port
  }
  beast::error_code ec;
  const auto address = asio::ip::make_address(std::string(entry), ec);
  return ec ? std::string() : address.to_string();
}

bool out_of_descriptors(const beast::error_code& ec) {
  return ec == asio::error::no_descriptors || ec.value() == ENFILE || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory;
}

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
  std::shared_ptr<ConnectionCounts> counts = std::make_shared<ConnectionCounts>();
  std::vector<std::string> trusted_proxies;  // normalised addresses
  // A descriptor held in reserve: when accept() fails for want of descriptors, closing it lets us accept the
  // waiting connection and close it at once, instead of leaving it in the backlog to wake the loop forever.
  int reserve_fd = -1;

  State(asio::io_context& io_, std::shared_ptr<Logger> log_, Handlers h, HttpServerLimits l)
      : io(io_), log(std::move(log_)), handlers(std::move(h)), limits(std::move(l)), acceptor(io_) {
    for (const auto& proxy : limits.trusted_proxies) {
      const std::string address = forwarded_address(proxy);
      if (address.empty()) throw std::runtime_error("trusted proxy \"" + proxy + "\" is not an IP address");
      trusted_proxies.push_back(address);
    }
    reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  ~State() {
    if (reserve_fd >= 0) ::close(reserve_fd);
  }

  bool is_trusted_proxy(const std::string& address) const {
    return std::find(trusted_proxies.begin(), trusted_proxies.end(), address) != trusted_proxies.end();
  }

  // The client behind a trusted proxy: the last X-Forwarded-For entry no trusted proxy added (entries are appended
  // by each hop, so everything to its left is the client's own claim and worth nothing). "" when there is none.
  std::string forwarded_client(std::string_view header) const {
    std::string client;
    while (!header.empty()) {
      const auto comma = header.rfind(',');
      const std::string_view entry = comma == std::string_view::npos ? header : header.substr(comma + 1);
      header = comma == std::string_view::npos ? std::string_view() : header.substr(0, comma);
      client = forwarded_address(entry);
      if (client.empty() || !is_trusted_proxy(client)) return client;
    }
    return client;
  }

  void shed_one_connection() {
    if (reserve_fd < 0) return;
    ::close(reserve_fd);
    const int fd = ::accept4(acceptor.native_handle(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) {
      ::close(fd);
      ++counts->refused;
    }
    reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }

  awaitable<void> accept_loop() {
    auto self = shared_from_this();
    asio::steady_timer backoff(io);
    constexpr auto kFirstBackoff = std::chrono::milliseconds(10), kMaxBackoff = std::chrono::milliseconds(1000);
    auto delay = kFirstBackoff;
    while (!stopped) {
      beast::error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
      if (ec) {
        if (stopped || ec == asio::error::operation_aborted) break;
        // Never retry at once: the same error would come back at once, for ever (100% CPU, a log line each).
        if (out_of_descriptors(ec)) {
          shed_one_connection();
          log->warning("accept failed: " + ec.message() + "; a waiting connection was closed, accepting again in " +
                       std::to_string(delay.count()) + " ms");
        } else {
          log->warning(std::string("accept failed: ") + ec.message());
        }
        backoff.expires_after(delay);
        co_await backoff.async_wait(asio::redirect_error(use_awaitable, ec));
        delay = std::min(delay * 2, kMaxBackoff);
        continue;
      }
      delay = kFirstBackoff;
      const auto endpoint = socket.remote_endpoint(ec);
      if (ec) continue;  // already gone
      const std::string address = endpoint.address().to_string();
      const bool proxy = is_trusted_proxy(address);
      auto slot = std::make_shared<ConnectionSlot>(counts);
      // A trusted proxy carries many clients: it is counted per client once its requests name them.
      if (counts->total > limits.max_connections ||
          (!proxy && !slot->count_for(address, limits.max_connections_per_client))) {
        ++counts->refused;
        log->warning("refused a connection from " + address + ": " +
                     (counts->total > limits.max_connections
                          ? "at the limit of " + std::to_string(limits.max_connections) + " open connections"
                          : "it has " + std::to_string(limits.max_connections_per_client) +
                                " open connections already"));
        socket.close(ec);
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      asio::co_spawn(io, session(std::move(socket), std::move(slot), proxy), asio::detached);
    }
  }

  awaitable<void> session(tcp::socket socket, std::shared_ptr<ConnectionSlot> slot, bool from_proxy) {
    auto self = shared_from_this();
    beast::error_code ec;
    const auto endpoint = socket.remote_endpoint(ec);
    const std::string peer_ip = ec ? std::string("?") : endpoint.address().to_string();
    const std::string remote = ec ? peer_ip : peer_ip + ":" + std::to_string(endpoint.port());
    auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
    prune();
    http_streams.push_back(stream);
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(limits.max_body_bytes);
      stream->expires_after(limits.idle_timeout);
      co_await http::async_read(*stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
      if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted || stopped) break;
      if (ec == http::error::body_limit) {
        auto res = to_beast_response(HttpResponse::json_error(413, "request body too large"), 11, false);
        stream->expires_after(limits.idle_timeout);
        co_await http::async_write(*stream, res, asio::redirect_error(use_awaitable, ec));
        break;
      }
      if (ec) {
        if (ec != beast::error::timeout && ec != asio::error::connection_reset && ec != asio::error::eof) {
          auto res = to_beast_response(HttpResponse::json_error(400, "malformed HTTP request: " + ec.message()),
                                       11, false);
          stream->expires_after(limits.idle_timeout);
          co_await http::async_write(*stream, res, asio::redirect_error(use_awaitable, ec));
        }
        break;
      }
      auto req = parser.release();
      HttpRequest request = to_sdk_request(req, remote);
      if (from_proxy) {
        // Behind a trusted proxy the client is the one X-Forwarded-For names; each request may be another's.
        const std::string client = forwarded_client(request.header("x-forwarded-for"));
        if (!client.empty()) request.remote_address = client;
        if (!slot->count_for(client.empty() ? peer_ip : client, limits.max_connections_per_client)) {
          ++counts->refused;
          log->warning("refused a request from " + request.remote_address + " (through " + remote + "): it has " +
                       std::to_string(limits.max_connections_per_client) + " open connections already");
          auto res = to_beast_response(
              HttpResponse::json_error(503, "too many open connections from " + request.remote_address), 11, false);
          stream->expires_after(limits.idle_timeout);
          co_await http::async_write(*stream, res, asio::redirect_error(use_awaitable, ec));
          break;
        }
      }

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
          stream->expires_after(limits.idle_timeout);
          co_await http::async_write(*stream, res, asio::redirect_error(use_awaitable, ec));
          break;
        }
        // Beast answers the handshake; the frames after it are the connection's own (see WebSocketConnection).
        stream->expires_after(std::chrono::seconds(30));
        websocket::stream<beast::tcp_stream> ws(std::move(*stream));
        ws.set_option(websocket::stream_base::decorator(
            [](websocket::response_type& res) { res.set(http::field::server, "concierge"); }));
        co_await ws.async_accept(req, asio::redirect_error(use_awaitable, ec));
        if (ec) {
          log->warning("websocket handshake with " + remote + " failed: " + ec.message());
          co_return;
        }
        ws.next_layer().expires_never();
        tcp::socket socket = std::move(ws.next_layer().socket());
        const auto early = buffer.cdata();  // frames the client sent right behind its upgrade request
        auto connection = std::make_shared<WebSocketConnection>(
            std::move(socket), std::move(request), log, limits,
            std::string_view(static_cast<const char*>(early.data()), early.size()), std::move(slot));
        websockets.push_back(connection);
        std::shared_ptr<WebSocketHandler> handler;
        try {
          handler = handlers.open_websocket(connection);
        } catch (const std::exception& e) {
          log->error(std::string("opening the websocket failed: ") + e.what());
        }
        if (!handler) {
          connection->close("refused");
          connection->start(nullptr);
          co_return;
        }
        connection->start(std::move(handler));
        co_return;
      }

      HttpResponse response;
      try {
        response = handlers.http(request);
      } catch (const std::exception& e) {
        log->error("request " + request.method + " " + request.target + " failed: " + e.what());
        response = HttpResponse::json_error(500, "internal error");
      }
      const bool too_many = response.status == 429;
      auto res = to_beast_response(std::move(response), req.version(), req.keep_alive());
      if (too_many && limits.too_many_requests_delay.count() > 0) {
        asio::steady_timer wait(stream->get_executor(), limits.too_many_requests_delay);
        co_await wait.async_wait(asio::redirect_error(use_awaitable, ec));
        if (stopped) break;
      }
      // A client that does not read its answer is cut off after the idle timeout, not held for ever.
      stream->expires_after(limits.idle_timeout);
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
  if (!ec) acceptor.non_blocking(true, ec);  // shed_one_connection's accept4 must never block
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

std::size_t HttpServer::open_connections() const { return state_->counts->total; }
std::uint64_t HttpServer::refused_connections() const { return state_->counts->refused; }

}  // namespace concierge::host
