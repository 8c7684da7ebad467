#pragma once
// For the tests of a voice-model plugin that talks to its service over a (TLS) WebSocket (openai-realtime,
// openai-live): a TestHost whose connector is the SDK's own client on the test's loop, VoiceSessionEvents that record
// everything the session hands the host (or only count it, for the allocation tests), the echo round trips through a
// model counted for allocations, and a server that accepts TCP and never answers. Header-only; everything runs on the
// test's thread. The plugin-specific parts (the fake server, the protocol's events) stay in each plugin's tests.
#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "concierge/audio_frame.hpp"
#include "concierge/net/asio.hpp"
#include "concierge/net/websocket_client.hpp"
#include "concierge/plugin.hpp"
#include "echo_round_trips.hpp"
#include "recording_logger.hpp"
#include "test_host.hpp"

namespace concierge::testing {

// A TestHost that also makes the sessions' WebSockets: the SDK's own client on this loop, one TLS context per CA file
// (a loaded plugin gets the host's client over the C boundary instead). connector() converts to the plugins'
// openai_common::WebSocketConnector.
class WebSocketTestHost final : public TestHost {
 public:
  std::shared_ptr<net::WebSocketClient> open_websocket(net::WebSocketClientOptions options,
                                                       const std::string& ca_file) {
    std::shared_ptr<boost::asio::ssl::context> tls;
    if (options.tls) {
      auto& cached = tls_[ca_file];
      if (!cached) cached = net::make_tls_client_context(ca_file);
      tls = cached;
    }
    return net::WebSocketClient::create(io(), tls, std::move(options));
  }
  auto connector() {
    return [this](net::WebSocketClientOptions options, const std::string& ca_file) {
      return open_websocket(std::move(options), ca_file);
    };
  }

 private:
  std::map<std::string, std::shared_ptr<boost::asio::ssl::context>> tls_;
};

// Everything a session hands the host, kept for the test to check.
class RecordingVoiceEvents final : public VoiceSessionEvents {
 public:
  void on_ready() override { ++ready; }
  void on_audio(const AudioFrame& frame) override {
    if (audio.empty()) first_audio_at = std::chrono::steady_clock::now();
    audio.insert(audio.end(), frame.bytes.begin(), frame.bytes.end());
    formats.push_back(frame.format);
    ++frames;
  }
  void on_callee_speech_started() override { ++speech_started; }
  void on_callee_speech_stopped() override { ++speech_stopped; }
  void on_interruption() override {
    ++interruptions;
    audio_at_interruption = audio.size();
    interrupted_at = std::chrono::steady_clock::now();
  }
  // How long the line had been playing the session's audio when it was interrupted, by this thread's clock: what a
  // truncate may say was heard at most (and, with no playback reports, about what it says).
  long heard_before_interruption_ms() const {
    return long(std::chrono::duration_cast<std::chrono::milliseconds>(interrupted_at - first_audio_at).count());
  }
  void on_transcript(Speaker speaker, std::string_view text) override { transcripts.emplace_back(speaker, text); }
  void on_tool_call(const ToolCall& call) override {
    tool_calls.push_back(call);
    if (answer_tool) answer_tool(call);
  }
  void on_metrics(const VoiceMetrics& m) override { metrics.push_back(m); }
  void on_error(std::string_view message, bool fatal) override {
    errors.emplace_back(std::string(message), fatal);
    if (fatal && on_fatal) on_fatal();
  }

  bool has_fatal_error() const {
    for (const auto& e : errors)
      if (e.second) return true;
    return false;
  }
  std::string all_errors() const {
    std::string out;
    for (const auto& e : errors) out += (e.second ? "[fatal] " : "[non-fatal] ") + e.first + "\n";
    return out;
  }

  int ready = 0;
  std::vector<std::uint8_t> audio;
  std::vector<AudioFormat> formats;
  int frames = 0;
  int speech_started = 0;
  int speech_stopped = 0;
  int interruptions = 0;
  std::size_t audio_at_interruption = 0;
  std::chrono::steady_clock::time_point first_audio_at{}, interrupted_at{};
  std::vector<std::pair<Speaker, std::string>> transcripts;
  std::vector<ToolCall> tool_calls;
  std::vector<VoiceMetrics> metrics;
  std::vector<std::pair<std::string, bool>> errors;
  std::function<void(const ToolCall&)> answer_tool;
  std::function<void()> on_fatal;  // e.g. drop the session from inside the callback, as a host may
};

// A WebSocket that goes nowhere, for driving a session's protocol directly: the test plays the service through
// listener() (on_websocket_open, on_websocket_message); the session's messages are counted and the last one kept
// (assigned into the same string, so no allocation per message once warm: usable in the allocation tests).
class RecordingWebSocket final : public net::WebSocketClient {
 public:
  void start(net::WebSocketListener* listener) override { listener_ = listener; }
  bool send(std::string_view text) override {
    last.assign(text.data(), text.size());
    ++sent;
    return true;
  }
  std::size_t queued_messages() const override { return 0; }
  void close() override { listener_ = nullptr; }
  // The session, once started and until it closes the socket; nullptr otherwise.
  net::WebSocketListener* listener() const { return listener_; }

