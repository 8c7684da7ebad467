#include "echo_voice.hpp"

#include "concierge/audio_format_name.hpp"

namespace concierge::echo {

AudioFormat parse_format(const ConfigNode& config) {
  config.allow_only({"format"});
  return get_audio_format(config, "format", AudioFormat::pcm16_at(24000));
}

EchoSession::EchoSession(Post post, AudioFormat format, std::shared_ptr<VoiceSessionEvents> events)
    : post_(std::move(post)), format_(format), events_(std::move(events)) {}

void EchoSession::start() {
  post_([weak = weak_from_this()] {
    if (auto self = weak.lock(); self && self->events_) self->events_->on_ready();
  });
}

void EchoSession::send_audio(const AudioFrame& frame) {
  if (!events_) return;
  if (frame.format != format_) {
    // The host converts to input_format(); anything else is a host bug. Say so once, never echo the wrong format.
    ++frames_refused_;
    if (!reported_format_error_) {
      reported_format_error_ = true;
      events_->on_error("echo-voice expects " + format_.to_string() + ", got " + frame.format.to_string(), false);
    }
    return;
  }
  ++frames_echoed_;
  // The same frame, synchronously: its bytes are valid for the duration of this call, which is all on_audio needs.
  events_->on_audio(frame);
}

void EchoSession::close() { events_.reset(); }

std::shared_ptr<VoiceSession> EchoVoiceModel::open_session(const VoiceSessionConfig& config,
                                                           std::shared_ptr<VoiceSessionEvents> events) {
  (void)config;
  auto session = std::make_shared<EchoSession>(post_, format_, std::move(events));
  session->start();
  return session;
}

}  // namespace concierge::echo
