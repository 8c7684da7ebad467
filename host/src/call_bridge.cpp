// The media path of one call, top to bottom:
//
//   line (telephony plugin) --CallEvents::on_audio--> line_audio() --to_voice_--> VoiceSession::send_audio
//   voice model --VoiceSessionEvents::on_audio--> voice_audio() --to_line_--> CallLeg::send_audio --> line
//
// Frames are borrowed views (see audio_frame.hpp); the converters reuse their buffers; nothing here allocates per
// frame. Around that path: call states, the transcript, the agent's tools, barge-in and the time limit.
#include "call_bridge.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "concierge/dtmf.hpp"
#include "concierge/mulaw.hpp"
#include "concierge/outcome_kind.hpp"
#include "concierge/net/asio.hpp"

namespace concierge::host {
namespace {
using SteadyClock = std::chrono::steady_clock;
// After the agent's last words: how long the voice model must stay quiet before the host hangs up, and how long it
// waits at most for the line to play what it was given.
constexpr auto kQuietBeforeHangup = std::chrono::milliseconds(300);
constexpr auto kMaxDrainWait = std::chrono::seconds(10);
// A media stream that ends without a final status from the provider: how long to wait for that status.
constexpr auto kStatusGrace = std::chrono::seconds(3);

// Time this thread has spent in voice_audio(): line_audio() subtracts what ran inside its own call (a voice model
// that answers synchronously, like the echo model), so each direction's histogram holds only its own work.
thread_local double voice_audio_us_on_this_thread = 0;

double micros_since(SteadyClock::time_point start) {
  return std::chrono::duration<double, std::micro>(SteadyClock::now() - start).count();
}

std::string failure_words(CallStatus status, const std::string& reason) {
  switch (status) {
    case CallStatus::busy: return "The line was busy";
    case CallStatus::no_answer: return "Nobody answered the phone";
    case CallStatus::canceled: return reason.empty() ? "The call was canceled" : "The call was canceled: " + reason;
    case CallStatus::timed_out: return reason;
    case CallStatus::failed: return reason.empty() ? "The call failed" : "The call failed: " + reason;
    default: return reason;
  }
}
}  // namespace

std::string clean_text(const SecretMask& secrets, std::string_view text) {
  return secrets.apply(to_valid_utf8(text));
}

nlohmann::json clean_json(const SecretMask& secrets, const nlohmann::json& value) {
  if (value.is_string()) return clean_text(secrets, value.get_ref<const std::string&>());
  if (value.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : value) out.push_back(clean_json(secrets, item));
    return out;
  }
  if (value.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, item] : value.items()) out[clean_text(secrets, key)] = clean_json(secrets, item);
    return out;
  }
  return value;
}

// The two event sinks hold the bridge weakly: a plugin that keeps its sink past the call cannot keep the call alive.
class CallBridge::LineEvents final : public CallEvents {
 public:
  LineEvents(std::weak_ptr<CallBridge> bridge, std::string call_id,
             std::weak_ptr<const CallServices::FinishedCallAmender> amend_finished)
      : bridge_(std::move(bridge)), call_id_(std::move(call_id)), amend_finished_(std::move(amend_finished)) {}
  void on_provider_call_id(std::string_view id) override {
    if (auto b = bridge_.lock(); b && !b->finished_) {
      b->record_->provider_call_id = clean_text(b->services_.secrets, id);
      b->changed();
    } else if (auto amend = amend_finished_.lock()) {
      (*amend)(call_id_, id, nullptr);  // learnt after the end (a late callback): the record gets it all the same
    }
  }
  void on_late_status(const CallStatusUpdate& update) override {
    // Only ever amends a finished call; a call still in progress takes its statuses through on_status.
    if (auto b = bridge_.lock(); b && !b->finished_) return;
    if (auto amend = amend_finished_.lock()) (*amend)(call_id_, {}, &update);
  }
  void on_status(const CallStatusUpdate& update) override {
    if (auto b = bridge_.lock()) b->line_status(update);
  }
  void on_media_started(AudioFormat format) override {
    if (auto b = bridge_.lock()) b->line_media_started(format);
  }
  void on_audio(const AudioFrame& frame) override {
    if (auto b = bridge_.lock()) b->line_audio(frame);
  }
  void on_playback_progress(std::chrono::microseconds played) override {
    if (auto b = bridge_.lock()) b->line_playback_progress(played);
  }
  void on_dtmf(char digit) override {
    if (auto b = bridge_.lock()) b->line_dtmf(digit);
  }
  void on_media_stopped(std::string_view reason) override {
    if (auto b = bridge_.lock()) b->line_media_stopped(reason);
  }
  void on_simulated_callee_text(std::string_view text) override {
    if (auto b = bridge_.lock()) b->line_callee_text(text);
  }