  std::string last;
  long sent = 0;

 private:
  net::WebSocketListener* listener_ = nullptr;
};

// What a voice model's session tests hold (the host, a logger, the recorded events, the model and its one session),
// and the waits on them. Destroyed session first, then the model, the events, the logger and the host.
class VoiceSessionTest : public ::testing::Test {
 protected:
  // An OpenAI-style config for the (fake's) `url`: the test key and a 5 s connect timeout.
  template <class Config>
  static Config openai_config_for(const std::string& url) {
    Config c;
    c.api_key = "sk-test-key";
    c.url = url;
    c.connect_timeout = std::chrono::seconds(5);
    return c;
  }
  bool wait_ready() { return host.run_until([&] { return events->ready > 0 || !events->errors.empty(); }); }
  // `count` frames of 20 ms callee audio in the session's input format.
  void send_callee_frames(int count) {
    const AudioFormat f = session->input_format();
    const std::vector<std::uint8_t> bytes(samples_per_frame(f.sample_rate) * f.bytes_per_sample(), 0x7f);
    for (int i = 0; i < count; ++i) session->send_audio(AudioFrame{f, bytes, 0});
  }

  WebSocketTestHost host;
  std::shared_ptr<RecordingLogger> log = std::make_shared<RecordingLogger>();
  std::shared_ptr<RecordingVoiceEvents> events = std::make_shared<RecordingVoiceEvents>();
  std::shared_ptr<VoiceModel> model;
  std::shared_ptr<VoiceSession> session;
};

// Only counts, allocating nothing itself: for the allocation tests.
class CountingVoiceEvents final : public VoiceSessionEvents {
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

// The test binary's allocation counter (its replaced operator new): `count(on)` switches it on (from zero) and off,
// `counted()` reads it.
struct AllocationCounter {
  std::function<void(bool)> count;
  std::function<long()> counted;
};

// A session of `model` on a mu-law line against a fake that echoes each appended frame at once as agent audio: the
// echo round trips (EchoRoundTrips: 100 warm up, 1,000 counted) all from one io_context run, as the daemon runs its
// loop, and not one operator new on this thread while counted. `what` names the case in a failure. The model is the
// core over host.connector(), or a loaded plugin's instance (its operator new is this binary's, so it is counted too).
inline void expect_no_allocation_per_echo_round_trip(TestHost& host, VoiceModel& model,
                                                     const AllocationCounter& counter, const std::string& what) {
  auto events = std::make_shared<CountingVoiceEvents>();
  VoiceSessionConfig session_config;
  session_config.call_id = "alloc-" + what;
  session_config.line_format = AudioFormat::mulaw_8k();
  auto session = model.open_session(session_config, events);
  ASSERT_NE(session, nullptr);
  ASSERT_TRUE(host.run_until([&] { return events->ready > 0 || events->errors > 0; }));
  ASSERT_EQ(events->errors, 0);

  const std::vector<std::uint8_t> frame(160, 0x55);
  const EchoRoundTrips plan;
  const bool done = pump_echo_round_trips(
      host.io(), plan, frame.size(), [&] { session->send_audio(AudioFrame{AudioFormat::mulaw_8k(), frame, 0}); },
      [&] { return events->bytes; }, [&] { return events->errors > 0; }, counter.count);
  const long counted = counter.counted();
  ASSERT_TRUE(done) << what << ": the round trips did not finish in time";
  EXPECT_EQ(counted, 0) << what;
  EXPECT_EQ(events->errors, 0) << what;
  EXPECT_EQ(events->bytes, std::size_t(plan.warm_up + plan.counted) * frame.size()) << what;
  session->close();
  session.reset();
  host.run_for(std::chrono::milliseconds(20));  // the closed socket's last handlers
}

// Listens on loopback and never accepts: the kernel's backlog completes the TCP handshake, and then nothing answers
// (a service that hangs before the WebSocket upgrade). Its own io_context is never run.
class SilentServer {
 public:
  SilentServer() : acceptor_(io_, net::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {}
  std::string ws_url(const std::string& path) const {
    return "ws://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
  }

 private:
  boost::asio::io_context io_;
  net::tcp::acceptor acceptor_;
};

}  // namespace concierge::testing
