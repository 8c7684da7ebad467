#include "mini_host.hpp"

#include <deque>

#include "concierge/net/asio.hpp"

namespace concierge::testing {
using namespace concierge::net;
using boost::asio::awaitable;
using boost::asio::use_awaitable;

namespace {

HttpRequest to_request(const http::request<http::string_body>& in, const tcp::socket& socket) {
  HttpRequest out;
  out.method = std::string(in.method_string());
  out.target = std::string(in.target());
  const auto q = out.target.find('?');
  out.path = out.target.substr(0, q);
  if (q != std::string::npos) out.query = parse_query(std::string_view(out.target).substr(q + 1));
  for (const auto& field : in) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  out.body = in.body();
  beast::error_code ignored;
  out.remote_address = socket.remote_endpoint(ignored).address().to_string();
  return out;
}

http::response<http::string_body> to_response(const HttpResponse& in, unsigned version) {
  http::response<http::string_body> out{static_cast<http::status>(in.status), version};
  out.set(http::field::content_type, in.content_type);
  for (const auto& [name, value] : in.headers) out.set(name, value);
  out.body() = in.body;
  out.prepare_payload();
  return out;
}

class Peer : public WebSocketPeer, public std::enable_shared_from_this<Peer> {
 public:
  Peer(websocket::stream<beast::tcp_stream> ws, HttpRequest upgrade)
      : ws_(std::move(ws)), upgrade_(std::move(upgrade)) {}

  void send_text(std::string_view message) override {
    if (!open_) return;
    queue_.emplace_back(message);
    if (!writing_) {
      writing_ = true;
      asio::co_spawn(ws_.get_executor(), write_loop(shared_from_this()), asio::detached);
    }
  }
  void close(std::string_view reason) override {
    if (!open_) return;
    open_ = false;
    close_reason_ = std::string(reason.substr(0, 120));
    if (!writing_) asio::co_spawn(ws_.get_executor(), close_now(shared_from_this()), asio::detached);
  }
  bool is_open() const override { return open_; }
  const HttpRequest& upgrade_request() const override { return upgrade_; }
  websocket::stream<beast::tcp_stream>& ws() { return ws_; }
  void mark_closed() { open_ = false; }

 private:
  static awaitable<void> write_loop(std::shared_ptr<Peer> self) {
    try {
      while (!self->queue_.empty()) {
        std::string message = std::move(self->queue_.front());
        self->queue_.pop_front();
        self->ws_.text(true);
        co_await self->ws_.async_write(asio::buffer(message), use_awaitable);
      }
    } catch (const std::exception&) {
      self->queue_.clear();
    }
    self->writing_ = false;
    if (!self->open_) co_await close_now(self);
  }
  static awaitable<void> close_now(std::shared_ptr<Peer> self) {
    try {
      websocket::close_reason reason(websocket::close_code::normal, self->close_reason_);
      co_await self->ws_.async_close(reason, use_awaitable);
    } catch (const std::exception&) {
    }
  }

  websocket::stream<beast::tcp_stream> ws_;
  HttpRequest upgrade_;
  std::deque<std::string> queue_;
  bool writing_ = false;
  bool open_ = true;
  std::string close_reason_;
};

}  // namespace

struct MiniHost::State {
  asio::io_context io;
  asio::thread_pool workers{2};
  std::thread thread;
  tcp::acceptor acceptor{io};
  std::unique_ptr<HttpClient> http = make_http_client(io);
  std::shared_ptr<TelephonyProvider> provider;

  awaitable<void> accept_loop() {
    while (acceptor.is_open()) {
      try {
        tcp::socket socket = co_await acceptor.async_accept(use_awaitable);
        asio::co_spawn(io, serve(std::move(socket)), asio::detached);
      } catch (const std::exception&) {
        co_return;
      }
    }
  }

  awaitable<void> serve(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    try {
      while (true) {
        http::request<http::string_body> request;
        co_await http::async_read(stream, buffer, request, use_awaitable);
        const HttpRequest plain = to_request(request, stream.socket());
        if (websocket::is_upgrade(request)) {
          if (auto refusal = provider->check_media_stream_upgrade(plain)) {
            auto response = to_response(*refusal, request.version());
            response.keep_alive(false);
            co_await http::async_write(stream, response, use_awaitable);
            co_return;
          }
          websocket::stream<beast::tcp_stream> ws(std::move(stream));
          co_await ws.async_accept(request, use_awaitable);
          ws.read_message_max(64 * 1024);  // the host's limit; the plugin still checks payload sizes
          co_await run_websocket(std::make_shared<Peer>(std::move(ws), plain));
          co_return;
        }
        auto response = to_response(provider->handle_http(plain), request.version());
        response.keep_alive(request.keep_alive());
        co_await http::async_write(stream, response, use_awaitable);
        if (!request.keep_alive()) break;
      }
    } catch (const std::exception&) {
    }
  }

