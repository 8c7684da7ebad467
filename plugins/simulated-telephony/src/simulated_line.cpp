#include "simulated_line.hpp"

#include <random>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "concierge/mulaw.hpp"

namespace concierge::sim {
namespace {

using namespace std::chrono;

bool looks_like_e164(std::string_view number) {
  if (number.size() < 8 || number.size() > 16 || number[0] != '+' || number[1] == '0') return false;
  return std::all_of(number.begin() + 1, number.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

}  // namespace

// ---- SimulatedTelephony -----------------------------------------------------------------------------------------

namespace {
// Without a configured seed, confirmation numbers get a salt drawn once per daemon, so two runs do not hand out
// the same numbers; the availability draws keep their default seed (1), so a demo behaves the same way each run.
LineSettings with_code_salt(LineSettings settings) {
  settings.code_salt = settings.seed ? 0 : (static_cast<std::uint64_t>(std::random_device{}()) << 32 |
                                            std::random_device{}()) | 1;
  return settings;
}
}  // namespace

SimulatedTelephony::SimulatedTelephony(EventLoop& loop, std::shared_ptr<Logger> log, LineSettings settings)
    : loop_(loop),
      log_(std::move(log)),
      settings_(std::make_shared<const LineSettings>(with_code_salt(std::move(settings)))),
      ledger_(std::make_shared<BookingLedger>()),
      seed_(settings_->seed.value_or(1)) {}

std::shared_ptr<CallLeg> SimulatedTelephony::place_call(const OutboundCall& call,
                                                        std::shared_ptr<CallEvents> events) {
  ++calls_placed_;
  // Each call gets its own random stream from the restaurant's seed and the call's sequence number: a demo run
  // again with the same seed and the same calls in the same order hears the same restaurant.
  SplitMix64 mix(seed_ * 0x100000001b3ull + calls_placed_);
  const std::uint64_t call_seed = mix.next();
  char id[32];
  std::snprintf(id, sizeof id, "SIM-%06llu-%08llx", static_cast<unsigned long long>(calls_placed_),
                static_cast<unsigned long long>(call_seed >> 32));
  auto leg = std::make_shared<SimulatedCall>(loop_, settings_, ledger_, log_, call, std::move(events), id, call_seed);
  leg->start();
  return leg;
}

// ---- SimulatedCall ----------------------------------------------------------------------------------------------

SimulatedCall::SimulatedCall(EventLoop& loop, std::shared_ptr<const LineSettings> settings,
                             std::shared_ptr<BookingLedger> ledger, std::shared_ptr<Logger> log, OutboundCall call,
                             std::shared_ptr<CallEvents> events, std::string provider_call_id, std::uint64_t seed)
    : loop_(loop),
      settings_(std::move(settings)),
      log_(std::move(log)),
      call_(std::move(call)),
      events_(std::move(events)),
      provider_call_id_(std::move(provider_call_id)),
      scenario_(settings_->scenario_for(call_.to)),
      dialogue_(*settings_, scenario_, std::move(ledger), seed),
      timer_(loop, [this] { on_timer(); }) {
  std::array<std::int16_t, kFrameBytes> noise{};
  for (std::size_t i = 0; i < comfort_noise_.size(); ++i) {
    render_comfort_noise(seed + i, noise);
    mulaw::encode(noise, comfort_noise_[i]);
  }
  // At high speed-ups a 20 ms frame lasts well under a millisecond of wall time; waking the loop that often buys
  // nothing, so several frames go out per wake-up (each still stamped with its own media time).
  const double frame_wall_ms = 20.0 / settings_->speed_up;
  frames_per_wake_ = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(2.0 / frame_wall_ms));
  playback_.reserve(8000 * 30);  // 30 s of agent audio before the buffer ever grows
  utterance_mulaw_.reserve(8000 * 15);
  pcm_scratch_.reserve(8000 * 15);
}

void SimulatedCall::log(LogLevel level, const std::string& message) const {
  if (log_ && log_->enabled(level)) log_->write(level, "[" + call_.call_id + " " + provider_call_id_ + "] " + message);
}

SimulatedCall::Clock::duration SimulatedCall::wall(microseconds simulated) const {
  return duration_cast<Clock::duration>(duration<double, std::micro>(simulated.count() / settings_->speed_up));
}

std::uint64_t SimulatedCall::frames(milliseconds simulated) const {
  return static_cast<std::uint64_t>((simulated + kTelephonyFrameDuration - milliseconds(1)) / kTelephonyFrameDuration);
}

void SimulatedCall::after(milliseconds simulated, void (SimulatedCall::*step)()) {
  timer_step_ = step;
  timer_.start_after(wall(simulated));
}

// The timer's one handler (set once: re-arming it every frame allocates nothing). The timer is a member, so a call
// that fires is alive; `self` keeps it so while the step runs (a step may end the call).
void SimulatedCall::on_timer() {
  if (ended_) return;
  auto self = shared_from_this();
  (this->*timer_step_)();
}

void SimulatedCall::start() {
  // Posted, not called: the host gets the leg back from place_call before any event about it.
  loop_.post([self = shared_from_this()] {
    if (self->ended_) return;
    auto events = self->events_;
    events->on_provider_call_id(self->provider_call_id_);
    if (self->ended_) return;
    if (!looks_like_e164(self->call_.to)) {
      self->finish(CallStatus::failed, "invalid phone number \"" + self->call_.to + "\" (expected E.164, +15551234567)");
      return;
    }
    events->on_status({CallStatus::dialing, "", std::nullopt, ""});
    if (self->ended_) return;
    self->log(LogLevel::info, "dialing " + self->call_.to + " (scenario " +
                                  std::string(to_string(self->scenario_.outcome)) +
                                  (self->scenario_.barge_in ? ", barge-in" : "") + ")");
    self->after(self->settings_->dial, &SimulatedCall::on_dialed);
  });
}

void SimulatedCall::on_dialed() {
  switch (scenario_.outcome) {
    case ScenarioOutcome::busy: return finish(CallStatus::busy, "busy");
    case ScenarioOutcome::failed: return finish(CallStatus::failed, "the call could not be connected");
    default: break;
  }
  events_->on_status({CallStatus::ringing, "", std::nullopt, ""});
  if (ended_) return;
  const auto ring_timeout = duration_cast<milliseconds>(call_.ring_timeout);
  if (scenario_.outcome == ScenarioOutcome::no_answer || settings_->ring >= ring_timeout)
    after(ring_timeout, &SimulatedCall::on_ring_timeout);
  else
    after(settings_->ring, &SimulatedCall::on_answered);
}

void SimulatedCall::on_ring_timeout() { finish(CallStatus::no_answer, "no answer"); }

void SimulatedCall::on_answered() {
  answered_ = true;
  auto events = events_;
  // A machine is not announced: lines without answering-machine detection say nothing, so the caller must tell.
  events->on_status({CallStatus::in_progress, "", std::nullopt, scenario_.voicemail ? "unknown" : "human"});
  if (ended_) return;
  events->on_media_started(AudioFormat::mulaw_8k());
  if (ended_) return;
  media_start_ = Clock::now();
  frame_index_ = 0;
  // People pick up and speak after a breath, not on the first sample.
  speak_not_before_ = frames(settings_->answer_delay);
  if (scenario_.voicemail) {
    in_voicemail_ = true;
    say(dialogue_.phrase(settings_->phrases.voicemail_greeting), false);
    if (scenario_.voicemail_beep) to_say_.push_back({"", false, 1000.0, 500});
  } else if (scenario_.phone_menu) {
    in_menu_ = true;
    menu_readings_ = 1;
    say(dialogue_.phrase(menu_phrase()), false);
  } else {
    say(dialogue_.greeting(), false);
  }
  schedule_tick();
}

void SimulatedCall::schedule_tick() {
  const auto next_due = media_start_ + wall(microseconds((frame_index_ + frames_per_wake_ - 1) * 20'000));
  timer_step_ = &SimulatedCall::tick;
  timer_.start_at(next_due);
}

void SimulatedCall::tick() {
  auto keep_alive = shared_from_this();
  const auto now = Clock::now();
  // Catch up with every frame that is due (the loop may have been busy), but at most a second of media per wake so
  // one late call cannot starve the others on the loop.
  for (int sent = 0; sent < 50 && !ended_; ++sent) {
    if (media_start_ + wall(microseconds(frame_index_ * 20'000)) > now) break;
    emit_frame();
    ++frame_index_;
  }
  if (!ended_) schedule_tick();
}

bool SimulatedCall::restaurant_talking() const { return speaking_.has_value() || !to_say_.empty(); }

void SimulatedCall::say(std::string text, bool hang_up_after) {
  log(LogLevel::debug, "restaurant: " + text);
  to_say_.push_back({std::move(text), hang_up_after});
}

void SimulatedCall::start_next_utterance() {
  speaking_ = std::move(to_say_.front());
  to_say_.pop_front();
  // Rendering happens once per utterance (not per frame) into buffers that keep their capacity.
  pcm_scratch_.clear();
  if (speaking_->tone_hz > 0) {
    // A sine at -10 dBm0 with 5 ms ramps, as answering machines beep.
    const std::size_t n = static_cast<std::size_t>(speaking_->tone_ms) * 8;
    pcm_scratch_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const double ramp = std::min({1.0, i / 40.0, (n - i) / 40.0});
      pcm_scratch_[i] = static_cast<std::int16_t>(7200.0 * ramp * std::sin(2.0 * 3.14159265358979 * speaking_->tone_hz * i / 8000.0));
    }
  } else {
    render_speech(speaking_->text, settings_->voice, 8000, pcm_scratch_);
  }
  utterance_mulaw_.resize(pcm_scratch_.size());
  mulaw::encode(pcm_scratch_, utterance_mulaw_);
  utterance_pos_ = 0;
}

void SimulatedCall::emit_frame() {
  auto events = events_;
  const std::uint64_t now = frame_index_;

  // 1. The restaurant's side of this frame: speech when it is talking, line noise otherwise.
  if (!speaking_ && !to_say_.empty() && now >= speak_not_before_) start_next_utterance();
  bool utterance_ended = false;
  if (speaking_) {
    const std::size_t n = std::min(kFrameBytes, utterance_mulaw_.size() - utterance_pos_);
    std::copy_n(utterance_mulaw_.begin() + static_cast<std::ptrdiff_t>(utterance_pos_), n, out_frame_.begin());
    std::copy(comfort_noise_[now % comfort_noise_.size()].begin() + static_cast<std::ptrdiff_t>(n),
              comfort_noise_[now % comfort_noise_.size()].end(), out_frame_.begin() + static_cast<std::ptrdiff_t>(n));
    utterance_pos_ += n;
    utterance_ended = utterance_pos_ >= utterance_mulaw_.size();
  } else {
    out_frame_ = comfort_noise_[now % comfort_noise_.size()];
  }
  events->on_audio(AudioFrame{AudioFormat::mulaw_8k(), out_frame_, now * 20'000});
  if (ended_) return;
  if (utterance_ended) {
    Utterance finished = std::move(*speaking_);
    speaking_.reset();
    last_activity_ = now;
    // The next queued sentence follows after a short breath.
    speak_not_before_ = now + frames(milliseconds(300));
    if (!greeted_) greeted_ = true;
    if (finished.hang_up_after) hang_up_at_ = now + frames(settings_->hangup_after_goodbye);
    // The machine records from the end of its beep (or of its greeting, when it has none).
    if (in_voicemail_ && to_say_.empty()) recording_ = true;
    if (!finished.text.empty()) events->on_simulated_callee_text(finished.text);
    if (ended_) return;
  }

  // 2. The agent's side: play one frame of what the host sent.
  if (playback_pos_ < playback_.size()) {
    const std::size_t n = std::min(kFrameBytes, playback_.size() - playback_pos_);
    if (in_menu_) {  // a menu listens for keys, not words
      mulaw::decode(std::span<const std::uint8_t>(playback_.data() + playback_pos_, n),
                    std::span<std::int16_t>(heard_pcm_.data(), n));
      for (char key : keypad_.process(std::span<const std::int16_t>(heard_pcm_.data(), n))) on_key_heard(key);
    }
    playback_pos_ += n;
    played_ += microseconds(n * 125);  // 125 us per 8 kHz sample
    heard_this_utterance_ += microseconds(n * 125);
    last_activity_ = now;
    const bool drained = playback_pos_ >= playback_.size();
    if (drained) {
      playback_.clear();  // keeps its capacity
      playback_pos_ = 0;
    }
    // Twilio reports marks as they are played; every 100 ms and at the end of each burst is as useful and cheaper.
    if (drained || ++frames_since_progress_ >= 5) progress_due_ = true;
  }
  if (progress_due_) {
    progress_due_ = false;
    frames_since_progress_ = 0;
    events->on_playback_progress(played_);
    if (ended_) return;
  }
  const bool agent_audio_playing = playback_pos_ < playback_.size();

  // 3. Barge-in scenario: the restaurant talks over the agent's first request, once.
  if (scenario_.barge_in && !barge_in_done_ && greeted_ && agent_audio_playing &&
      dialogue_.state() == RestaurantDialogue::State::awaiting_request &&
      heard_this_utterance_ >= duration_cast<microseconds>(settings_->barge_in_after)) {
    barge_in_done_ = true;
    pending_agent_text_.clear();  // what the agent was saying is lost under the interruption
    reply_at_.reset();
    log(LogLevel::info, "barge-in: talking over the agent");
    say(dialogue_.interruption(), false);
    speak_not_before_ = now + 1;
  }

  // 4v. Voicemail hangs up after a silence once it has recorded (or after a longer one if nothing was said).
  if (in_voicemail_) {
    if (recording_ && !agent_audio_playing && !hang_up_at_ && now >= last_activity_ + frames(settings_->idle_prompt)) {
      log(LogLevel::info, voicemail_message_.empty() ? std::string("voicemail: nothing recorded")
                                                     : "voicemail: recorded \"" + voicemail_message_ + "\"");
      finish(CallStatus::completed, voicemail_message_.empty() ? "voicemail: no message" : "voicemail: message recorded");
    }
    return;
  }

  // 4. Answer the agent once its words have been heard, after the answer delay.
  if (!pending_agent_text_.empty()) {
    if (agent_audio_playing) {
      reply_at_.reset();  // still (or again) talking: wait for the end of it
    } else if (!reply_at_) {
      reply_at_ = now + frames(settings_->answer_delay);
    } else if (now >= *reply_at_ && !restaurant_talking()) {
      const std::string heard = std::move(pending_agent_text_);
      pending_agent_text_.clear();
      reply_at_.reset();
      auto reply = dialogue_.on_agent_text(heard);
      log(LogLevel::debug, "heard \"" + heard + "\" -> " + std::string(to_string(dialogue_.state())));
      if (!reply.text.empty()) say(std::move(reply.text), reply.hang_up_after);
    }
  }

  // 5. A menu reads itself again to a caller who presses nothing, and hangs up after the third time; a silent agent
  // gets prompted, and in the end hung up on.
  if (in_menu_ && !restaurant_talking() && !agent_audio_playing && !hang_up_at_ &&
      now >= last_activity_ + frames(settings_->idle_prompt)) {
    last_activity_ = now;
    pending_agent_text_.clear();
    if (++menu_readings_ > 3) {
      in_menu_ = false;
      say(dialogue_.phrase(settings_->phrases.menu_goodbye), true);
    } else {
      say(dialogue_.phrase(menu_phrase()), false);
    }
  }
  if (!in_menu_ && !restaurant_talking() && !agent_audio_playing && pending_agent_text_.empty() && !hang_up_at_ &&
      dialogue_.waiting_for_agent() && now >= last_activity_ + frames(settings_->idle_prompt)) {
    last_activity_ = now;
    auto reply = dialogue_.on_idle();
    if (!reply.text.empty()) say(std::move(reply.text), reply.hang_up_after);
  }

  // 6. The restaurant hangs up a while after its goodbye if the agent has not.
  if (hang_up_at_ && now >= *hang_up_at_ && !restaurant_talking()) finish(CallStatus::completed, "callee hung up");
}

void SimulatedCall::send_audio(const AudioFrame& frame) {
  if (!answered_ || ended_) return;
  if (frame.format != AudioFormat::mulaw_8k()) {
    if (!wrong_format_warned_) log(LogLevel::warning, "dropping agent audio in " + frame.format.to_string() +
                                                          ": the line carries mulaw/8000");
    wrong_format_warned_ = true;
    return;
  }
  if (playback_pos_ >= playback_.size()) heard_this_utterance_ = microseconds(0);  // a new burst of agent speech
  playback_.insert(playback_.end(), frame.bytes.begin(), frame.bytes.end());
}

void SimulatedCall::clear_audio() {
  if (!answered_ || ended_) return;
  playback_.clear();
  playback_pos_ = 0;
  // Reported with the next frame rather than from inside this call: clear_audio usually arrives in the middle of the
  // host handling one of our own events.
  progress_due_ = true;
}

void SimulatedCall::on_key_heard(char key) {
  log(LogLevel::info, std::string("phone menu: caller pressed ") + key);
  last_activity_ = frame_index_;
  if ((key == '1' || key == '0') && scenario_.menu_reaches_person) {
    in_menu_ = false;
    to_say_.clear();
    say(dialogue_.phrase(settings_->phrases.menu_connecting), false);
    say(dialogue_.greeting(), false);
    return;
  }
  if (key == '2') {
    say(dialogue_.phrase(settings_->phrases.menu_hours), false);
  } else if (key == '3' && !scenario_.menu_reaches_person) {
    say(dialogue_.phrase(settings_->phrases.menu_address), false);
  } else {
    say(dialogue_.phrase(settings_->phrases.menu_invalid), false);
  }
  say(dialogue_.phrase(menu_phrase()), false);
}

void SimulatedCall::on_simulated_agent_text(std::string_view text) {
  if (!answered_ || ended_ || text.empty()) return;
  last_activity_ = frame_index_;
  if (in_voicemail_) {  // a machine records, and only once its beep has sounded
    if (recording_) voicemail_message_ += (voicemail_message_.empty() ? "" : " ") + std::string(text);
    else log(LogLevel::debug, "voicemail: spoke over the greeting: \"" + std::string(text) + "\"");
    return;
  }
  if (in_menu_) {  // an automated menu does not understand speech
    log(LogLevel::debug, "phone menu: ignored speech \"" + std::string(text) + "\"");
    return;
  }
  if (restaurant_talking()) {
    // Words said over the restaurant are not understood, as on a real line; the agent will be asked again.
    log(LogLevel::debug, "talked over: \"" + std::string(text) + "\"");
    return;
  }
  if (!pending_agent_text_.empty()) pending_agent_text_ += ' ';
  pending_agent_text_ += text;
}

void SimulatedCall::hang_up() {
  if (ended_) return;
  finish(answered_ ? CallStatus::completed : CallStatus::canceled, "agent hung up");
}

void SimulatedCall::finish(CallStatus status, std::string reason) {
  if (ended_) return;
  ended_ = true;
  timer_.cancel();
  auto events = std::move(events_);  // no events after the final status, and no cycle with the host's objects
  std::optional<int> duration;
  if (answered_) duration = static_cast<int>((frame_index_ * 20 + 999) / 1000);
  log(LogLevel::info, std::string(to_string(status)) + ": " + reason);
  if (answered_) events->on_media_stopped(reason);
  events->on_status({status, std::move(reason), duration, ""});
}

}  // namespace concierge::sim