 private:
  std::weak_ptr<CallBridge> bridge_;
  std::string call_id_;
  std::weak_ptr<const CallServices::FinishedCallAmender> amend_finished_;
};

class CallBridge::VoiceEvents final : public VoiceSessionEvents {
 public:
  explicit VoiceEvents(std::weak_ptr<CallBridge> bridge) : bridge_(std::move(bridge)) {}
  void on_ready() override {
    if (auto b = bridge_.lock()) b->voice_ready();
  }
  void on_audio(const AudioFrame& frame) override {
    if (auto b = bridge_.lock()) b->voice_audio(frame);
  }
  void on_callee_speech_started() override {
    if (auto b = bridge_.lock()) b->voice_speech_started();
  }
  void on_callee_speech_stopped() override {
    if (auto b = bridge_.lock()) b->voice_speech_stopped();
  }
  void on_interruption() override {
    if (auto b = bridge_.lock()) b->voice_interruption();
  }
  void on_transcript(Speaker speaker, std::string_view text) override {
    if (auto b = bridge_.lock()) b->voice_transcript(speaker, text);
  }
  void on_tool_call(const ToolCall& call) override {
    if (auto b = bridge_.lock()) b->voice_tool_call(call);
  }
  void on_metrics(const VoiceMetrics& metrics) override {
    if (auto b = bridge_.lock()) b->voice_metrics(metrics);
  }
  void on_error(std::string_view message, bool fatal) override {
    if (auto b = bridge_.lock()) b->voice_error(message, fatal);
  }

 private:
  std::weak_ptr<CallBridge> bridge_;
};

struct CallBridge::Timers {
  explicit Timers(net::asio::io_context& io) : limit(io), drain(io), grace(io) {}
  net::asio::steady_timer limit;  // the per-call time limit
  net::asio::steady_timer drain;  // hang up once the agent's last words have been played
  net::asio::steady_timer grace;  // waiting for the provider's final status
};

CallBridge::CallBridge(CallServices& services, std::shared_ptr<CallRecord> record,
                       std::unique_ptr<AgentSession> agent, nlohmann::json task, bool agent_has_line_events)
    : services_(services),
      record_(std::move(record)),
      agent_(std::move(agent)),
      task_(std::move(task)),
      agent_has_line_events_(agent_has_line_events),
      timers_(std::make_unique<Timers>(services.io)) {}

CallBridge::~CallBridge() = default;

// ---- Starting -------------------------------------------------------------------------------------------------

void CallBridge::start_outbound() {
  line_events_ = std::make_shared<LineEvents>(weak_from_this(), record_->call_id, services_.amend_finished);
  arm_time_limit();
  OutboundCall call{record_->call_id, record_->phone_number, record_->callee_name, services_.ring_timeout};
  ++services_.metrics.calls_awaiting_media;  // until the media stream starts or the call ends
  set_status(CallStatus::dialing, "");
  services_.log->info("call " + record_->call_id + ": dialing " + record_->callee_name + " at " +
                      record_->phone_number);
  try {
    leg_ = services_.telephony->place_call(call, line_events_);
  } catch (const std::exception& e) {
    finish(CallStatus::failed, std::string("the telephony plugin could not place the call: ") + e.what());
    return;
  }
  if (!leg_ && !finished_) finish(CallStatus::failed, "the telephony plugin returned no call");
}

