#pragma once
// A small host for driving the plugin in tests: an io_context on the test thread, a logger that keeps its lines, and
// VoiceSessionEvents that record everything.
#include <chrono>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "concierge/net/asio.hpp"
#include "concierge/net/websocket_client.hpp"
#include "concierge/openai/websocket.hpp"
#include "asio_event_loop.hpp"
#include "concierge/plugin.hpp"

namespace concierge::openai_live::testing {

class TestLogger final : public Logger {
 public:
  void write(LogLevel level, std::string_view message) override {
    lines.emplace_back(std::string(to_string(level)) + " " + std::string(message));
    if (std::getenv("CONCIERGE_TEST_VERBOSE")) std::cerr << lines.back() << "\n";
  }
  bool enabled(LogLevel) const override { return true; }
  bool contains(std::string_view text) const {
    for (const auto& l : lines)
      if (l.find(text) != std::string::npos) return true;
    return false;
  }
  std::vector<std::string> lines;
};

class TestHost final : public HostServices {
 public:
  boost::asio::io_context& io() override { return io_; }
  void run_blocking(std::function<void()> work) override { work(); }
  std::string public_domain() const override { return ""; }
  std::shared_ptr<CallEvents> accept_inbound_call(const InboundCall&) override { return nullptr; }

  // Runs the loop until `done` or the timeout; returns done().
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      io_.restart();
      io_.run_for(std::chrono::milliseconds(5));
    }
    return true;
  }
  void run_for(std::chrono::milliseconds duration) {
    run_until([] { return false; }, duration);
  }

  // The sessions' WebSocket in these tests: the SDK's own client on this loop, one TLS context per CA file (the
  // plugin itself gets the host's client over the C boundary; plugin_test.cpp drives that one).
  // The sessions' turn timers in these tests: an EventLoop over this io_context (the plugin's is cxx::Host).
  EventLoop& loop() { return loop_; }

  openai_common::WebSocketConnector connector() {
    return [this](net::WebSocketClientOptions options, const std::string& ca_file) {
      std::shared_ptr<boost::asio::ssl::context> tls;
      if (options.tls) {
        auto& cached = tls_[ca_file];
        if (!cached) cached = net::make_tls_client_context(ca_file);
        tls = cached;
      }
      return net::WebSocketClient::create(io_, tls, std::move(options));
    };
  }

 private:
  boost::asio::io_context io_;
  concierge::testing::AsioEventLoop loop_{io_};
  std::map<std::string, std::shared_ptr<boost::asio::ssl::context>> tls_;
};

class RecordingEvents final : public VoiceSessionEvents {
 public:
  void on_ready() override { ++ready; }
  void on_audio(const AudioFrame& frame) override {
    audio.insert(audio.end(), frame.bytes.begin(), frame.bytes.end());
    formats.push_back(frame.format);
    ++frames;
  }
  void on_callee_speech_started() override { ++speech_started; }
  void on_callee_speech_stopped() override { ++speech_stopped; }
  void on_interruption() override {
    ++interruptions;
    audio_at_interruption = audio.size();
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
  std::vector<std::pair<Speaker, std::string>> transcripts;
  std::vector<ToolCall> tool_calls;
  std::vector<VoiceMetrics> metrics;
  std::vector<std::pair<std::string, bool>> errors;
  std::function<void(const ToolCall&)> answer_tool;
  std::function<void()> on_fatal;  // e.g. drop the session from inside the callback, as a host may
};

}  // namespace concierge::openai_live::testing
