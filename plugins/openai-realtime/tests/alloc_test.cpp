// The per-frame paths allocate nothing once warm: callee audio out (input_audio_buffer.append) and agent audio in
// (response.output_audio.delta). Counted with a replaced global operator new, on the thread that counts (a fake server
// on its own thread may allocate): through a transport that only records, through the SDK's real WebSocket client
// to the fake Realtime server in echo mode over loopback, plain and TLS, and through the built plugin as the daemon
// runs it: loaded by the daemon's loader, on the C boundary, its WebSocket the host's client (the plugin's own
// operator new is this binary's, so its allocations are counted too).
#include <gtest/gtest.h>

#include "concierge/base64.hpp"
#include "concierge_fakes/fake_openai_server.hpp"
#include "counting_operator_new.hpp"
#include "loaded_voice_model.hpp"
#include "realtime_model.hpp"
#include "realtime_session.hpp"

namespace concierge::openai {
namespace {

using concierge::testing::CountingVoiceEvents;
namespace counting_new = concierge::testing::counting_new;
const concierge::testing::AllocationCounter kCounter{counting_new::count, counting_new::counted};

TEST(HotPath, NoAllocationPerFrameEitherWay) {
  auto transport = std::make_shared<concierge::testing::RecordingWebSocket>();
  auto events = std::make_shared<CountingVoiceEvents>();
  auto config = std::make_shared<RealtimeConfig>();
  config->api_key = "k";
  VoiceSessionConfig session_config;
  session_config.call_id = "alloc";
  auto session = std::make_shared<RealtimeSession>(
      config, transport, std::make_shared<concierge::testing::RecordingLogger>(), session_config, events);
  session->start();
  transport->listener()->on_websocket_open();
  transport->listener()->on_websocket_message(R"({"type":"session.updated","session":{"type":"realtime"}})");
  ASSERT_EQ(events->ready, 1);

  std::vector<std::uint8_t> frame(160, 0x55);
  std::vector<std::uint8_t> reply(2400, 0x33);  // 300 ms of mu-law per delta
  const std::string delta = R"({"type":"response.output_audio.delta","event_id":"event_9","response_id":"resp_1",)"
                            R"("item_id":"item_1","output_index":0,"content_index":0,"delta":")" +
                            base64::encode(reply) + R"("})";
  // Warm up: buffers reach their working size.
  session->send_audio(AudioFrame{AudioFormat::mulaw_8k(), frame, 0});
  transport->listener()->on_websocket_message(delta);

  counting_new::count(true);
  for (int i = 0; i < 500; ++i) {
    session->send_audio(AudioFrame{AudioFormat::mulaw_8k(), frame, 0});
    transport->listener()->on_websocket_message(delta);
  }
  counting_new::count(false);
  EXPECT_EQ(counting_new::counted(), 0);
  EXPECT_EQ(events->bytes, 501u * 2400u);
  EXPECT_EQ(events->errors, 0);
  EXPECT_EQ(transport->sent, 1 + 501);  // session.update and the appends
  session->close();
}

// The whole round trip as the daemon runs it, on one io_context run() (Asio recycles operation memory per thread
// while it runs): a 20 ms frame goes out through the SDK's client to the fake, which echoes it at once as a delta of
// its open response, read by the client and handed to the host; the next frame goes when the echo is back. 100 round
// trips warm up, 1,000 are counted. Over TLS, OpenSSL 3.0's record writer mallocs inside SSL_write
// (sdk/tests/allocation_test.cpp counts that apart); operator new, which this test counts, is never called.
void realtime_round_trips_through_the_client(bool tls) {
  fakes::FakeOpenAIOptions options;
  options.script.echo_audio = true;
  if (tls) options.tls = fakes::make_test_pki({"localhost"}, {"127.0.0.1"});
  fakes::FakeOpenAIServer fake(options);
  concierge::testing::WebSocketTestHost host;
  RealtimeConfig config;
  config.api_key = "sk-test-key";
  config.url = fake.url();
  if (tls) config.ca_file = fakes::write_temp_file("realtime-alloc-ca.pem", options.tls->ca_pem);
  RealtimeModel model(host.connector(), std::make_shared<concierge::testing::RecordingLogger>(), config);
  concierge::testing::expect_no_allocation_per_echo_round_trip(host, model, kCounter, tls ? "wss" : "ws");
}

TEST(HotPath, NoAllocationPerRoundTripThroughTheClientPlain) { realtime_round_trips_through_the_client(false); }
TEST(HotPath, NoAllocationPerRoundTripThroughTheClientTls) { realtime_round_trips_through_the_client(true); }

// The same round trips through the loaded plugin: host adapter -> C table -> the plugin's session -> the C++ layer's
// client -> ws_client_send -> the host's client, and back through the listener table and voice_audio.
void realtime_round_trips_through_the_loaded_plugin(bool tls) {
  fakes::FakeOpenAIOptions options;
  options.script.echo_audio = true;
  if (tls) options.tls = fakes::make_test_pki({"localhost"}, {"127.0.0.1"});
  fakes::FakeOpenAIServer fake(options);
  concierge::testing::expect_no_allocation_per_echo_round_trip_through_the_loaded_plugin(
      "openai-realtime", fake.url(), tls ? fakes::write_temp_file("realtime-alloc-c-ca.pem", options.tls->ca_pem) : "",
      kCounter);
}

TEST(HotPath, NoAllocationPerRoundTripThroughTheLoadedPluginPlain) {
  realtime_round_trips_through_the_loaded_plugin(false);
}
TEST(HotPath, NoAllocationPerRoundTripThroughTheLoadedPluginTls) {
  realtime_round_trips_through_the_loaded_plugin(true);
}

}  // namespace
}  // namespace concierge::openai