std::shared_ptr<CallEvents> CallBridge::start_inbound(std::shared_ptr<CallLeg> leg) {
  leg_ = std::move(leg);
  line_events_ = std::make_shared<LineEvents>(weak_from_this(), record_->call_id, services_.amend_finished);
  arm_time_limit();
  set_status(CallStatus::in_progress, "");
  return line_events_;
}

void CallBridge::cancel(CallStatus status, const std::string& reason) { finish(status, reason); }

void CallBridge::arm_time_limit() {
  timers_->limit.expires_after(services_.time_limit);
  timers_->limit.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (auto self = weak.lock(); self && !ec)
      self->finish(CallStatus::timed_out,
                   "The call timed out after " + std::to_string(self->services_.time_limit.count()) + " seconds");
  });
}

// ---- Line side --------------------------------------------------------------------------------------------------

void CallBridge::line_status(const CallStatusUpdate& update) {
  if (finished_) return;
  if (update.duration_seconds) record_->duration_seconds = update.duration_seconds;
  bool new_verdict = false;
  if (!update.answered_by.empty()) {
    std::string answered_by = clean_text(services_.secrets, update.answered_by);
    new_verdict = answered_by != record_->answered_by;
    record_->answered_by = std::move(answered_by);
  }
  if (new_verdict && !is_terminal(update.status)) {
    // The provider's answering-machine verdict (Twilio's AnsweredBy, e.g. from its asynchronous detection's
    // callback): the agent decides what it means for the call (a message after machine_end_*, never to a human).
    LineEvent event;
    event.kind = line_event::answered_by;
    event.detail = record_->answered_by;
    tell_line_event(event);
    if (finished_) return;
  }
  if (is_terminal(update.status)) {
    // The provider's "completed" after our own hang-up, or the callee hanging up: the conversation is over. If the
    // media stream had already broken off, that is the reason worth keeping.
    finish(update.status, update.reason.empty() ? media_lost_reason_ : update.reason);
    return;
  }
  // Providers may report out of order (a late "ringing" after "in-progress"); never go backwards.
  if (static_cast<int>(update.status) > static_cast<int>(record_->status)) set_status(update.status, update.reason);
}

void CallBridge::line_media_started(AudioFormat line_format) {
  if (finished_ || media_started_) return;
  media_started_ = true;
  if (!record_->inbound) --services_.metrics.calls_awaiting_media;
  line_format_ = line_format;
  if (record_->status != CallStatus::in_progress) set_status(CallStatus::in_progress, "");
  services_.log->info("call " + record_->call_id + ": connected, line audio " + line_format.to_string());

  VoiceSessionConfig config;
  config.call_id = record_->call_id;
  config.instructions = agent_->instructions();
  config.tools = agent_->tools();
  config.task = task_;
  config.line_format = line_format;
  voice_events_ = std::make_shared<VoiceEvents>(weak_from_this());
  try {
    voice_ = services_.voice_model->open_session(config, voice_events_);
  } catch (const std::exception& e) {
    voice_error(std::string("could not open a session: ") + e.what(), true);
    return;
  }
  if (!voice_) {
    voice_error("the voice model returned no session", true);
    return;
  }
  // The beep detector, when the agent listens for a voicemail's beep (or the operator wants it on every call).
  // The agent is asked even when the detector runs anyway (calls.beep_detection: always): asking is how it learns
  // that this host reports beeps and verdicts, and so holds voicemail_left to them.
  const bool asked = agent_has_line_events_ && agent_->listens_for_beep();
  const bool listen = services_.beep_detection_always || asked;
  if (listen && line_format.sample_rate >= 8000 && line_format.sample_rate <= 48000) {
    beep_ = std::make_unique<beep::Detector>(line_format.sample_rate);
    services_.log->info("call " + record_->call_id + ": listening for a voicemail beep on the callee's audio");
  }
  // Converters only where the formats differ; a matching pair passes frames through untouched.
  to_voice_.emplace(line_format, voice_->input_format());
  to_line_.emplace(voice_->output_format(), line_format);
  services_.log->info("call " + record_->call_id + ": voice model hears " + voice_->input_format().to_string() +
                      " and speaks " + voice_->output_format().to_string() +
                      (to_voice_->passthrough() && to_line_->passthrough() ? " (pass-through)" : " (converted)"));
}

