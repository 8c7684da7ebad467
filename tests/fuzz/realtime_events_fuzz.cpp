// The Realtime API's server events (plugins/openai-realtime): one session, configured as for a booking, fed the
// input as a sequence of WebSocket messages (split at newlines) through a transport that keeps what the session
// sends. The session must never crash, whatever the server says or in what order; text it hands the host must be
// valid UTF-8 whenever the server's was.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "concierge/text.hpp"
#include "realtime_session.hpp"

namespace {
using namespace concierge;
using namespace concierge::openai;

class MemoryTransport final : public RealtimeTransport {
 public:
  void start(TransportListener* listener) override { listener_ = listener; }
  bool send(std::string_view text) override {
    sent_bytes += text.size();
    return open;
  }
  std::size_t queued_messages() const override { return 0; }
  void close() override {
    listener_ = nullptr;
    open = false;
  }
  TransportListener* listener() const { return listener_; }
  bool open = true;
  std::size_t sent_bytes = 0;

 private:
  TransportListener* listener_ = nullptr;
};

class QuietLogger final : public Logger {
 public:
  void write(LogLevel, std::string_view) override {}
  bool enabled(LogLevel) const override { return true; }
};

class CheckingEvents final : public VoiceSessionEvents {
 public:
  void on_ready() override {}
  void on_audio(const AudioFrame& frame) override {
    if (frame.bytes.size() > (1u << 24)) std::abort();
  }
  void on_callee_speech_started() override {}
  void on_callee_speech_stopped() override {}
  void on_interruption() override {}
  void on_transcript(Speaker, std::string_view text) override { (void)to_valid_utf8(text); }
  void on_tool_call(const ToolCall& call) override { (void)call.arguments.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }
  void on_metrics(const VoiceMetrics&) override {}
  void on_error(std::string_view message, bool) override { (void)to_valid_utf8(message); }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto config = std::make_shared<RealtimeConfig>();
  config->api_key = "sk-fuzz";
  auto transport = std::make_shared<MemoryTransport>();
  VoiceSessionConfig session_config;
  session_config.call_id = "call-fuzz";
  session_config.instructions = "Book a table.";
  session_config.tools = {ToolDefinition{"end_call", "End the call", {{"type", "object"}}}};
  auto events = std::make_shared<CheckingEvents>();
  auto session = std::make_shared<RealtimeSession>(config, transport, std::make_shared<QuietLogger>(),
                                                   session_config, events);
  session->start();
  if (auto* listener = transport->listener()) listener->on_websocket_open();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  while (transport->listener()) {
    const auto newline = input.find('\n');
    const std::string_view message = input.substr(0, newline);
    transport->listener()->on_websocket_message(message);
    if (newline == std::string_view::npos) break;
    input.remove_prefix(newline + 1);
  }
  session->close();
  return 0;
}
