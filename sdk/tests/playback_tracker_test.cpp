// Where a barge-in truncates the agent's reply, with a clock the test controls.
#include <gtest/gtest.h>

#include "concierge/playback_tracker.hpp"

namespace concierge {
namespace {

using Clock = PlaybackTracker::Clock;
using std::chrono::microseconds;
using std::chrono::milliseconds;

const Clock::time_point t0 = Clock::time_point{} + std::chrono::hours(1);

void send_burst(PlaybackTracker& t, const char* item, int total_ms, Clock::time_point at, int chunk_ms = 100) {
  for (int sent = 0; sent < total_ms; sent += chunk_ms) t.on_audio_sent(item, milliseconds(chunk_ms), at);
}

TEST(PlaybackTracker, BurstFasterThanRealTimeIsCutAtTheTimeElapsed) {
  PlaybackTracker t;
  send_burst(t, "item_1", 2000, t0);
  EXPECT_TRUE(t.has_unplayed(t0 + milliseconds(500)));
  const auto cut = t.interrupt(t0 + milliseconds(500));
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->item_id, "item_1");
  EXPECT_EQ(cut->audio_end_ms, 500);
  EXPECT_EQ(cut->sent, milliseconds(2000));
  // The line dropped the rest: the timeline continues from what was heard.
  EXPECT_EQ(t.timeline(), milliseconds(500));
  EXPECT_TRUE(t.current_item().empty());
  EXPECT_FALSE(t.interrupt(t0 + milliseconds(600)));  // nothing left to cut
}

TEST(PlaybackTracker, NeverPastTheAudioSent) {
  PlaybackTracker t;
  t.on_audio_sent("item_1", microseconds(300'700), t0);
  // Everything played: no barge-in to make.
  EXPECT_FALSE(t.interrupt(t0 + milliseconds(400)));
  PlaybackTracker slow;  // audio arrives slower than real time: the line ran dry in between
  slow.on_audio_sent("item_1", milliseconds(100), t0);
  slow.on_audio_sent("item_1", milliseconds(100), t0 + milliseconds(300));
  const auto cut = slow.interrupt(t0 + milliseconds(350));
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->audio_end_ms, 150);  // 100 ms, a gap, then 50 ms of the second chunk
}

TEST(PlaybackTracker, RoundsDown) {
  PlaybackTracker t;
  t.on_audio_sent("item_1", milliseconds(1000), t0);
  const auto cut = t.interrupt(t0 + microseconds(123'999));
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->audio_end_ms, 123);
}

TEST(PlaybackTracker, InterruptedBeforeAnythingPlayed) {
  PlaybackTracker t;
  t.on_audio_sent("item_1", milliseconds(1000), t0);
  const auto cut = t.interrupt(t0);
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->audio_end_ms, 0);
}

TEST(PlaybackTracker, AnItemQueuedBehindEarlierAudioStartsWhenTheLineReachesIt) {
  PlaybackTracker t;
  t.on_audio_sent("item_a", milliseconds(1000), t0);
  t.on_audio_sent("item_b", milliseconds(1000), t0 + milliseconds(100));  // still 900 ms of item_a in front
  const auto cut = t.interrupt(t0 + milliseconds(1300));
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->item_id, "item_b");
  EXPECT_EQ(cut->audio_end_ms, 300);
}

TEST(PlaybackTracker, TheLinesReportsTightenTheEstimate) {
  PlaybackTracker t;
  send_burst(t, "item_1", 2000, t0);
  // The line buffered: 400 ms after sending, only 200 ms have been heard.
  t.on_playback_progress(milliseconds(200), t0 + milliseconds(400));
  const auto cut = t.interrupt(t0 + milliseconds(500));
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->audio_end_ms, 300);  // 200 heard + 100 since the report, not the 500 ms elapsed
}

TEST(PlaybackTracker, ReportsAreMeasuredFromTheItemsStartOnTheTimeline) {
  PlaybackTracker t;
  t.on_audio_sent("item_a", milliseconds(1000), t0);
  t.on_playback_progress(milliseconds(1000), t0 + milliseconds(1000));  // item_a fully heard
  send_burst(t, "item_b", 2000, t0 + milliseconds(2000));
  t.on_playback_progress(milliseconds(1250), t0 + milliseconds(2400));  // 250 ms of item_b heard
  t.on_playback_progress(milliseconds(1100), t0 + milliseconds(2410));  // a stale report is ignored
  const auto cut = t.interrupt(t0 + milliseconds(2450));
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->audio_end_ms, 300);
}

TEST(PlaybackTracker, AfterABargeInTheNextItemStartsWhereTheCalleeStoppedHearing) {
  PlaybackTracker t;
  send_burst(t, "item_a", 2000, t0);
  ASSERT_TRUE(t.interrupt(t0 + milliseconds(700)));
  EXPECT_EQ(t.timeline(), milliseconds(700));
  send_burst(t, "item_b", 1000, t0 + milliseconds(800));  // plays at once: the line was cleared
  t.on_playback_progress(milliseconds(900), t0 + milliseconds(1000));  // 200 ms of item_b heard
  const auto cut = t.interrupt(t0 + milliseconds(1000));
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->item_id, "item_b");
  EXPECT_EQ(cut->audio_end_ms, 200);
}

}  // namespace
}  // namespace concierge