  awaitable<void> run_websocket(std::shared_ptr<Peer> peer) {
    auto handler = provider->open_media_stream(peer);
    if (!handler) co_return;
    beast::flat_buffer buffer;
    std::string reason = "closed";
    try {
      while (true) {
        buffer.clear();
        co_await peer->ws().async_read(buffer, use_awaitable);
        const auto data = buffer.data();
        handler->on_text(std::string_view(static_cast<const char*>(data.data()), data.size()));
      }
    } catch (const boost::system::system_error& error) {
      reason = error.code() == websocket::error::closed ? "closed by Twilio" : error.code().message();
    }
    peer->mark_closed();
    handler->on_closed(reason);
  }
};

MiniHost::MiniHost(std::string public_domain)
    : public_domain_(std::move(public_domain)), state_(std::make_shared<State>()) {
  state_->thread = std::thread([state = state_] {
    auto guard = asio::make_work_guard(state->io);
    state->io.run();
  });
}

MiniHost::~MiniHost() {
  post([state = state_] {
    beast::error_code ignored;
    state->acceptor.close(ignored);
    state->io.stop();
  });
  state_->thread.join();
  state_->workers.join();
  state_->http.reset();  // the loop has stopped: nothing else touches its descriptors now
  // Work the loop never ran (posted results) still holds plugin objects: drop it before the provider goes.
  state_->io.restart();
  state_->io.poll();
}

boost::asio::io_context& MiniHost::io() { return state_->io; }
void MiniHost::run_blocking(std::function<void()> work) { asio::post(state_->workers, std::move(work)); }
HttpClient& MiniHost::http() { return *state_->http; }
void MiniHost::post(std::function<void()> f) { asio::post(state_->io, std::move(f)); }

std::shared_ptr<CallEvents> MiniHost::accept_inbound_call(const InboundCall& call) {
  inbound_calls.push_back(call);
  return inbound_events;
}

std::uint16_t MiniHost::serve(std::shared_ptr<TelephonyProvider> provider) {
  return on_loop([&] {
    state_->provider = std::move(provider);
    tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    state_->acceptor.open(endpoint.protocol());
    state_->acceptor.bind(endpoint);
    state_->acceptor.listen();
    asio::co_spawn(state_->io, state_->accept_loop(), asio::detached);
    return state_->acceptor.local_endpoint().port();
  });
}

void MemoryLog::write(LogLevel level, std::string_view message) {
  std::lock_guard lock(mutex_);
  lines_.push_back(std::string(to_string(level)) + " " + std::string(message));
}
std::vector<std::string> MemoryLog::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}
bool MemoryLog::contains(std::string_view text) const {
  std::lock_guard lock(mutex_);
  for (const auto& line : lines_)
    if (line.find(text) != std::string::npos) return true;
  return false;
}

void RecordingEvents::on_provider_call_id(std::string_view id) {
  std::lock_guard lock(mutex);
  provider_id = std::string(id);
  provider_ids.push_back(provider_id);
}
void RecordingEvents::on_status(const CallStatusUpdate& update) {
  std::lock_guard lock(mutex);
  statuses.push_back(update);
}
void RecordingEvents::on_late_status(const CallStatusUpdate& update) {
  std::lock_guard lock(mutex);
  late_statuses.push_back(update);
}
void RecordingEvents::on_media_started(AudioFormat line_format) {
  {
    std::lock_guard lock(mutex);
    media_started = line_format == AudioFormat::mulaw_8k();
  }
  if (when_media_started) when_media_started();
}
void RecordingEvents::on_audio(const AudioFrame& frame) {
  std::lock_guard lock(mutex);
  ++audio_frames;
  audio_bytes += frame.bytes.size();
  audio_timestamps_us.push_back(frame.timestamp_us);
}
void RecordingEvents::on_playback_progress(std::chrono::microseconds played) {
  std::lock_guard lock(mutex);
  playback_us.push_back(played.count());
}
void RecordingEvents::on_dtmf(char digit) {
  std::lock_guard lock(mutex);
  dtmf += digit;
}
void RecordingEvents::on_media_stopped(std::string_view reason) {
  std::lock_guard lock(mutex);
  media_stopped.emplace_back(reason);
}
bool RecordingEvents::has_status(CallStatus status) const {
  std::lock_guard lock(mutex);
  for (const auto& s : statuses)
    if (s.status == status) return true;
  return false;
}
std::optional<CallStatusUpdate> RecordingEvents::final_status() const {
  std::lock_guard lock(mutex);
  if (statuses.empty() || !is_terminal(statuses.back().status)) return std::nullopt;
  return statuses.back();
}
std::int64_t RecordingEvents::last_playback_us() const {
  std::lock_guard lock(mutex);
  return playback_us.empty() ? 0 : playback_us.back();
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

}  // namespace concierge::testing
