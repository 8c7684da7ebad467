// The per-frame paths allocate nothing once warm: callee audio out (session.input_audio.append) and agent audio in
// (session.output_audio.delta). Counted with a replaced global operator new, on the thread that counts (a fake server
// on its own thread may allocate): through a transport that only records, and through the SDK's real WebSocket client
// to the fake GPT-Live server in echo mode over loopback, plain and TLS.
#include <gtest/gtest.h>

#include "concierge/base64.hpp"
#include "concierge_fakes/fake_live_server.hpp"
#include "counting_operator_new.hpp"
#include "live_model.hpp"
#include "live_session.hpp"
#include "loaded_voice_model.hpp"

namespace concierge::openai_live {
namespace {

using concierge::testing::CountingVoiceEvents;
namespace counting_new = concierge::testing::counting_new;
const concierge::testing::AllocationCounter kCounter{counting_new::count, counting_new::counted};

void run(AudioFormat line, const char* audio_format, std::size_t frame_bytes, std::size_t delta_bytes) {
  boost::asio::io_context io;
  concierge::testing::AsioEventLoop loop(io);
  auto transport = std::make_shared<concierge::testing::RecordingWebSocket>();
  auto events = std::make_shared<CountingVoiceEvents>();
  auto config = std::make_shared<LiveConfig>(parse_live_config(
      ConfigNode(YAML::Load(std::string("api_key: k\naudio_format: ") + audio_format + "\n"), "c"), ""));
  VoiceSessionConfig session_config;
  session_config.call_id = "alloc";
  session_config.line_format = line;
  auto session = std::make_shared<LiveSession>(loop, config, transport,
                                               std::make_shared<concierge::testing::RecordingLogger>(), session_config,
                                               events);
  session->start();
  transport->listener()->on_websocket_open();
  transport->listener()->on_websocket_message(R"({"type":"session.started","event_id":"e1","session":{"id":"s"}})");
  ASSERT_EQ(events->ready, 1);
  const AudioFormat format = session->input_format();

  std::vector<std::uint8_t> frame(frame_bytes, 0x55);
  std::vector<std::uint8_t> reply(delta_bytes, 0x33);
  const std::string delta = R"({"type":"session.output_audio.delta","delta":")" + base64::encode(reply) + R"("})";
  session->send_audio(AudioFrame{format, frame, 0});  // warm up: buffers reach their working size
  transport->listener()->on_websocket_message(delta);

  counting_new::count(true);
  for (int i = 0; i < 500; ++i) {
    session->send_audio(AudioFrame{format, frame, 0});
    transport->listener()->on_websocket_message(delta);
  }
  counting_new::count(false);
  EXPECT_EQ(counting_new::counted(), 0) << audio_format;
  EXPECT_EQ(events->bytes, 501u * delta_bytes);
  EXPECT_EQ(events->errors, 0);
  EXPECT_EQ(transport->sent, 1 + 501);  // session.start and the appends
  session->close();
}

// The whole round trip as the daemon runs it, on one io_context run() (Asio recycles operation memory per thread
// while it runs): a 20 ms frame goes out through the SDK's client to the fake, which echoes it at once as a delta,
// read by the client and handed to the host; the next frame goes when the echo is back. 100 round trips warm up, 1,000
// are counted. Over TLS, OpenSSL 3.0's record writer mallocs inside SSL_write (sdk/tests/allocation_test.cpp counts
// that apart); operator new, which this test counts, is never called.
void round_trips_through_the_client(bool tls) {
  fakes::live::FakeLiveOptions options;
  options.script.echo_audio = true;
  if (tls) options.tls = fakes::make_test_pki({"localhost"}, {"127.0.0.1"});
  fakes::live::FakeLiveServer fake(options);
  concierge::testing::WebSocketTestHost host;
  LiveConfig config;
  config.api_key = "sk-test-key";
  config.url = fake.url();
  if (tls) config.ca_file = fakes::write_temp_file("live-alloc-ca.pem", options.tls->ca_pem);
  LiveModel model(host.loop(), host.connector(), std::make_shared<concierge::testing::RecordingLogger>(), config);
  concierge::testing::expect_no_allocation_per_echo_round_trip(host, model, kCounter, tls ? "wss" : "ws");
}

TEST(HotPath, NoAllocationPerRoundTripThroughTheClientPlain) { round_trips_through_the_client(false); }
TEST(HotPath, NoAllocationPerRoundTripThroughTheClientTls) { round_trips_through_the_client(true); }

// The same round trips through the built plugin as the daemon runs it: loaded by the daemon's loader, on the C
// boundary (host adapter -> C table -> the plugin's session -> the C++ layer's client -> ws_client_send -> the host's
// client, and back through the listener table and voice_audio). The plugin's operator new is this binary's.
void round_trips_through_the_loaded_plugin(bool tls) {
  fakes::live::FakeLiveOptions options;
  options.script.echo_audio = true;
  if (tls) options.tls = fakes::make_test_pki({"localhost"}, {"127.0.0.1"});
  fakes::live::FakeLiveServer fake(options);
  concierge::testing::expect_no_allocation_per_echo_round_trip_through_the_loaded_plugin(
      "openai-live", fake.url(), tls ? fakes::write_temp_file("live-alloc-c-ca.pem", options.tls->ca_pem) : "",
      kCounter);
}

TEST(HotPath, NoAllocationPerRoundTripThroughTheLoadedPluginPlain) { round_trips_through_the_loaded_plugin(false); }
TEST(HotPath, NoAllocationPerRoundTripThroughTheLoadedPluginTls) { round_trips_through_the_loaded_plugin(true); }

TEST(HotPath, NoAllocationPerFrameOnAMuLawLine) { run(AudioFormat::mulaw_8k(), "auto", 160, 2400); }
TEST(HotPath, NoAllocationPerFrameAtPcm24k) { run(AudioFormat::mulaw_8k(), "pcm24k", 960, 14400); }

}  // namespace
}  // namespace concierge::openai_live
