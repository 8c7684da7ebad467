#pragma once
// echo-voice: a voice model that says back every frame it hears, at once. It never speaks on its own, never calls a
// tool and never ends the call. It exists to measure the host's media path (concierge-bench): with the default
// pcm16/24 kHz the host resamples 8 -> 24 kHz on the way in and back down on the way out, as it does for OpenAI;
// with mulaw/8 kHz the path is a pass-through.
#include <functional>
#include <memory>
#include <string>

#include "concierge/audio_frame.hpp"
#include "concierge/config.hpp"
#include "concierge/voice_model.hpp"

namespace concierge::echo {

// `format`: "pcm16/24000" (default), or any spelling concierge/audio_format_name.hpp reads ("mulaw/8000"...).
// Throws ConfigError for anything else.
AudioFormat parse_format(const ConfigNode& config);

// How the model gets a function run on the host's event loop, later (the plugin: cxx::Host::post; tests: their loop).
using Post = std::function<void(std::function<void()>)>;

class EchoSession final : public VoiceSession, public std::enable_shared_from_this<EchoSession> {
 public:
  EchoSession(Post post, AudioFormat format, std::shared_ptr<VoiceSessionEvents> events);
  void start();  // announces on_ready from the event loop (never from inside open_session)

  AudioFormat input_format() const override { return format_; }
  AudioFormat output_format() const override { return format_; }
  void send_audio(const AudioFrame& frame) override;
  void send_tool_result(const ToolCall&, const ToolResult&) override {}
  void on_playback_progress(std::chrono::microseconds) override {}
  void on_simulated_callee_text(std::string_view) override {}
  void close() override;

  std::uint64_t frames_echoed() const { return frames_echoed_; }
  std::uint64_t frames_refused() const { return frames_refused_; }

 private:
  Post post_;
  AudioFormat format_;
  std::shared_ptr<VoiceSessionEvents> events_;  // null once closed
  std::uint64_t frames_echoed_ = 0;
  std::uint64_t frames_refused_ = 0;
  bool reported_format_error_ = false;
};

class EchoVoiceModel final : public VoiceModel {
 public:
  EchoVoiceModel(Post post, AudioFormat format) : post_(std::move(post)), format_(format) {}
  std::shared_ptr<VoiceSession> open_session(const VoiceSessionConfig& config,
                                             std::shared_ptr<VoiceSessionEvents> events) override;
  AudioFormat format() const { return format_; }

 private:
  Post post_;
  AudioFormat format_;
};

}  // namespace concierge::echo
