#pragma once
// One call: the telephony leg, the voice session and the agent session, bridged. call_bridge.cpp is where the media
// path reads top to bottom: callee audio from the line to the voice model, agent audio from the voice model to the
// line, converting formats only where the two sides differ.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "audio_converter.hpp"
#include "call_record.hpp"
#include <array>
#include <optional>

#include "concierge/agent.hpp"
#include "concierge/beep_detector.hpp"
#include "concierge/log.hpp"
#include "concierge/text.hpp"
#include "concierge/telephony.hpp"
#include "concierge/voice_model.hpp"
#include "host_metrics.hpp"

namespace boost::asio { class io_context; }

namespace concierge::host {

// What every call needs from the daemon.
struct CallServices {
  boost::asio::io_context& io;
  std::shared_ptr<TelephonyProvider> telephony;
  // The telephony plugin was built with SDK 1.1 or later, so it has TelephonyProvider::check_destination.
  bool telephony_checks_destinations = false;
  std::shared_ptr<VoiceModel> voice_model;
  std::shared_ptr<Logger> log;
  HostMetrics& metrics;
  std::chrono::seconds time_limit{180};
  std::chrono::seconds ring_timeout{30};
  SecretMask secrets;  // masked in every text a plugin puts in a record (see clean_text)
  std::function<void(const CallRecord&)> record_changed;  // persist
  std::function<void(const std::string& call_id)> finished;  // the call is over; drop it from the active set
  // Amends a FINISHED call's record with what its provider learnt after the end (CallManager::amend_finished): a
  // provider id learnt late, and/or a late status (nullptr: none). Set by the CallManager, which owns it; each
  // call's line events hold it weakly, because a plugin may keep them past the manager. Event loop only.
  using FinishedCallAmender =
      std::function<void(const std::string& call_id, std::string_view provider_call_id, const CallStatusUpdate* late)>;
  std::shared_ptr<const FinishedCallAmender> amend_finished = {};
  // The agent and voice plugins were built with SDK 1.5 or later: they have AgentSession::listens_for_beep and
  // on_line_event, VoiceSession::on_line_event (concierge/line_event.hpp).
  bool agent_has_line_events = false;
  bool voice_has_line_events = false;
  // calls.beep_detection: always: the beep detector runs on every call's callee audio, asked for or not (for the
  // benchmark, and lines whose agents should all hear beeps); else only when the agent listens for a beep.
  bool beep_detection_always = false;
};

// Text from a plugin (a provider's reason, a transcript line, the agent's outcome) as a record may hold it: valid
// UTF-8 and no secret in it, so that no record can break a listing or leak a key.
std::string clean_text(const SecretMask& secrets, std::string_view text);
nlohmann::json clean_json(const SecretMask& secrets, const nlohmann::json& value);

class CallBridge : public std::enable_shared_from_this<CallBridge> {
 public:
  // `agent_has_line_events`: the session has the SDK 1.5 slots (a 1.5+ agent plugin's, or the host's own).
  CallBridge(CallServices& services, std::shared_ptr<CallRecord> record, std::unique_ptr<AgentSession> agent,
             nlohmann::json task, bool agent_has_line_events);
  ~CallBridge();

  void start_outbound();                                           // dial record->phone_number
  std::shared_ptr<CallEvents> start_inbound(std::shared_ptr<CallLeg> leg);  // a call that came to us
  void cancel(CallStatus status, const std::string& reason);       // by the user or at shutdown

  const CallRecord& record() const { return *record_; }
  bool finished() const { return finished_; }

 private:
  class LineEvents;
  class VoiceEvents;
  friend class LineEvents;
  friend class VoiceEvents;

  // Line side.
  void line_status(const CallStatusUpdate& update);
  void line_media_started(AudioFormat line_format);
  void line_audio(const AudioFrame& frame);
  void line_playback_progress(std::chrono::microseconds played);
  void line_media_stopped(std::string_view reason);
  void line_callee_text(std::string_view text);
  void line_dtmf(char digit);
  void listen_for_beep(const AudioFrame& frame);  // the beep detector on one frame of callee audio
  // Tells the agent, then the voice session with the agent's note (SDK 1.5 slots, where the plugins have them).
  void tell_line_event(LineEvent event);
  // Voice side.
  void voice_ready();
  void voice_audio(const AudioFrame& frame);
  void voice_speech_started();
  void voice_speech_stopped();
  void voice_interruption();
  void voice_transcript(Speaker speaker, std::string_view text);
  void voice_tool_call(const ToolCall& call);
  void press_keys(const ToolCall& call);  // the SDK's press_keys tool, handled by the host
  void voice_metrics(const VoiceMetrics& metrics);
  void voice_error(std::string_view message, bool fatal);

  void arm_time_limit();
  void set_status(CallStatus status, const std::string& reason);
  void add_transcript(Speaker speaker, std::string text);
  void end_after_playback();
  void check_playback_drained();
  void finish(CallStatus status, const std::string& reason);
  void name_outcome(Outcome& outcome, CallStatus status);
  void changed();

  struct Timers;
  // First and together, what every frame reads and writes: with hundreds of calls on a loop, a call's bridge is cold
  // when its next frame comes, and these then share one or two cache lines (they were spread over five, behind the
  // beep detector's buffers; cachegrind at 750 calls counted ~6 misses per frame in line_audio alone).
  CallServices& services_;
  std::shared_ptr<CallRecord> record_;
  std::shared_ptr<CallLeg> leg_;
  std::shared_ptr<VoiceSession> voice_;
  bool finished_ = false;
  bool media_started_ = false;
  bool beep_heard_ = false;  // reported by the detector, not yet ended
  // Agent audio handed to the line vs. what the line says the callee heard (for hanging up after the last words).
  std::chrono::microseconds agent_audio_sent_{0};
  std::chrono::steady_clock::time_point last_agent_audio_{};
  std::optional<std::chrono::steady_clock::time_point> callee_stopped_at_;
  std::optional<AudioConverter> to_voice_;  // line format -> voice input format
  std::optional<AudioConverter> to_line_;   // voice output format -> line format
  // The beep detector (concierge/beep_detector.hpp) on the callee's audio, when the agent listens for a beep: a beep
  // is reported to the agent and the voice session when it ends. Made once per call; per frame it allocates nothing.
  // Its state and its decoded frame (beep_samples_) are apart, touched only on the calls that listen.
  std::unique_ptr<beep::Detector> beep_;

  std::unique_ptr<AgentSession> agent_;
  nlohmann::json task_;
  std::shared_ptr<LineEvents> line_events_;
  std::shared_ptr<VoiceEvents> voice_events_;
  bool agent_has_line_events_ = false;
  std::unique_ptr<Timers> timers_;
  AudioFormat line_format_{};
  bool end_requested_ = false;
  bool hangup_sent_ = false;
  std::chrono::microseconds agent_audio_played_{0};
  bool playback_reported_ = false;
  std::chrono::steady_clock::time_point end_requested_at_{};
  std::string media_lost_reason_;  // set when the media stream ends before the agent ended the call
  std::array<std::int16_t, 960> beep_samples_{};  // a mu-law frame decoded for the beep detector (20 ms, <= 48 kHz)
};

}  // namespace concierge::host