// Callee audio: line -> voice model.
void CallBridge::line_audio(const AudioFrame& frame) {
  const auto started = SteadyClock::now();
  ++record_->metrics.frames_from_line;
  ++services_.metrics.frames_from_line;
  if (!voice_ || finished_) return;
  if (beep_) {
    listen_for_beep(frame);
    if (!voice_ || finished_) return;  // what the agent made of a beep may have ended the call
  }
  const AudioConverter::Output converted = to_voice_->convert(frame);
  if (converted.frame().bytes.empty()) return;  // the resampler is still filling its filter
  // A voice model may answer inside send_audio (the echo model does): that answer's trip through voice_audio() is
  // the other direction's work, measured there, and is taken out of this one's.
  const double nested_before = voice_audio_us_on_this_thread;
  voice_->send_audio(converted.frame());
  ++record_->metrics.frames_to_voice;
  ++services_.metrics.frames_to_voice;
  services_.metrics.line_to_voice_us.observe(micros_since(started) - (voice_audio_us_on_this_thread - nested_before));
}

// The beep detector on callee audio, in the line's format: mu-law decoded into the bridge's own buffer, pcm16 read
// in place (copied in blocks when it is not aligned). Nothing here allocates; only a beep's end (rare) goes further.
void CallBridge::listen_for_beep(const AudioFrame& frame) {
  const std::size_t bytes_per_sample = frame.format.bytes_per_sample();
  const std::size_t samples = frame.samples();
  for (std::size_t done = 0; done < samples;) {
    const std::size_t n = std::min(beep_samples_.size(), samples - done);
    const auto bytes = frame.bytes.subspan(done * bytes_per_sample, n * bytes_per_sample);
    if (frame.format.encoding == AudioEncoding::mulaw) mulaw::decode(bytes, beep_samples_);
    else std::memcpy(beep_samples_.data(), bytes.data(), n * 2);
    if (beep_->process(std::span<const std::int16_t>(beep_samples_.data(), n))) beep_heard_ = true;
    done += n;
  }
  if (beep_heard_ && !beep_->in_beep()) {
    // The beep has ended: now is when a message may start.
    beep_heard_ = false;
    LineEvent event;
    event.kind = line_event::beep;
    event.beep_hz = beep_->last_beep_hz();
    tell_line_event(event);
  }
}

void CallBridge::line_dtmf(char digit) {
  add_transcript(Speaker::system, std::string("callee pressed ") + digit);
  const char key[1] = {digit};
  LineEvent event;
  event.kind = line_event::dtmf;
  event.detail = std::string_view(key, 1);
  tell_line_event(event);
}

void CallBridge::tell_line_event(LineEvent event) {
  if (finished_) return;
  std::string what;
  if (event.kind == line_event::beep) {
    what = "(a beep on the line, " + std::to_string(static_cast<int>(event.beep_hz)) + " Hz, has ended)";
    services_.log->info("call " + record_->call_id + ": voicemail beep heard (" +
                        std::to_string(static_cast<int>(event.beep_hz)) + " Hz)");
  } else if (event.kind == line_event::answered_by) {
    what = "(answering-machine detection: " + std::string(event.detail) + ")";
    services_.log->info("call " + record_->call_id + ": answered by " + std::string(event.detail));
  }
  if (!what.empty()) add_transcript(Speaker::system, what);
  std::string note;
  if (agent_has_line_events_) {
    try {
      note = clean_text(services_.secrets, agent_->on_line_event(event));
    } catch (const std::exception& e) {
      services_.log->warning("call " + record_->call_id + ": the agent failed on a line event: " + e.what());
    }
  }
  event.note = note;
  event.respond_now = !note.empty() && (event.kind == line_event::beep ||
                                        (event.kind == line_event::answered_by &&
                                         event.detail.starts_with("machine_end_")));
  if (voice_ && services_.voice_has_line_events) voice_->on_line_event(event);
}

void CallBridge::line_playback_progress(std::chrono::microseconds played) {
  playback_reported_ = true;
  agent_audio_played_ = played;
  if (voice_) voice_->on_playback_progress(played);
}

