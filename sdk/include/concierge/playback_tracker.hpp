#pragma once
// How much of the agent's current reply the callee has heard: whether any of it is still unplayed on the line when the
// callee starts talking (a barge-in), and the number a barge-in truncates the reply at. Shared by the voice-model
// plugins (openai-realtime, openai-live); plain data, no threads: the plugin calls it on the host's event loop.
//
// Voice models produce audio faster than real time, so when the callee starts talking the line usually still holds
// seconds of reply nobody has heard. OpenAI Realtime's conversation.item.truncate tells the model where the callee
// stopped hearing; audio_end_ms past the audio the item has is refused by the server, and an estimate that is too large
// makes the model believe it said things that were never heard. Three facts bound the true value:
//   - the audio handed to the line for this item (nothing more can have been played);
//   - real time: the line plays in order at 1x, so at any moment it still holds (time it will take to run dry) of
//     audio; the item's share of that has not been heard (this covers a burst sent faster than real time, audio
//     that arrived slower than real time, and an item queued behind earlier audio);
//   - the line's own playback reports (Twilio marks): the position reported, plus at most 1x since the report, is
//     another upper bound, and the tighter one when the line buffers or started late.
// The tracker keeps its own "agent audio timeline" (total agent audio handed to the line, minus what barge-ins
// discarded), which is the timeline CallEvents::on_playback_progress counts in.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace concierge {

class PlaybackTracker {
 public:
  using Clock = std::chrono::steady_clock;
  using Micros = std::chrono::microseconds;

  struct Cut {
    std::string item_id;
    int audio_end_ms = 0;  // what the callee heard of the item, never more than was sent
    Micros sent{0};        // how much of the item had been handed to the line
  };

  // A chunk of agent audio for `item_id` was handed to the line at `now`.
  void on_audio_sent(std::string_view item_id, Micros duration, Clock::time_point now);
  // The line reports that `played` of agent audio (on the tracker's timeline) has been heard.
  void on_playback_progress(Micros played, Clock::time_point now);

  // What the callee has heard of the current item at `now` (0 when there is none).
  Micros heard(Clock::time_point now) const;
  bool has_unplayed(Clock::time_point now) const { return !item_id_.empty() && heard(now) < item_sent_; }

  // The callee barged in: when the current item still has unplayed audio, returns where to truncate it and forgets
  // the unplayed rest (the line drops it). Returns nullopt when everything sent has been heard.
  std::optional<Cut> interrupt(Clock::time_point now);

  const std::string& current_item() const { return item_id_; }
  Micros timeline() const { return timeline_; }

 private:
  std::string item_id_;
  Micros item_sent_{0};
  Micros item_timeline_start_{0};        // timeline position of the item's first sample
  Micros timeline_{0};
  Clock::time_point line_busy_until_{};  // when everything handed to the line will have played, at 1x
  std::optional<Micros> played_;
  Clock::time_point played_at_{};
};

}  // namespace concierge
