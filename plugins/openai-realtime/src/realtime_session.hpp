#pragma once
// One call's conversation with the OpenAI Realtime API (GA protocol): configures the session, streams the callee's
// audio in, hands the agent's audio, transcripts and tool calls to the host, and handles barge-in.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "concierge/log.hpp"
#include "concierge/playback_tracker.hpp"
#include "concierge/voice_model.hpp"
#include "realtime_config.hpp"
#include "realtime_protocol.hpp"
#include "realtime_transport.hpp"

namespace concierge::openai {

class RealtimeSession final : public VoiceSession,
                              public TransportListener,
                              public std::enable_shared_from_this<RealtimeSession> {
 public:
  using Clock = std::chrono::steady_clock;

  RealtimeSession(std::shared_ptr<const RealtimeConfig> config, std::shared_ptr<RealtimeTransport> transport,
                  std::shared_ptr<Logger> log, VoiceSessionConfig session, std::shared_ptr<VoiceSessionEvents> events);
  ~RealtimeSession() override;

  void start();  // connects; call once, after construction through make_shared

  // VoiceSession
  AudioFormat input_format() const override { return config_->audio_format(); }
  AudioFormat output_format() const override { return config_->audio_format(); }
  void send_audio(const AudioFrame& frame) override;
  void send_tool_result(const ToolCall& call, const ToolResult& result) override;
  void on_playback_progress(std::chrono::microseconds played) override;
  void on_simulated_callee_text(std::string_view text) override;
  void close() override;
  // SDK 1.5: the agent's note on a line event (a voicemail beep has ended, Twilio's answering-machine verdict, a key
  // the callee pressed) becomes a system message in the conversation; when the host says it is the agent's turn
  // (respond_now) and no response is in flight, a response.create follows.
  void on_line_event(const LineEvent& event) override;

  // TransportListener
  void on_websocket_open() override;
  void on_websocket_message(std::string_view text) override;
  void on_websocket_failed(std::string_view message) override;

  // Counters for logs and tests.
  struct Stats {
    std::uint64_t frames_sent = 0;
    std::uint64_t frames_dropped = 0;  // before ready with a full early buffer, or while the socket was backed up
    std::uint64_t deltas_played = 0;
    std::uint64_t late_deltas_dropped = 0;  // of cancelled responses or truncated items
    std::uint64_t interruptions = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  enum class State { connecting, configuring, ready, closed };

  void handle_event(const nlohmann::json& event);
  void on_audio_delta(std::string_view response_id, std::string_view item_id, std::string_view base64_audio);
  void on_session_updated();
  void on_speech_started();
  void on_error_event(const nlohmann::json& event);
  void on_function_call(const nlohmann::json& event);
  void on_response_done(const nlohmann::json& event);
  void on_agent_transcript(const nlohmann::json& event);
  void continue_after_tools();
  void send_note(std::string_view note, bool respond_now);  // a line event's note, as a system message
  void fatal(std::string_view message);

  std::string next_event_id();
  void send_json(const nlohmann::json& event);
  void send_append(std::span<const std::uint8_t> audio);
  bool is_dropped(std::string_view response_id, std::string_view item_id) const;
  static void remember(std::vector<std::string>& ids, std::string_view id);

  std::shared_ptr<const RealtimeConfig> config_;
  std::shared_ptr<RealtimeTransport> transport_;
  std::shared_ptr<Logger> log_;
  VoiceSessionConfig session_;
  std::shared_ptr<VoiceSessionEvents> events_;
  AudioFormat format_;
  State state_ = State::connecting;
  std::uint64_t event_counter_ = 0;
  std::string session_update_event_id_;

  // Callee audio that arrives while the session is being configured: kept (up to early_audio_limit_ms) and sent as
  // soon as the format is agreed, so the callee's "Hello, Demo Restaurant" is not lost.
  std::vector<std::uint8_t> early_audio_;
  std::size_t early_audio_limit_ = 0;
  AppendEventWriter append_writer_;

  // Agent audio: decoded into storage that keeps its capacity; a PCM byte split across deltas waits here.
  std::vector<std::uint8_t> decoded_;
  std::optional<std::uint8_t> carry_byte_;
  PlaybackTracker playback_;

  std::string active_response_id_;             // response.created .. response.done
  std::vector<std::string> dropped_responses_;  // cancelled by a barge-in: their late deltas are dropped
  std::vector<std::string> dropped_items_;      // truncated by a barge-in

  std::optional<Clock::time_point> speech_stopped_at_;  // waiting for the first audio of the reply
  std::optional<std::chrono::microseconds> latency_;
  std::string latency_response_id_;

  // Tool calls: the model is asked to go on once every call of a response has its result and the response is done.
  int tools_outstanding_ = 0;
  bool tools_answered_ = false;
  bool tools_response_done_ = true;
  std::string tools_response_id_;
  bool end_call_requested_ = false;
  std::vector<std::pair<std::string, bool>> pending_notes_;  // line-event notes that came before the session was ready

  bool warned_format_ = false;
  bool warned_backlog_ = false;
  Stats stats_;
};

}  // namespace concierge::openai
