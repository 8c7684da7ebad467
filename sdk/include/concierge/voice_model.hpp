#pragma once
// A voice model holds the real-time conversation of one call: it hears the callee, speaks for the agent, transcribes
// both, calls the agent's tools and notices when the callee interrupts. One VoiceModel per daemon, one VoiceSession
// per call. Every function here is called on the host's event loop and must return quickly.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "concierge/audio_frame.hpp"
#include "concierge/call.hpp"
#include "concierge/line_event.hpp"

namespace concierge {

struct VoiceSessionConfig {
  std::string call_id;
  std::string instructions;            // the agent's prompt for this call
  std::vector<ToolDefinition> tools;   // the agent's tools
  nlohmann::json task = nlohmann::json::object();  // the task in structured form, for models that don't read prose
  AudioFormat line_format = AudioFormat::mulaw_8k();  // what the telephony side carries
};

struct VoiceMetrics {
  // From the end of the callee's speech (server VAD) to the first audio of the reply, as the model saw it.
  std::optional<std::chrono::microseconds> response_latency;
  std::uint64_t input_tokens = 0;   // for one response (OpenAI's response.done usage)
  std::uint64_t output_tokens = 0;
  // Audio the model counted since its previous report, in seconds: GPT-Live bills audio seconds, not tokens
  // (session.usage.updated is cumulative; the plugin reports each increase). 0 for models that count tokens.
  double audio_seconds = 0;
};

class VoiceSessionEvents {
 public:
  virtual ~VoiceSessionEvents();
  virtual void on_ready() = 0;                              // the session is configured; audio may flow
  virtual void on_audio(const AudioFrame& frame) = 0;       // agent speech, in the session's output_format()
  virtual void on_callee_speech_started() = 0;              // VAD: the callee began to speak
  virtual void on_callee_speech_stopped() = 0;              // VAD: the callee stopped
  virtual void on_interruption() = 0;                       // barge-in: drop agent audio the callee has not heard
  virtual void on_transcript(Speaker speaker, std::string_view text) = 0;  // one finished utterance
  virtual void on_tool_call(const ToolCall& call) = 0;      // answer with VoiceSession::send_tool_result
  virtual void on_metrics(const VoiceMetrics& metrics) = 0;
  virtual void on_error(std::string_view message, bool fatal) = 0;  // fatal: the session is over
};

class VoiceSession {
 public:
  virtual ~VoiceSession();
  virtual AudioFormat input_format() const = 0;   // the callee audio it wants
  virtual AudioFormat output_format() const = 0;  // the agent audio it produces
  virtual void send_audio(const AudioFrame& frame) = 0;  // callee audio, in input_format()
  virtual void send_tool_result(const ToolCall& call, const ToolResult& result) = 0;
  // How much agent audio the callee has heard, from the line's start (see CallEvents::on_playback_progress).
  virtual void on_playback_progress(std::chrono::microseconds played) = 0;
  // Simulation side-channel: the text of the callee's last utterance (see CallEvents::on_simulated_callee_text).
  virtual void on_simulated_callee_text(std::string_view text) = 0;
  virtual void close() = 0;  // idempotent; no events after it returns

  // ---- SDK 1.5 (the host calls it only on voice plugins built for 1.5 or later) ----
  // Something the host learned about the line (concierge/line_event.hpp) with the agent's note for the model in
  // `event.note`: a voice model tells its model the note, and answers at once when `event.respond_now` (the agent's
  // turn to speak, e.g. a voicemail greeting has ended). Borrowed for the call; on the call's thread.
  virtual void on_line_event(const LineEvent& event) { (void)event; }
};

class VoiceModel {
 public:
  virtual ~VoiceModel();
  virtual std::shared_ptr<VoiceSession> open_session(const VoiceSessionConfig& config,
                                                     std::shared_ptr<VoiceSessionEvents> events) = 0;
};

}  // namespace concierge
