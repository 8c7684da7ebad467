// The daemon's whole per-frame media path allocates nothing in steady state. This is the real code, in process:
// the daemon's HTTP/WebSocket server on a loopback socket, the Twilio plugin's media-stream handler, the call
// manager and CallBridge, the echo voice model, and back out through CallBridge, the Twilio plugin and the server's
// write. Both plugins are their .so files as the daemon loads them, through the C boundary (the host's adapters,
// the SDK's C++ layer and the plugin): twilio.so's media stream arrives through the host's concierge_ws_peer and its
// frames through concierge_call_events, echo-voice.so's through the voice tables. A client thread plays Twilio (connected, start, then media frames and the marks Twilio would echo), one
// frame at a time in lockstep, while this binary counts every malloc/calloc/realloc/operator new made on the
// server's thread (the replacements below interpose on glibc's for every library, libsoxr's C allocations too).
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <new>
#include <thread>

#include "call_manager.hpp"
#include "call_store.hpp"
#include "concierge/base64.hpp"
#include "concierge/net/asio.hpp"
#include "http_server.hpp"
#include "plugin_loader.hpp"
#include "twilio_wire.hpp"
#include "ws_frames.hpp"

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void __libc_free(void*);
}

namespace {
thread_local bool on_server_thread = false;  // plain static TLS: reading it allocates nothing
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
inline void note_allocation() {
  if (on_server_thread && counting.load(std::memory_order_relaxed))
    allocations.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

extern "C" void* malloc(std::size_t size) {
  note_allocation();
  return __libc_malloc(size);
}
extern "C" void* calloc(std::size_t count, std::size_t size) {
  note_allocation();
  return __libc_calloc(count, size);
}
extern "C" void* realloc(void* pointer, std::size_t size) {
  note_allocation();
  return __libc_realloc(pointer, size);
}
extern "C" void free(void* pointer) { __libc_free(pointer); }
void* operator new(std::size_t size) {
  note_allocation();
  if (void* p = __libc_malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* pointer) noexcept { __libc_free(pointer); }
void operator delete[](void* pointer) noexcept { __libc_free(pointer); }
void operator delete(void* pointer, std::size_t) noexcept { __libc_free(pointer); }
void operator delete[](void* pointer, std::size_t) noexcept { __libc_free(pointer); }

namespace {

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
  explicit Daemon(AudioFormat voice_format, bool beep_detection = false) : services_(io_) {
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
                                           CallLimits{10, 10, true, {}});
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
    thread_ = std::thread([this] {
      on_server_thread = true;
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
  explicit TwilioClient(std::uint16_t port) {
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
  bench::StreamIdentity id_ = bench::make_identity(7, 0);
  bench::WsFrameReader reader_;
  std::string out_, message_, mark_;
};

void expect_no_allocations(AudioFormat voice_format, bool beep_detection = false) {
  Daemon daemon(voice_format, beep_detection);
  TwilioClient twilio(daemon.port());
  // Warm-up: the call is accepted and bridged, buffers reach their working size, the resampler fills its filter.
  std::size_t warm = 0;
  for (std::uint32_t k = 0; k < 50; ++k) warm += twilio.round_trip(k);
  EXPECT_GT(warm, 40u * bench::kFrameBytes);

  // The counter sees the server thread's allocations (a posted one, here).
  allocations = 0;
  counting = true;
  std::thread([] {}).join();  // not the server thread: not counted
  EXPECT_EQ(allocations.load(), 0);
  counting = false;

  allocations = 0;
  counting = true;
  std::size_t returned = 0;
  constexpr std::uint32_t kFrames = 500;
  for (std::uint32_t k = 50; k < 50 + kFrames; ++k) returned += twilio.round_trip(k);
  counting = false;
  EXPECT_EQ(allocations.load(), 0) << "allocations on the daemon's thread over " << kFrames << " frames";
  // Every frame went all the way round (a resampler releases a frame's audio give or take a few samples).
  EXPECT_NEAR(double(returned), double(kFrames * bench::kFrameBytes), 2.0 * bench::kFrameBytes);
  EXPECT_GE(daemon.metrics().frames_to_line, 50u + kFrames - 2);
}

TEST(MediaPathAllocations, PassThroughAllocatesNothingPerFrame) { expect_no_allocations(AudioFormat::mulaw_8k()); }

TEST(MediaPathAllocations, ResamplingAllocatesNothingPerFrame) { expect_no_allocations(AudioFormat::pcm16_at(24000)); }

// The host's beep detector on the callee's audio (calls.beep_detection: always) adds nothing per frame either.
TEST(MediaPathAllocations, TheBeepDetectorAllocatesNothingPerFrame) {
  expect_no_allocations(AudioFormat::mulaw_8k(), true);
}

#ifdef CONCIERGE_TEST_PLUGIN_DIR
// The C telephony boundary's per-frame path, both ways: agent audio through the host's leg adapter into a plugin's
// leg_send_audio, and that plugin's callee audio and playback reports back through the host's concierge_call_events
// (host/tests' telephony fixtures hand each frame straight back). Nothing is allocated per frame.
struct CountingCallEvents final : CallEvents {
  void on_provider_call_id(std::string_view) override {}
  void on_status(const CallStatusUpdate&) override {}
  void on_media_started(AudioFormat) override { media = true; }
  void on_audio(const AudioFrame& frame) override { bytes += frame.bytes.size(); }
  void on_playback_progress(std::chrono::microseconds) override { ++progress; }
  void on_dtmf(char) override {}
  void on_media_stopped(std::string_view) override {}
  void on_simulated_callee_text(std::string_view) override {}
  bool media = false;
  std::size_t bytes = 0, progress = 0;
};

void expect_no_allocations_through(const std::string& telephony_plugin) {
  asio::io_context io;
  Services services(io);
  auto log = std::make_shared<QuietLog>();
  auto plugin = PluginLoader(std::filesystem::path(CONCIERGE_TEST_PLUGIN_DIR))
                    .load(telephony_plugin, PluginKind::telephony, PluginContext{services, log, "."},
                          YAML::Load("{}"));
  auto events = std::make_shared<CountingCallEvents>();
  auto leg = plugin.instance.telephony->place_call({"call_1", "+1555000001", "Fixture", std::chrono::seconds(30)},
                                                    events);
  ASSERT_TRUE(leg);
  for (int i = 0; i < 100 && !events->media; ++i) io.run_one_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(events->media);
  std::array<std::uint8_t, 160> bytes{};
  bytes.fill(0x7f);
  constexpr std::uint64_t kFrames = 500;
  allocations = 0;
  on_server_thread = true;
  counting = true;
  for (std::uint64_t k = 0; k < kFrames; ++k) leg->send_audio(AudioFrame{AudioFormat::mulaw_8k(), bytes, k * 20000});
  counting = false;
  on_server_thread = false;
  EXPECT_EQ(allocations.load(), 0) << "allocations over " << kFrames << " frames each way";
  EXPECT_EQ(events->bytes, kFrames * bytes.size());
  EXPECT_EQ(events->progress, kFrames);
}

TEST(MediaPathAllocations, TheCTelephonyBoundaryAllocatesNothingPerFrame) {
  expect_no_allocations_through("fixture-c-telephony");
}

// The same through the SDK's C++ layer (fixture-cxx-telephony: CallLeg, CallEvents over the host's handle).
TEST(MediaPathAllocations, TheCxxLayersTelephonyAllocatesNothingPerFrame) {
  expect_no_allocations_through("fixture-cxx-telephony");
}

// A plugin that paces its audio with a timer (a simulator, a text-to-speech voice) re-arms it every frame: through
// LoopTimer's handler, the C++ layer's recycled slots and the host's recycled C timers, a wake-up allocates nothing.
// fixture-cxx-telephony's +1555000004 sends a frame and re-arms a LoopTimer every 100 us of wall time.
TEST(MediaPathAllocations, ATimerRearmedEveryFrameOnTheCxxLayerAllocatesNothing) {
  asio::io_context io;
  Services services(io);
  auto log = std::make_shared<QuietLog>();
  auto plugin = PluginLoader(std::filesystem::path(CONCIERGE_TEST_PLUGIN_DIR))
                    .load("fixture-cxx-telephony", PluginKind::telephony, PluginContext{services, log, "."},
                          YAML::Load("{}"));
  auto events = std::make_shared<CountingCallEvents>();
  auto leg = plugin.instance.telephony->place_call({"call_1", "+1555000004", "Fixture", std::chrono::seconds(30)},
                                                    events);
  ASSERT_TRUE(leg);
  const auto frames = [&] { return events->bytes / 160; };
  const auto run_until = [&](std::size_t wanted) {  // generous: a slow machine only takes longer
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (frames() < wanted && std::chrono::steady_clock::now() < deadline) io.run_one_for(std::chrono::milliseconds(50));
  };
  run_until(20);  // the pools (the layer's slots, the host's timers, Asio's handler memory) reach their size
  ASSERT_GE(frames(), 20u);
  constexpr std::size_t kWakes = 500;
  const std::size_t before = frames();
  allocations = 0;
  on_server_thread = true;
  counting = true;
  run_until(before + kWakes);
  counting = false;
  on_server_thread = false;
  ASSERT_GE(frames(), before + kWakes);
  EXPECT_EQ(allocations.load(), 0) << "allocations over " << frames() - before << " timer wake-ups";
  leg->hang_up();
}
#endif

// The counter is live on the server thread: a post that allocates is seen.
TEST(MediaPathAllocations, CounterSeesTheServerThread) {
  asio::io_context io;
  allocations = 0;
  std::thread server([&] {
    on_server_thread = true;
    counting = true;
    auto p = std::make_unique<std::string>(100, 'x');
    counting = false;
  });
  server.join();
  EXPECT_GE(allocations.load(), 1);
}

}  // namespace