void CallBridge::line_media_stopped(std::string_view reason) {
  if (finished_) return;
  services_.log->info("call " + record_->call_id + ": media stream ended (" + std::string(reason) + ")");
  const std::string why(reason);
  if (!end_requested_) media_lost_reason_ = "the media stream ended unexpectedly (" + why + ")";
  timers_->grace.expires_after(kStatusGrace);
  timers_->grace.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (!self || ec || self->finished_) return;
    if (self->end_requested_) self->finish(CallStatus::completed, "");
    else self->finish(CallStatus::failed, self->media_lost_reason_);
  });
}

void CallBridge::line_callee_text(std::string_view text) {
  if (voice_) voice_->on_simulated_callee_text(text);
}

// ---- Voice side -------------------------------------------------------------------------------------------------

void CallBridge::voice_ready() {
  services_.log->debug("call " + record_->call_id + ": voice session ready");
}

// Agent audio: voice model -> line.
void CallBridge::voice_audio(const AudioFrame& frame) {
  const auto started = SteadyClock::now();
  ++record_->metrics.frames_from_voice;
  ++services_.metrics.frames_from_voice;
  if (!leg_ || finished_) return;
  const AudioConverter::Output converted = to_line_->convert(frame);
  if (converted.frame().bytes.empty()) return;
  leg_->send_audio(converted.frame());
  ++record_->metrics.frames_to_line;
  ++services_.metrics.frames_to_line;
  agent_audio_sent_ += converted.frame().duration();
  last_agent_audio_ = started;
  if (callee_stopped_at_) {
    // Voice-to-voice latency: the callee stopped speaking -> the first audio of the answer reaches the line.
    const double ms = std::chrono::duration<double, std::milli>(started - *callee_stopped_at_).count();
    callee_stopped_at_.reset();
    auto& m = record_->metrics;
    ++m.voice_to_voice_count;
    m.voice_to_voice_ms_sum += ms;
    if (ms > m.voice_to_voice_ms_max) m.voice_to_voice_ms_max = ms;
    services_.metrics.voice_to_voice_ms.observe(ms);
  }
  const double spent = micros_since(started);
  voice_audio_us_on_this_thread += spent;
  services_.metrics.voice_to_line_us.observe(spent);
}

void CallBridge::voice_speech_started() { callee_stopped_at_.reset(); }

void CallBridge::voice_speech_stopped() { callee_stopped_at_ = SteadyClock::now(); }

// Barge-in: the callee talks over the agent. Drop what the line has not played yet; the voice model has already
// stopped its response (and trimmed its memory of it to what was heard).
void CallBridge::voice_interruption() {
  ++record_->metrics.interruptions;
  ++services_.metrics.interruptions;
  if (leg_) leg_->clear_audio();
  // What was queued but not played is gone: count only what the line actually played.
  agent_audio_sent_ = agent_audio_played_;
  add_transcript(Speaker::system, "(callee interrupted the agent)");
}

void CallBridge::voice_transcript(Speaker speaker, std::string_view text) {
  if (text.empty()) return;
  add_transcript(speaker, std::string(text));
  if (speaker == Speaker::agent && leg_) leg_->on_simulated_agent_text(text);
}

void CallBridge::voice_tool_call(const ToolCall& call) {
  if (call.name == dtmf::kPressKeysTool) return press_keys(call);
  ToolResult result;
  try {
    result = agent_->on_tool_call(call);
  } catch (const std::exception& e) {
    result.output = {{"ok", false}, {"error", e.what()}};
  }
  add_transcript(Speaker::system, "tool " + call.name + " " + call.arguments.dump() + " -> " + result.output.dump());
  if (voice_) voice_->send_tool_result(call, result);
  if (result.end_call) end_after_playback();
}

