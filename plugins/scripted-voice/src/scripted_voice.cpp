#include "scripted_voice.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "concierge/mulaw.hpp"

namespace concierge::scripted {
namespace {

using namespace std::chrono;

// How long the turn detector waits for the callee's audio to go quiet after their words arrived before answering
// anyway (the side-channel text can come without audio, e.g. from a test).
constexpr milliseconds kTurnEndFallback{1500};
// After its audio should have finished playing, the callee may still hear a little of it (network and jitter
// buffers); speech starting inside this margin still counts as talking over the agent.
constexpr milliseconds kPlayoutSlack{200};

std::string cut_at_words(std::string_view text, std::size_t max_chars) {
  if (max_chars >= text.size()) return std::string(text);
  const std::size_t end = text.rfind(' ', max_chars);
  return end == std::string_view::npos ? std::string() : std::string(text.substr(0, end));
}

}  // namespace

// ---- ScriptedVoiceModel -----------------------------------------------------------------------------------------

ScriptedVoiceModel::ScriptedVoiceModel(EventLoop& loop, std::shared_ptr<Logger> log, VoiceSettings settings)
    : loop_(loop), log_(std::move(log)), settings_(std::make_shared<const VoiceSettings>(std::move(settings))) {}

std::shared_ptr<VoiceSession> ScriptedVoiceModel::open_session(const VoiceSessionConfig& config,
                                                               std::shared_ptr<VoiceSessionEvents> events) {
  auto session = std::make_shared<ScriptedVoiceSession>(loop_, settings_, log_, config, std::move(events));
  session->start();
  return session;
}

// ---- ScriptedVoiceSession ---------------------------------------------------------------------------------------

ScriptedVoiceSession::ScriptedVoiceSession(EventLoop& loop, std::shared_ptr<const VoiceSettings> settings,
                                           std::shared_ptr<Logger> log, const VoiceSessionConfig& config,
                                           std::shared_ptr<VoiceSessionEvents> events)
    : loop_(loop),
      settings_(std::move(settings)),
      log_(std::move(log)),
      call_id_(config.call_id),
      task_json_(config.task),
      events_(std::move(events)),
      speech_timer_(loop, [this] { on_speech_timer(); }),
      silence_timer_(loop),
      turn_timer_(loop),
      vad_(sim::EnergyVad::Settings{settings_->vad_threshold_dbfs, milliseconds(40), milliseconds(400)}) {
  for (const auto& tool : config.tools) tools_.insert(tool.name);
  const auto rate = settings_->output_format.sample_rate;
  chunk_bytes_ = static_cast<std::size_t>(rate * settings_->chunk.count() / 1000) *
                 settings_->output_format.bytes_per_sample();
  pcm_.reserve(rate * 15);
  encoded_.reserve(rate * 15 * 2);
  decoded_.resize(4800);  // grows to the largest input frame seen (100 ms at 48 kHz would be 4800 samples)
}

void ScriptedVoiceSession::log(LogLevel level, const std::string& message) const {
  if (log_ && log_->enabled(level)) log_->write(level, "[" + call_id_ + "] " + message);
}

ScriptedVoiceSession::Clock::duration ScriptedVoiceSession::wall(microseconds simulated) const {
  return duration_cast<Clock::duration>(duration<double, std::micro>(simulated.count() / settings_->speed_up));
}

void ScriptedVoiceSession::start() {
  // The task is read here so a session that cannot follow it fails with a message, not an exception in the host.
  std::string problem;
  try {
    policy_.emplace(ReservationTask::from_json(task_json_), settings_->max_misunderstandings);
  } catch (const std::exception& error) {
    problem = error.what();
  }
  for (std::string_view tool : {"confirm_reservation", "end_call"})
    if (problem.empty() && !tools_.contains(tool))
      log(LogLevel::warning, "the agent offers no " + std::string(tool) + " tool; that step will be skipped");
  loop_.post([self = shared_from_this(), problem] {
    if (self->closed_) return;
    if (!problem.empty()) {
      auto events = self->events_;
      self->close();
      events->on_error("scripted-voice cannot follow this call's task: " + problem, true);
      return;
    }
    self->events_->on_ready();
    if (!self->closed_) self->arm_silence_timer();
  });
}

void ScriptedVoiceSession::close() {
  if (closed_) return;
  closed_ = true;
  speech_timer_.cancel();
  silence_timer_.cancel();
  turn_timer_.cancel();
  events_.reset();
}

// ---- the callee's side ------------------------------------------------------------------------------------------

void ScriptedVoiceSession::send_audio(const AudioFrame& frame) {
  if (closed_ || frame.bytes.empty()) return;
  std::span<const std::int16_t> samples;
  if (frame.format.encoding == AudioEncoding::mulaw) {
    if (decoded_.size() < frame.bytes.size()) decoded_.resize(frame.bytes.size());  // once, to the largest frame
    const std::size_t n = mulaw::decode(frame.bytes, decoded_);
    samples = {decoded_.data(), n};
  } else {
    samples = frame.pcm16();
  }
  if (!beep_ || beep_->sample_rate() != frame.format.sample_rate) beep_.emplace(frame.format.sample_rate);
  if (beep_->process(samples) && policy_ && policy_->stage() == DialoguePolicy::Stage::voicemail) {
    log(LogLevel::info, "voicemail beep heard (" + std::to_string(static_cast<int>(beep_->last_beep_hz())) + " Hz)");
    for (auto& action : policy_->on_beep()) plan_.push_back(std::move(action));
    // Spoken once the beep has ended (the VAD hears it as sound), as after any turn of the callee's.
    if (vad_.speaking()) waiting_for_turn_end_ = true;
    else run_plan();
  }
  const auto event = vad_.process(samples, frame.format.sample_rate);
  if (event == sim::EnergyVad::Event::none) return;
  auto events = events_;
  if (event == sim::EnergyVad::Event::speech_started) {
    callee_stopped_at_.reset();
    silence_timer_.cancel();
    events->on_callee_speech_started();
    if (!closed_ && talking()) interrupt();
    return;
  }
  callee_stopped_at_ = Clock::now();
  events->on_callee_speech_stopped();
  if (closed_) return;
  arm_silence_timer();
  if (waiting_for_turn_end_) {
    waiting_for_turn_end_ = false;
    turn_timer_.cancel();
    run_plan();
  }
}

void ScriptedVoiceSession::on_simulated_callee_text(std::string_view text) {
  if (closed_ || !policy_) return;
  events_->on_transcript(Speaker::callee, text);
  if (closed_) return;
  arm_silence_timer();
  Plan plan = policy_->on_callee_text(text);
  log(LogLevel::debug, "callee: \"" + std::string(text) + "\" -> " + std::string(to_string(policy_->stage())));
  for (auto& action : plan) plan_.push_back(std::move(action));
  // Like a realtime model, answer when the callee's turn has ended by the VAD, not the moment the words are known.
  if (vad_.speaking()) {
    waiting_for_turn_end_ = true;
    turn_timer_.start_after(wall(kTurnEndFallback), [weak = weak_from_this()] {
      auto self = weak.lock();
      if (!self || self->closed_ || !self->waiting_for_turn_end_) return;
      self->waiting_for_turn_end_ = false;
      self->run_plan();
    });
    return;
  }
  run_plan();
}

void ScriptedVoiceSession::on_playback_progress(microseconds played) {
  last_progress_ = played;
  progress_seen_ = true;
}

// ---- the plan ---------------------------------------------------------------------------------------------------

void ScriptedVoiceSession::run_plan() {
  while (!closed_ && !busy_ && !waiting_for_turn_end_ && !plan_.empty()) {
    Action action = std::move(plan_.front());
    plan_.pop_front();
    if (action.kind == Action::Kind::say) {
      busy_ = true;
      begin_say(std::move(action.text));
      return;
    }
    if (!tools_.contains(action.tool)) continue;  // warned about at start
    busy_ = true;
    pending_tool_ = ToolCall{"scripted-call-" + std::to_string(++tool_calls_), action.tool, action.arguments};
    log(LogLevel::info, "tool call " + action.tool + " " + action.arguments.dump());
    const ToolCall call = *pending_tool_;
    events_->on_tool_call(call);
    return;
  }
}

void ScriptedVoiceSession::send_tool_result(const ToolCall& call, const ToolResult& result) {
  if (closed_ || !pending_tool_ || call.id != pending_tool_->id) {
    log(LogLevel::warning, "ignoring a result for unknown tool call \"" + call.id + "\"");
    return;
  }
  // Continued from the loop, not from inside the host's call: the host may be answering from within on_tool_call.
  loop_.post([self = shared_from_this(), name = pending_tool_->name, output = result.output] {
    if (self->closed_) return;
    self->pending_tool_.reset();
    self->busy_ = false;
    for (auto& action : self->policy_->on_tool_result(name, output)) self->plan_.push_back(std::move(action));
    self->run_plan();
  });
}

// ---- speaking ---------------------------------------------------------------------------------------------------

void ScriptedVoiceSession::begin_say(std::string text) {
  const auto asked = Clock::now();  // the latency runs from here, not from after rendering
  saying_ = std::move(text);
  const AudioFormat format = settings_->output_format;
  pcm_.clear();
  sim::render_speech(saying_, settings_->voice, format.sample_rate, pcm_);
  utterance_duration_ = microseconds(pcm_.size() * 1'000'000ull / format.sample_rate);
  // Encoded once per utterance into a buffer that keeps its capacity; chunks are views into it.
  encoded_.resize(pcm_.size() * format.bytes_per_sample());
  if (format.encoding == AudioEncoding::mulaw) mulaw::encode(pcm_, encoded_);
  else std::memcpy(encoded_.data(), pcm_.data(), encoded_.size());  // little-endian on every supported platform
  encoded_pos_ = 0;
  chunks_sent_ = 0;
  generating_ = true;
  utterance_heard_start_ = heard_target_;
  // A realtime model takes a moment to start answering, then streams faster than real time.
  generation_start_ = asked + wall(duration_cast<microseconds>(settings_->response_latency));
  schedule_chunk();
}

void ScriptedVoiceSession::schedule_chunk() {
  // Chunk k is due at generation_start + k * chunk / generation_speed: scheduled from the start, so no drift.
  const auto chunk_us = duration_cast<microseconds>(settings_->chunk);
  speech_timer_.start_at(generation_start_ + wall(microseconds(static_cast<long long>(
                                                  chunks_sent_ * chunk_us.count() / settings_->generation_speed))));
}

// speech_timer_'s one handler (set once: re-arming it for every chunk allocates nothing). The timer is a member, so
// a session whose timer fires is alive; `self` keeps it so while the chunk goes out.
void ScriptedVoiceSession::on_speech_timer() {
  if (closed_ || !generating_) return;
  auto self = shared_from_this();
  emit_chunk();
}

void ScriptedVoiceSession::emit_chunk() {
  const AudioFormat format = settings_->output_format;
  const std::size_t n = std::min(chunk_bytes_, encoded_.size() - encoded_pos_);
  const AudioFrame frame{format, std::span<const std::uint8_t>(encoded_.data() + encoded_pos_, n),
                         output_samples_ * 1'000'000ull / format.sample_rate};
  const auto samples = n / format.bytes_per_sample();
  const auto chunk_duration = microseconds(samples * 1'000'000ull / format.sample_rate);
  output_samples_ += samples;
  encoded_pos_ += n;
  const auto now = Clock::now();
  playout_end_ = std::max(playout_end_, now) + wall(chunk_duration);
  heard_target_ += chunk_duration;
  auto events = events_;
  if (chunks_sent_++ == 0 && callee_stopped_at_) {
    VoiceMetrics metrics;
    metrics.response_latency =
        duration_cast<microseconds>(duration<double, std::micro>(
            duration_cast<duration<double, std::micro>>(now - *callee_stopped_at_).count() * settings_->speed_up));
    callee_stopped_at_.reset();
    events->on_metrics(metrics);
    if (closed_) return;
  }
  events->on_audio(frame);
  if (closed_ || !generating_) return;  // the host may have closed us, or the callee interrupted, meanwhile
  if (encoded_pos_ < encoded_.size()) schedule_chunk();
  else finish_say();
}

void ScriptedVoiceSession::finish_say() {
  generating_ = false;
  busy_ = false;
  last_said_ = saying_;
  events_->on_transcript(Speaker::agent, saying_);
  if (closed_) return;
  arm_silence_timer();
  run_plan();
}

bool ScriptedVoiceSession::talking() const {
  if (generating_ && chunks_sent_ > 0) return true;
  if (Clock::now() >= playout_end_ + wall(duration_cast<microseconds>(kPlayoutSlack))) return false;
  // The line says everything we sent has been heard: not talking any more, whatever the estimate says.
  return !(progress_seen_ && last_progress_ >= heard_target_);
}

void ScriptedVoiceSession::interrupt() {
  const auto now = Clock::now();
  auto events = events_;
  if (generating_ && chunks_sent_ == 0) {
    // Nothing said yet: the callee simply is not done. Say it when their turn ends.
    speech_timer_.cancel();
    generating_ = false;
    busy_ = false;
    plan_.push_front(Action::say(saying_));
    waiting_for_turn_end_ = true;
    return;
  }
  const bool was_generating = generating_;
  const std::string cut = was_generating ? saying_ : last_said_;
  speech_timer_.cancel();
  generating_ = false;
  busy_ = false;
  // How much of the utterance the callee heard: the line's report when there is one, else the wall clock.
  microseconds heard = progress_seen_ ? last_progress_ - utterance_heard_start_
                                      : duration_cast<microseconds>(duration<double, std::micro>(
                                            duration_cast<duration<double, std::micro>>(now - generation_start_)
                                                .count() *
                                            settings_->speed_up));
  heard = std::clamp(heard, microseconds(0), utterance_duration_);
  heard_target_ = utterance_heard_start_ + heard;
  playout_end_ = now;
  log(LogLevel::info, "interrupted after " + std::to_string(heard.count() / 1000) + " ms of \"" + cut + "\"");
  events->on_interruption();
  if (closed_) return;
  if (was_generating) {
    // The transcript of an interrupted utterance holds what the callee heard, as a realtime model's truncation does.
    const auto chars = static_cast<std::size_t>(cut.size() * (static_cast<double>(heard.count()) /
                                                              std::max<long long>(1, utterance_duration_.count())));
    const std::string heard_text = cut_at_words(cut, chars);
    if (!heard_text.empty()) {
      events->on_transcript(Speaker::agent, heard_text + "...");
      if (closed_) return;
    }
  }
  policy_->on_interrupted(cut);
  // Whatever was planned after the cut words waits for the callee; only tool calls survive (an end_call after an
  // interrupted goodbye still ends the call).
  std::erase_if(plan_, [](const Action& a) { return a.kind == Action::Kind::say; });
  waiting_for_turn_end_ = true;
}

// ---- silence ----------------------------------------------------------------------------------------------------

void ScriptedVoiceSession::arm_silence_timer() {
  const auto until = std::max(playout_end_, Clock::now()) + wall(duration_cast<microseconds>(settings_->silence_timeout));
  silence_timer_.start_at(until, [weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self || self->closed_) return;
    self->on_silence();
  });
}

void ScriptedVoiceSession::on_silence() {
  if (busy_ || pending_tool_ || vad_.speaking() || talking() || !plan_.empty()) return arm_silence_timer();
  for (auto& action : policy_->on_silence()) plan_.push_back(std::move(action));
  run_plan();
  if (!closed_) arm_silence_timer();
}

}  // namespace concierge::scripted
