#include "concierge/playback_tracker.hpp"

#include <algorithm>

namespace concierge {

void PlaybackTracker::on_audio_sent(std::string_view item_id, Micros duration, Clock::time_point now) {
  const Clock::time_point start = std::max(now, line_busy_until_);
  if (item_id != item_id_) {
    item_id_.assign(item_id.data(), item_id.size());
    item_sent_ = Micros{0};
    item_timeline_start_ = timeline_;
  }
  item_sent_ += duration;
  timeline_ += duration;
  line_busy_until_ = start + duration;
}

void PlaybackTracker::on_playback_progress(Micros played, Clock::time_point now) {
  if (!played_ || played >= *played_) {  // reports only move forward; a stale one is ignored
    played_ = played;
    played_at_ = now;
  }
}

PlaybackTracker::Micros PlaybackTracker::heard(Clock::time_point now) const {
  if (item_id_.empty()) return Micros{0};
  // Upper bound: the line plays in order at 1x, so what it still holds is what it will take until it runs dry; of
  // that, whatever belongs to this item (the item is last in line) has not been heard. This also covers audio that
  // arrived slower than real time (the line ran dry in between) and an item queued behind earlier audio.
  const Micros queued =
      line_busy_until_ > now ? std::chrono::duration_cast<Micros>(line_busy_until_ - now) : Micros{0};
  Micros bound = item_sent_ - std::min(item_sent_, queued);
  if (played_) {
    // The line's last report can only have advanced at 1x since it was made: another upper bound, and the tighter
    // one when the line buffers (Twilio holds seconds of audio) or started the item late.
    const Micros by_report =
        *played_ + std::chrono::duration_cast<Micros>(now - played_at_) - item_timeline_start_;
    bound = std::min(bound, by_report);
  }
  return std::max(bound, Micros{0});
}

std::optional<PlaybackTracker::Cut> PlaybackTracker::interrupt(Clock::time_point now) {
  if (item_id_.empty()) return std::nullopt;
  const Micros heard_now = heard(now);
  if (heard_now >= item_sent_) return std::nullopt;
  Cut cut;
  cut.item_id = item_id_;
  cut.sent = item_sent_;
  // Whole milliseconds, rounded down: never past the end of what the server generated.
  cut.audio_end_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(heard_now).count());
  // The line drops what was not heard: the timeline continues from where the callee stopped hearing.
  timeline_ = item_timeline_start_ + heard_now;
  line_busy_until_ = now;
  item_id_.clear();
  item_sent_ = Micros{0};
  return cut;
}

}  // namespace concierge
