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

#include "in_process_daemon.hpp"

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
using namespace concierge::bench::in_process;

void expect_no_allocations(AudioFormat voice_format, bool beep_detection = false) {
  Daemon daemon(voice_format, beep_detection, 10, [] { on_server_thread = true; });
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
