// The per-frame paths allocate nothing once warm: callee audio out (input_audio_buffer.append) and agent audio in
// (response.output_audio.delta). Counted with a replaced global operator new, through a transport that only records.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "concierge/base64.hpp"
#include "harness.hpp"
#include "realtime_session.hpp"

// GCC sees malloc in the replaced operator new and free in operator delete and warns at every inlined pair.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace concierge::openai {
namespace {

class RecordingTransport final : public RealtimeTransport {
 public:
  void start(TransportListener* listener) override { listener_ = listener; }
  bool send(std::string_view text) override {
    last_.assign(text.data(), text.size());
    ++sent_;
    return true;
  }
  std::size_t queued_messages() const override { return 0; }
  void close() override { listener_ = nullptr; }

  TransportListener* listener_ = nullptr;
  std::string last_;
  long sent_ = 0;
};

class CountingEvents final : public VoiceSessionEvents {
 public:
  void on_ready() override { ++ready; }
  void on_audio(const AudioFrame& frame) override { bytes += frame.bytes.size(); }
  void on_callee_speech_started() override {}
  void on_callee_speech_stopped() override {}
  void on_interruption() override {}
  void on_transcript(Speaker, std::string_view) override {}
  void on_tool_call(const ToolCall&) override {}
  void on_metrics(const VoiceMetrics&) override {}
  void on_error(std::string_view, bool) override { ++errors; }
  int ready = 0;
  std::size_t bytes = 0;
  int errors = 0;
};

TEST(HotPath, NoAllocationPerFrameEitherWay) {
  auto transport = std::make_shared<RecordingTransport>();
  auto events = std::make_shared<CountingEvents>();
  auto config = std::make_shared<RealtimeConfig>();
  config->api_key = "k";
  VoiceSessionConfig session_config;
  session_config.call_id = "alloc";
  auto session = std::make_shared<RealtimeSession>(config, transport, std::make_shared<testing::TestLogger>(),
                                                   session_config, events);
  session->start();
  transport->listener_->on_websocket_open();
  transport->listener_->on_websocket_message(R"({"type":"session.updated","session":{"type":"realtime"}})");
  ASSERT_EQ(events->ready, 1);

  std::vector<std::uint8_t> frame(160, 0x55);
  std::vector<std::uint8_t> reply(2400, 0x33);  // 300 ms of mu-law per delta
  const std::string delta = R"({"type":"response.output_audio.delta","event_id":"event_9","response_id":"resp_1",)"
                            R"("item_id":"item_1","output_index":0,"content_index":0,"delta":")" +
                            base64::encode(reply) + R"("})";
  // Warm up: buffers reach their working size.
  session->send_audio(AudioFrame{AudioFormat::mulaw_8k(), frame, 0});
  transport->listener_->on_websocket_message(delta);

  g_allocations = 0;
  g_counting = true;
  for (int i = 0; i < 500; ++i) {
    session->send_audio(AudioFrame{AudioFormat::mulaw_8k(), frame, 0});
    transport->listener_->on_websocket_message(delta);
  }
  g_counting = false;
  EXPECT_EQ(g_allocations.load(), 0);
  EXPECT_EQ(events->bytes, 501u * 2400u);
  EXPECT_EQ(events->errors, 0);
  EXPECT_EQ(transport->sent_, 1 + 501);  // session.update and the appends
  session->close();
}

}  // namespace
}  // namespace concierge::openai