// The SDK's press_keys tool (concierge/dtmf.hpp), offered by agents that list it and handled here: the keys become
// in-band tones on the line (Twilio's Media Streams have no send-DTMF message), queued after the agent audio already
// sent, so a menu hears them after the words before them. A tool call, not the per-frame path: a stack generator and
// stack buffers, one frame of the line's format at a time.
void CallBridge::press_keys(const ToolCall& call) {
  ToolResult result;
  const auto keys = dtmf::keys_to_press(call.arguments);
  if (!keys) {
    result.output = {{"ok", false}, {"error", "keys must be 1 to 20 of 0-9, *, # and A-D, e.g. {\"keys\": \"1\"}"}};
  } else if (!leg_ || !media_started_ || finished_) {
    result.output = {{"ok", false}, {"error", "the line carries no audio now"}};
  } else {
    dtmf::Generator generator(line_format_.sample_rate);
    generator.press(*keys);
    const std::size_t samples = samples_per_frame(line_format_.sample_rate);
    std::array<std::int16_t, 960> pcm{};      // 20 ms at up to 48 kHz
    std::array<std::uint8_t, 1920> bytes{};
    while (generator.busy()) {
      generator.generate(std::span<std::int16_t>(pcm.data(), samples));
      AudioFrame frame{line_format_, {}, static_cast<std::uint64_t>(agent_audio_sent_.count())};
      if (line_format_.encoding == AudioEncoding::mulaw) {
        mulaw::encode(std::span<const std::int16_t>(pcm.data(), samples), std::span<std::uint8_t>(bytes.data(), samples));
        frame.bytes = std::span<const std::uint8_t>(bytes.data(), samples);
      } else {
        std::memcpy(bytes.data(), pcm.data(), samples * 2);
        frame.bytes = std::span<const std::uint8_t>(bytes.data(), samples * 2);
      }
      leg_->send_audio(frame);
      ++record_->metrics.frames_to_line;
      ++services_.metrics.frames_to_line;
      agent_audio_sent_ += frame.duration();
    }
    result.output = {{"ok", true}, {"pressed", *keys}};
  }
  add_transcript(Speaker::system, keys && result.output["ok"] == true ? "agent pressed " + *keys
                                                                      : "tool press_keys " + call.arguments.dump() +
                                                                            " -> " + result.output.dump());
  if (voice_) voice_->send_tool_result(call, result);
}

void CallBridge::voice_metrics(const VoiceMetrics& metrics) {
  auto& m = record_->metrics;
  m.input_tokens += metrics.input_tokens;
  m.output_tokens += metrics.output_tokens;
  services_.metrics.input_tokens += metrics.input_tokens;
  services_.metrics.output_tokens += metrics.output_tokens;
  m.audio_seconds += metrics.audio_seconds;
  services_.metrics.audio_seconds += metrics.audio_seconds;
  if (metrics.response_latency) {
    ++m.response_latency_count;
    const double ms = std::chrono::duration<double, std::milli>(*metrics.response_latency).count();
    m.response_latency_ms_sum += ms;
    services_.metrics.response_latency_ms.observe(ms);
  }
}

void CallBridge::voice_error(std::string_view message, bool fatal) {
  ++record_->metrics.errors;
  ++services_.metrics.errors;
  const std::string text = "voice model: " + std::string(message);
  if (fatal) {
    services_.log->error("call " + record_->call_id + ": " + text);
    finish(CallStatus::failed, text);
  } else {
    services_.log->warning("call " + record_->call_id + ": " + text);
    add_transcript(Speaker::system, text);
  }
}

// ---- Ending -----------------------------------------------------------------------------------------------------

// The agent asked to end the call: let the line play the last words, then hang up.
void CallBridge::end_after_playback() {
  if (end_requested_) return;
  end_requested_ = true;
  end_requested_at_ = SteadyClock::now();
  check_playback_drained();
}

void CallBridge::check_playback_drained() {
  if (finished_ || hangup_sent_) return;
  const auto now = SteadyClock::now();
  const bool quiet = now - last_agent_audio_ >= kQuietBeforeHangup;
  const bool played = !playback_reported_ || agent_audio_played_ + std::chrono::milliseconds(20) >= agent_audio_sent_;
  const bool waited_too_long = now - end_requested_at_ >= kMaxDrainWait;
  if ((quiet && played) || waited_too_long) {
    hangup_sent_ = true;
    services_.log->info("call " + record_->call_id + ": agent ended the call");
    if (leg_) leg_->hang_up();
    // The provider reports the final status; if it does not, the call is complete all the same.
    timers_->grace.expires_after(kStatusGrace);
    timers_->grace.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      if (auto self = weak.lock(); self && !ec) self->finish(CallStatus::completed, "");
    });
    return;
  }
  timers_->drain.expires_after(std::chrono::milliseconds(50));
  timers_->drain.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (auto self = weak.lock(); self && !ec) self->check_playback_drained();
  });
}

