#pragma once
// The daemon's media path in one process, as main.cpp assembles it with the Twilio plugin and the echo voice model
// loaded from their .so files, and Twilio's side of a stream over a raw socket: for the allocation test
// (media_path_alloc_test.cpp) and the cache profile (cache_profile.cpp).
#include <functional>
#include <memory>
#include <thread>

#include "call_manager.hpp"
#include "call_store.hpp"
#include "concierge/base64.hpp"
#include "concierge/net/asio.hpp"
#include "http_server.hpp"
#include "plugin_loader.hpp"
#include "twilio_wire.hpp"
#include "ws_frames.hpp"

namespace concierge::bench::in_process {

using namespace concierge;
using namespace concierge::host;
using namespace concierge::net;
namespace bench = concierge::bench;

struct QuietLog : Logger {
  void write(LogLevel, std::string_view) override {}
  bool enabled(LogLevel) const override { return false; }
};

// An agent with no task for inbound calls (as the reservation agent): the host bridges them without one.
struct NoTaskAgent : Agent {
  TaskPlan plan(const TaskRequest&) const override { return {}; }
  std::unique_ptr<AgentSession> open_session(const TaskPlan&) const override {
    throw std::runtime_error("no task for an inbound call");
  }
};

// The hang-up at the end of a call is started and never answered: this test is about the media path, not Twilio.
struct PendingHttp : HttpClient {
  HttpRequestId start(HttpClientRequest, Completion) override { return ++started; }
  void cancel(HttpRequestId) override {}
  std::size_t in_flight() const override { return started; }
  std::size_t started = 0;
};

struct Services : HostServices {
  explicit Services(asio::io_context& io) : io_(io) {}
  asio::io_context& io() override { return io_; }
  void run_blocking(std::function<void()> work) override { asio::post(io_, std::move(work)); }
  HttpClient& http() override { return rest; }
  PendingHttp rest;
  std::string public_domain() const override { return "bench.local"; }
  std::shared_ptr<CallEvents> accept_inbound_call(const InboundCall& call) override {
    return calls ? calls->accept_inbound(call) : nullptr;
  }
  asio::io_context& io_;
  CallManager* calls = nullptr;
};

// The daemon as main.cpp assembles it, with the Twilio plugin and the echo voice model loaded from their .so files.
class Daemon {
 public:
  // `on_loop_thread` runs first on the daemon's thread (the allocation test marks the thread there).
  explicit Daemon(AudioFormat voice_format, bool beep_detection = false, std::size_t max_calls = 10,
                  std::function<void()> on_loop_thread = {})
      : services_(io_) {
    auto log = std::make_shared<QuietLog>();
    // inbound_stream_tokens off as in bench.yaml: the load generator's streams come without TwiML.
    twilio_ = PluginLoader(std::filesystem::path(CONCIERGE_PLUGIN_DIR))
                  .load("twilio", PluginKind::telephony, PluginContext{services_, log, "."},
                        YAML::Load("account_sid: ACbe0c4b0000000000000000000000000b\n"
                                   "auth_token: alloc-test-token\nfrom_number: \"+15550000000\"\n"
                                   "public_domain: bench.local\ninbound_streams: true\ninbound_stream_tokens: false"));
    if (!twilio_.c_abi) throw std::runtime_error("twilio.so is not on the C boundary");
    telephony_ = twilio_.instance.telephony;
    echo_voice_ = PluginLoader(std::filesystem::path(CONCIERGE_PLUGIN_DIR))
                      .load("echo-voice", PluginKind::voice_model, PluginContext{services_, log, "."},
                            YAML::Load("format: " + voice_format.to_string()));
    voice_ = echo_voice_.instance.voice_model;
    CallServices call_services{.io = io_, .telephony = telephony_, .voice_model = voice_, .log = log,
                               .metrics = metrics_, .time_limit = std::chrono::seconds(3600),
                               .ring_timeout = std::chrono::seconds(30), .secrets = {}, .record_changed = {},
                               .finished = {}, .agent_has_line_events = false, .voice_has_line_events = false,
                               .beep_detection_always = beep_detection};
    calls_ = std::make_unique<CallManager>(call_services, std::make_shared<NoTaskAgent>(), make_memory_call_store(),
                                           CallLimits{max_calls, max_calls, true, {}});
    services_.calls = calls_.get();
    HttpServer::Handlers handlers;
    handlers.http = [](const HttpRequest&) { return HttpResponse::json_error(404, "not found"); };
    handlers.check_upgrade = [this](const HttpRequest& request) {
      return telephony_->check_media_stream_upgrade(request);
    };
    handlers.open_websocket = [this](std::shared_ptr<WebSocketPeer> peer) {
      return telephony_->open_media_stream(std::move(peer));
    };
    server_ = std::make_unique<HttpServer>(io_, log, handlers, HttpServerLimits{});
    port_ = server_->listen("127.0.0.1", 0);
    thread_ = std::thread([this, on_loop_thread = std::move(on_loop_thread)] {
      if (on_loop_thread) on_loop_thread();
      io_.run();
    });
  }
  ~Daemon() {
    asio::post(io_, [this] {
      server_->stop();
      calls_->shutdown("test over");
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return port_; }
  const HostMetrics& metrics() const { return metrics_; }

 private:
  asio::io_context io_;
  Services services_;
  HostMetrics metrics_;
  LoadedPlugin twilio_;
  std::shared_ptr<TelephonyProvider> telephony_;
  LoadedPlugin echo_voice_;
  std::shared_ptr<VoiceModel> voice_;
  std::unique_ptr<CallManager> calls_;
  std::unique_ptr<HttpServer> server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

// Twilio's side of one stream, over a raw socket with the load generator's wire code.
class TwilioClient {
 public:
  explicit TwilioClient(std::uint16_t port, int stream = 0) : id_(bench::make_identity(7, stream)) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
    const std::string request =
        "GET /media-stream HTTP/1.1\r\nHost: bench.local\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nX-Twilio-Signature: " +
        bench::twilio_signature("alloc-test-token", "wss://bench.local/media-stream") + "\r\n\r\n";
    asio::write(socket_, asio::buffer(request));
    asio::streambuf response;
    const std::size_t n = asio::read_until(socket_, response, "\r\n\r\n");
    const std::string head(asio::buffers_begin(response.data()), asio::buffers_begin(response.data()) + n);
    if (head.find(" 101 ") == std::string::npos) throw std::runtime_error("upgrade refused: " + head);
    std::string out;
    bench::append_client_frame(out, bench::kWsText, bench::connected_message(), 1);
    bench::append_client_frame(out, bench::kWsText, bench::start_message(id_, {{"from", "+15551230000"}}), 2);
    asio::write(socket_, asio::buffer(out));
  }

  // Sends frame k (with the mark echoes owed) and reads until the daemon has answered with media and a mark.
  // Returns the mu-law bytes that came back.
  std::size_t round_trip(std::uint32_t k) {
    send(k);
    return receive();
  }

  // The two halves, for many streams in lockstep: every stream's frame k sent, then every answer read.
  void send(std::uint32_t k) {
    std::uint8_t frame[bench::kFrameBytes];
    bench::fill_frame(frame, 0, k);
    out_.clear();
    bench::media_message(message_, id_, k + 2, k + 1, k * 20, frame, sizeof frame);
    bench::append_client_frame(out_, bench::kWsText, message_, k);
    if (!mark_.empty()) {
      bench::mark_message(message_, id_, k + 2, mark_);
      bench::append_client_frame(out_, bench::kWsText, message_, ~k);
      mark_.clear();
    }
    asio::write(socket_, asio::buffer(out_));
  }
  std::size_t receive() {
    std::size_t bytes = 0;
    bool media = false, mark = false;
    while (!(media && mark)) {
      bench::WsFrame f;
      if (reader_.next(f) != bench::WsFrameReader::Result::frame) {
        const std::size_t n = socket_.read_some(asio::buffer(reader_.write_position(), reader_.write_room()));
        reader_.wrote(n);
        continue;
      }
      const auto message = bench::scan_server_message(f.payload);
      if (message.kind == bench::ServerMessage::Kind::media) {
        std::uint8_t decoded[4096];
        bytes += base64::decode(message.payload, decoded).value_or(0);
        media = true;
      } else if (message.kind == bench::ServerMessage::Kind::mark) {
        mark_ = std::string(message.mark_name);
        mark = true;
      }
    }
    return bytes;
  }

 private:
  asio::io_context io_;
  tcp::socket socket_{io_};
  bench::StreamIdentity id_;
  bench::WsFrameReader reader_;
  std::string out_, message_, mark_;
};

}  // namespace concierge::bench::in_process
