#pragma once
// The scripted-voice model: an offline stand-in for a realtime voice model. Each session follows DialoguePolicy,
// speaks a synthetic speech-like signal in its output format (streamed in 100 ms chunks faster than real time, like
// a real model), hears the callee through an energy VAD, reads the callee's words from the simulation side-channel,
// calls the agent's tools and stops talking when the callee talks over it.
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "concierge/beep_detector.hpp"
#include "concierge/event_loop.hpp"
#include "concierge/log.hpp"
#include "concierge/voice_model.hpp"
#include "dialogue_policy.hpp"
#include "concierge/speech/energy_vad.hpp"
#include "voice_settings.hpp"

namespace concierge::scripted {

class ScriptedVoiceModel : public VoiceModel {
 public:
  // `loop` (the host's, through the C boundary: concierge::cxx::Host) outlives the model and its sessions.
  ScriptedVoiceModel(EventLoop& loop, std::shared_ptr<Logger> log, VoiceSettings settings);
  std::shared_ptr<VoiceSession> open_session(const VoiceSessionConfig& config,
                                             std::shared_ptr<VoiceSessionEvents> events) override;

 private:
  EventLoop& loop_;
  std::shared_ptr<Logger> log_;
  std::shared_ptr<const VoiceSettings> settings_;
};

class ScriptedVoiceSession : public VoiceSession, public std::enable_shared_from_this<ScriptedVoiceSession> {
 public:
  ScriptedVoiceSession(EventLoop& loop, std::shared_ptr<const VoiceSettings> settings,
                       std::shared_ptr<Logger> log, const VoiceSessionConfig& config,
                       std::shared_ptr<VoiceSessionEvents> events);
  void start();  // posts on_ready (or a fatal error for a task it cannot follow)

  AudioFormat input_format() const override { return settings_->input_format; }
  AudioFormat output_format() const override { return settings_->output_format; }
  void send_audio(const AudioFrame& frame) override;
  void send_tool_result(const ToolCall& call, const ToolResult& result) override;
  void on_playback_progress(std::chrono::microseconds played) override;
  void on_simulated_callee_text(std::string_view text) override;
  void close() override;

  const DialoguePolicy* policy() const { return policy_ ? &*policy_ : nullptr; }

 private:
  using Clock = std::chrono::steady_clock;
  Clock::duration wall(std::chrono::microseconds simulated) const;
  void run_plan();
  void begin_say(std::string text);
  void schedule_chunk();
  void emit_chunk();
  void on_speech_timer();
  void finish_say();
  void interrupt();
  bool talking() const;
  void arm_silence_timer();
  void on_silence();
  void log(LogLevel level, const std::string& message) const;

  EventLoop& loop_;
  std::shared_ptr<const VoiceSettings> settings_;
  std::shared_ptr<Logger> log_;
  std::string call_id_;
  std::set<std::string, std::less<>> tools_;
  nlohmann::json task_json_;
  std::shared_ptr<VoiceSessionEvents> events_;
  std::optional<DialoguePolicy> policy_;
  // Listens to the callee's audio for a voicemail beep, built at the first frame's rate (no allocation).
  std::optional<beep::Detector> beep_;
  bool closed_ = false;

  LoopTimer speech_timer_;  // paces the reply's chunks (on_speech_timer)
  LoopTimer silence_timer_;
  LoopTimer turn_timer_;

  // What to do next. A Say or a tool call in progress makes the session busy until it completes.
  std::deque<Action> plan_;
  bool busy_ = false;
  bool waiting_for_turn_end_ = false;
  std::optional<ToolCall> pending_tool_;
  std::uint64_t tool_calls_ = 0;

  // The utterance being generated: rendered once, then streamed in chunks from this buffer.
  std::vector<std::int16_t> pcm_;
  std::vector<std::uint8_t> encoded_;
  std::size_t encoded_pos_ = 0;
  std::size_t chunk_bytes_ = 0;
  std::size_t chunks_sent_ = 0;
  std::string saying_;
  std::string last_said_;
  bool generating_ = false;
  std::chrono::microseconds utterance_duration_{0};
  Clock::time_point generation_start_;
  std::uint64_t output_samples_ = 0;

  // Whether the callee may still be hearing us: the wall-clock estimate of the end of our audio on the line, refined
  // by the line's playback reports when the host forwards them.
  Clock::time_point playout_end_{};
  std::chrono::microseconds heard_target_{0};          // cumulative agent audio the callee will have heard
  std::chrono::microseconds utterance_heard_start_{0};  // heard_target_ when the current utterance began
  std::chrono::microseconds last_progress_{0};
  bool progress_seen_ = false;

  // The callee's side.
  sim::EnergyVad vad_;
  std::vector<std::int16_t> decoded_;
  std::optional<Clock::time_point> callee_stopped_at_;  // for the response-latency metric
};

}  // namespace concierge::scripted