void CallBridge::finish(CallStatus status, const std::string& reason) {
  if (finished_) return;
  finished_ = true;
  if (!record_->inbound && !media_started_) --services_.metrics.calls_awaiting_media;
  auto self = shared_from_this();  // the manager may drop its reference below
  timers_->limit.cancel();
  timers_->drain.cancel();
  timers_->grace.cancel();
  if (voice_) voice_->close();
  if (leg_ && !hangup_sent_ && (status == CallStatus::timed_out || status == CallStatus::canceled ||
                                status == CallStatus::failed)) {
    hangup_sent_ = true;
    leg_->hang_up();
  }
  Outcome outcome = agent_->outcome();
  if (!outcome.success && status != CallStatus::completed) outcome.failure_reason = failure_words(status, reason);
  if (!outcome.success && outcome.failure_reason.empty()) outcome.failure_reason = "The task was not completed";
  outcome.confirmation_number = clean_text(services_.secrets, outcome.confirmation_number);
  outcome.failure_reason = clean_text(services_.secrets, outcome.failure_reason);
  outcome.details = clean_json(services_.secrets, outcome.details);
  name_outcome(outcome, status);
  record_->result = outcome;
  record_->ended_at = Clock::now();
  set_status(status, reason);
  services_.log->info("call " + record_->call_id + ": " + std::string(to_string(status)) +
                      (outcome.success ? ", confirmation " + outcome.confirmation_number
                                       : ", " + outcome.failure_reason));
  voice_.reset();
  voice_events_.reset();
  if (services_.finished) services_.finished(record_->call_id);
}

// The outcome's word of the SDK's vocabulary (concierge/outcome_kind.hpp) in details.outcome: the agent's when the
// call completed and the agent named a word the host knows, else one the host derives from how the call ended (the
// host replaced the failure reason too then). So every finished record has exactly one known word.
void CallBridge::name_outcome(Outcome& outcome, CallStatus status) {
  const std::string key(outcome_kind::kOutcomeKey);
  std::string word = outcome.details.is_object() ? outcome.details.value(key, std::string()) : std::string();
  if (!outcome.details.is_object()) outcome.details = nlohmann::json::object();
  if (!word.empty() && !outcome_kind::is_known(word)) {
    services_.log->warning("call " + record_->call_id + ": the agent's outcome \"" + word +
                           "\" is not in the SDK's vocabulary (concierge/outcome_kind.hpp); recorded as derived");
    outcome.details["agent_outcome"] = word;
    word.clear();
  }
  if (outcome.success) {
    word = outcome_kind::succeeded;
  } else if (status != CallStatus::completed) {
    word = status == CallStatus::no_answer || status == CallStatus::busy ? outcome_kind::no_answer
                                                                         : outcome_kind::not_completed;
  } else if (word.empty() || word == outcome_kind::succeeded) {
    word = outcome_kind::not_completed;
  }
  outcome.details[key] = word;
}

void CallBridge::set_status(CallStatus status, const std::string& reason) {
  record_->status = status;
  if (!reason.empty()) record_->status_reason = clean_text(services_.secrets, reason);
  record_->status_history.emplace_back(status, Clock::now());
  changed();
}

void CallBridge::add_transcript(Speaker speaker, std::string text) {
  TranscriptEntry entry{speaker, clean_text(services_.secrets, text), Clock::now()};
  if (speaker != Speaker::system) agent_->on_transcript(entry);
  services_.log->debug("call " + record_->call_id + ": " + std::string(to_string(speaker)) + ": " + entry.text);
  record_->transcript.push_back(std::move(entry));
  changed();
}

void CallBridge::changed() {
  record_->updated_at = Clock::now();
  if (services_.record_changed) services_.record_changed(*record_);
}

}  // namespace concierge::host
