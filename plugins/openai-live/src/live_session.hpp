#pragma once
// One call's conversation with GPT-Live over its primary WebSocket: session.start, the callee's audio in, the agent's
// audio, transcripts and tool calls out, and turns and barge-in derived from what the protocol gives (README.md,
// "Turns and interruptions").
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "concierge/log.hpp"
#include "concierge/playback_tracker.hpp"
#include "concierge/event_loop.hpp"
#include "concierge/voice_model.hpp"
#include "live_config.hpp"
#include "live_protocol.hpp"
#include "live_transport.hpp"

namespace concierge::openai_live {

class LiveSession final : public VoiceSession, public TransportListener, public std::enable_shared_from_this<LiveSession> {
 public:
  using Clock = std::chrono::steady_clock;

  // `loop` runs the turn timer; it is the loop the transport runs on (the host's), and outlives the session.
  LiveSession(EventLoop& loop, std::shared_ptr<const LiveConfig> config,
              std::shared_ptr<LiveTransport> transport, std::shared_ptr<Logger> log, VoiceSessionConfig session,
              std::shared_ptr<VoiceSessionEvents> events);
  ~LiveSession() override;

  void start();  // connects; call once, after construction through make_shared

  // VoiceSession
  AudioFormat input_format() const override { return format_; }
  AudioFormat output_format() const override { return format_; }
  void send_audio(const AudioFrame& frame) override;
  void send_tool_result(const ToolCall& call, const ToolResult& result) override;
  void on_playback_progress(std::chrono::microseconds played) override;
  void on_simulated_callee_text(std::string_view text) override;
  void close() override;
  // SDK 1.5: the agent's note on a line event (a voicemail beep has ended, Twilio's answering-machine verdict, a key
  // pressed) goes into the session timeline: as speakable context (session.commentary.append) when the agent's turn
  // is now (respond_now, e.g. after the beep), else as silent context (session.thinking.append). An event without a
  // note sends nothing; notes that come before session.started wait for it (at most 8).
  void on_line_event(const LineEvent& event) override;

  // TransportListener
  void on_websocket_open() override;
  void on_websocket_message(std::string_view text) override;
  void on_websocket_failed(std::string_view message) override;

  struct Stats {
    std::uint64_t frames_sent = 0;
    std::uint64_t frames_dropped = 0;  // before session.started with a full early buffer, or a backed-up socket
    std::uint64_t deltas_played = 0;
    std::uint64_t late_deltas_dropped = 0;  // of a reply the callee talked over
    std::uint64_t interruptions = 0;
    std::uint64_t callee_turns = 0;
    double audio_seconds = 0;  // GPT-Live's cumulative usage (session.usage.updated / session.closed)
  };
  const Stats& stats() const { return stats_; }

 private:
  enum class State { connecting, starting, ready, closed };

  void handle_event(const nlohmann::json& event);
  void on_session_started();
  void on_audio_delta(std::string_view base64_audio);
  void on_input_transcript(const nlohmann::json& event);
  void finish_callee_turn();
  void flush_agent_transcript(bool interrupted);
  void on_response_event(const nlohmann::json& event);
  void on_function_call(const nlohmann::json& item, const std::string& delegation_id);
  void on_usage(const nlohmann::json& usage);
  void on_error_event(const nlohmann::json& event);
  void on_session_closed(const nlohmann::json& event);
  void continue_after_tools();
  void arm_turn_timer();
  void on_turn_timer();
  void fatal(std::string_view message);
  void send_note(std::string_view note, bool respond_now);

  std::string next_event_id();
  void send_json(const nlohmann::json& event);

  LoopTimer turn_timer_;  // its handler (on_turn_timer) is set once: re-arming it per callee delta allocates nothing
  std::shared_ptr<const LiveConfig> config_;
  std::shared_ptr<LiveTransport> transport_;
  std::shared_ptr<Logger> log_;
  VoiceSessionConfig session_;
  std::shared_ptr<VoiceSessionEvents> events_;
  AudioFormat format_;
  State state_ = State::connecting;
  std::uint64_t event_counter_ = 0;
  std::string start_event_id_;

  // Callee audio from before session.started, sent as soon as it arrives (nothing may precede it).
  std::vector<std::uint8_t> early_audio_;
  std::size_t early_audio_limit_ = 0;
  AppendEventWriter append_writer_;
  std::chrono::microseconds input_sent_{0};  // callee audio appended so far: the session timeline's clock

  // Agent audio: decoded into storage that keeps its capacity; a PCM byte split across deltas waits here.
  std::vector<std::uint8_t> decoded_;
  std::optional<std::uint8_t> carry_byte_;
  PlaybackTracker playback_;
  std::array<char, 32> segment_id_{};  // "agent-N": the tracker's item id for one run of agent audio
  std::uint64_t segments_ = 0;
  std::optional<Clock::time_point> last_output_at_;
  bool suppressing_ = false;  // after a barge-in: the old reply's tail is dropped

  // The callee's utterance in progress (input transcript deltas), and the turn latency it starts.
  bool callee_open_ = false;
  std::string callee_text_;
  Clock::time_point callee_last_delta_at_{};
  std::optional<Clock::time_point> callee_stopped_at_;  // when the callee's last word reached GPT-Live
  std::optional<Clock::time_point> awaiting_reply_since_;
  std::string agent_text_;  // output transcript deltas of the current reply

  // Tool calls (Responses delegation): go on once every call of a delegated response has its result and that
  // response has completed.
  int tools_outstanding_ = 0;
  bool tools_answered_ = false;
  bool tools_response_done_ = true;
  std::string tools_delegation_;
  bool end_call_requested_ = false;
  std::vector<std::pair<std::string, bool>> pending_notes_;  // line-event notes from before session.started

  bool warned_format_ = false;
  bool warned_backlog_ = false;
  Stats stats_;
};

}  // namespace concierge::openai_live
