#pragma once
// The simulated-telephony provider: every call reaches a simulated restaurant that rings, answers, speaks real
// 8 kHz mu-law audio in 20 ms frames paced like a phone line (divided by speed_up), hears the agent's audio as a
// playback buffer played out at the same pace, and holds the restaurant's side of a booking conversation
// (restaurant_dialogue.hpp). Everything runs on the host's event loop (concierge::EventLoop: over the C boundary the
// host's, in tests an io_context's); no global state, so calls are independent.
#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "concierge/dtmf.hpp"
#include "concierge/log.hpp"
#include "concierge/event_loop.hpp"
#include "concierge/telephony.hpp"
#include "line_settings.hpp"
#include "restaurant_dialogue.hpp"

namespace concierge::sim {

class SimulatedTelephony : public TelephonyProvider {
 public:
  SimulatedTelephony(EventLoop& loop, std::shared_ptr<Logger> log, LineSettings settings);
  std::shared_ptr<CallLeg> place_call(const OutboundCall& call, std::shared_ptr<CallEvents> events) override;
  const LineSettings& settings() const { return *settings_; }

 private:
  EventLoop& loop_;
  std::shared_ptr<Logger> log_;
  std::shared_ptr<const LineSettings> settings_;
  std::shared_ptr<BookingLedger> ledger_;
  std::uint64_t seed_;  // the configured seed, or one drawn at start
  std::uint64_t calls_placed_ = 0;
};

// One simulated call. Public for tests, which drive it through the CallLeg interface like the host does.
class SimulatedCall : public CallLeg, public std::enable_shared_from_this<SimulatedCall> {
 public:
  SimulatedCall(EventLoop& loop, std::shared_ptr<const LineSettings> settings,
                std::shared_ptr<BookingLedger> ledger, std::shared_ptr<Logger> log, OutboundCall call,
                std::shared_ptr<CallEvents> events, std::string provider_call_id, std::uint64_t seed);

  void start();  // posts the first events; returns at once

  void send_audio(const AudioFrame& frame) override;
  void clear_audio() override;
  void hang_up() override;
  void on_simulated_agent_text(std::string_view text) override;

  const RestaurantDialogue& dialogue() const { return dialogue_; }

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kFrameBytes = 160;  // 20 ms of 8 kHz mu-law

  Clock::duration wall(std::chrono::microseconds simulated) const;
  std::uint64_t frames(std::chrono::milliseconds simulated) const;
  void after(std::chrono::milliseconds simulated, void (SimulatedCall::*step)());
  void on_timer();
  void on_dialed();
  void on_ring_timeout();
  void on_answered();
  void schedule_tick();
  void tick();
  void emit_frame();
  void say(std::string text, bool hang_up_after);
  void start_next_utterance();
  bool restaurant_talking() const;
  void finish(CallStatus status, std::string reason);
  void log(LogLevel level, const std::string& message) const;

  EventLoop& loop_;
  std::shared_ptr<const LineSettings> settings_;
  std::shared_ptr<Logger> log_;
  OutboundCall call_;
  std::shared_ptr<CallEvents> events_;
  std::string provider_call_id_;
  Scenario scenario_;
  RestaurantDialogue dialogue_;
  LoopTimer timer_;  // the dialling steps, then the media ticks: one at a time
  void (SimulatedCall::*timer_step_)() = nullptr;  // what timer_ runs when it fires

  bool answered_ = false;
  bool ended_ = false;

  // The media clock: frame n is due at media_start_ + n * 20 ms / speed_up, so pacing never drifts.
  Clock::time_point media_start_;
  std::uint64_t frame_index_ = 0;
  std::uint64_t frames_per_wake_ = 1;

  // The restaurant's speech.
  struct Utterance {
    std::string text;
    bool hang_up_after = false;
    double tone_hz = 0;  // > 0: a steady tone of tone_ms instead of speech (a voicemail beep); says no text
    int tone_ms = 0;
  };
  bool in_voicemail_ = false;    // Scenario::voicemail: greeting, beep, then recording
  bool recording_ = false;       // after the beep (or the greeting, on a machine without one)
  std::string voicemail_message_;  // what the caller said while recording
  std::deque<Utterance> to_say_;
  std::optional<Utterance> speaking_;
  std::vector<std::int16_t> pcm_scratch_;     // rendered speech, reused across utterances
  std::vector<std::uint8_t> utterance_mulaw_;  // the current utterance, encoded once
  std::size_t utterance_pos_ = 0;
  std::uint64_t speak_not_before_ = 0;  // frame index
  std::array<std::array<std::uint8_t, kFrameBytes>, 8> comfort_noise_{};
  std::array<std::uint8_t, kFrameBytes> out_frame_{};

  // The agent's audio as the restaurant hears it.
  std::vector<std::uint8_t> playback_;
  std::size_t playback_pos_ = 0;
  std::chrono::microseconds played_{0};
  std::chrono::microseconds heard_this_utterance_{0};
  int frames_since_progress_ = 0;
  bool progress_due_ = false;
  bool wrong_format_warned_ = false;

  // The conversation's clock-driven parts, all in frame indices.
  std::string pending_agent_text_;
  std::optional<std::uint64_t> reply_at_;
  std::optional<std::uint64_t> hang_up_at_;
  std::uint64_t last_activity_ = 0;  // last frame either side said something
  bool barge_in_done_ = false;
  bool greeted_ = false;

  // The phone-menu persona: the caller's audio through a DTMF detector while the menu answers.
  void on_key_heard(char key);
  // The menu read to the caller: the phone-menu persona's, or the dead end's (Scenario::menu_reaches_person).
  const std::string& menu_phrase() const {
    return scenario_.menu_reaches_person ? settings_->phrases.menu : settings_->phrases.menu_dead_end;
  }
  bool in_menu_ = false;
  int menu_readings_ = 0;
  dtmf::Detector keypad_{8000};
  std::array<std::int16_t, kFrameBytes> heard_pcm_{};
};

}  // namespace concierge::sim
