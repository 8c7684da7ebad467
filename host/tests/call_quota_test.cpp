// The per-token call limits with a clock the test moves: sliding windows (not calendar minutes), Retry-After never
// early and exact to the second, concurrency counted until calls end, 0 as "no limit", owners apart.
#include <gtest/gtest.h>

#include "call_quota.hpp"

using namespace concierge::host;
using namespace std::chrono_literals;

namespace {
const CallQuota::Clock::time_point t0{std::chrono::hours(1000)};

TEST(CallQuota, PerMinuteIsASlidingWindowAndRetryAfterIsNeverEarly) {
  CallQuota quota({.per_minute = 3, .per_hour = 0, .concurrent = 0});
  // Three calls at 0 s, 10.5 s and 59 s.
  for (auto at : {0ms, 10500ms, 59000ms}) {
    ASSERT_FALSE(quota.check("a", t0 + at)) << at.count();
    quota.placed("a", t0 + at);
    quota.ended("a");
  }
  // At 59.2 s the fourth is refused until the first leaves the window (60 s): 0.8 s, rounded up to 1.
  auto refusal = quota.check("a", t0 + 59200ms);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->limit, "calls_per_minute");
  EXPECT_EQ(refusal->retry_after, 1s);
  EXPECT_NE(refusal->message.find("3 calls in the last minute"), std::string::npos) << refusal->message;
  EXPECT_NE(refusal->message.find("calls.limits_per_token.per_minute 3"), std::string::npos) << refusal->message;
  // Until the first call is a whole minute old, and not a moment longer.
  EXPECT_TRUE(quota.check("a", t0 + 59999ms));
  EXPECT_FALSE(quota.check("a", t0 + 60s));
  quota.placed("a", t0 + 60s);
  // Now 10.5 s, 59 s, 60 s: a calendar minute would have reset at 60 s, the window has not. The next frees when
  // 10.5 s leaves, at 70.5 s; asked at 61 s that is 9.5 s, rounded up to 10.
  refusal = quota.check("a", t0 + 61s);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->retry_after, 10s);
  EXPECT_NE(refusal->message.find("try again in 10 seconds"), std::string::npos) << refusal->message;
  // A moment before the exact time is too early; the exact time, and so waiting what it said, is not.
  EXPECT_TRUE(quota.check("a", t0 + 70499ms));
  EXPECT_FALSE(quota.check("a", t0 + 70500ms));
  EXPECT_FALSE(quota.check("a", t0 + 61s + refusal->retry_after));
}

TEST(CallQuota, PerHourCountsCallsTheMinuteHasForgotten) {
  CallQuota quota({.per_minute = 2, .per_hour = 3, .concurrent = 0});
  quota.placed("a", t0);
  quota.placed("a", t0 + 2min);
  quota.placed("a", t0 + 4min);
  auto refusal = quota.check("a", t0 + 30min);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->limit, "calls_per_hour");
  EXPECT_EQ(refusal->retry_after, 30min);  // the call at 0 leaves the hour at 60 min
  EXPECT_TRUE(quota.check("a", t0 + 60min - 1ms));
  EXPECT_NE(refusal->message.find("try again in 1800 seconds"), std::string::npos) << refusal->message;
  EXPECT_FALSE(quota.check("a", t0 + 60min));
  // Both windows full: the hour's refusal, whose Retry-After also outlasts the minute's.
  CallQuota both({.per_minute = 1, .per_hour = 1, .concurrent = 0});
  both.placed("a", t0);
  EXPECT_EQ(both.check("a", t0 + 1s)->limit, "calls_per_hour");
  EXPECT_EQ(both.check("a", t0 + 1s)->retry_after, 3599s);
}

TEST(CallQuota, ConcurrentCallsCountUntilTheyEnd) {
  CallQuota quota({.per_minute = 0, .per_hour = 0, .concurrent = 2});
  quota.placed("a", t0);
  quota.placed("a", t0);
  auto refusal = quota.check("a", t0 + 1s);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->limit, "concurrent_calls");
  EXPECT_EQ(refusal->retry_after, CallQuota::kConcurrentRetryAfter);
  EXPECT_EQ(quota.active("a"), 2u);
  quota.ended("a");
  EXPECT_FALSE(quota.check("a", t0 + 1s));
  // An end never counted (a stray finish) does not go below zero or open extra room.
  quota.ended("a");
  quota.ended("a");
  EXPECT_EQ(quota.active("a"), 0u);
}

TEST(CallQuota, ZeroMeansNoLimitAndOwnersAreCountedApart) {
  CallQuota none({.per_minute = 0, .per_hour = 0, .concurrent = 0});
  for (int i = 0; i < 10000; ++i) none.placed("a", t0);
  EXPECT_FALSE(none.check("a", t0));

  CallQuota quota({.per_minute = 1, .per_hour = 0, .concurrent = 1});
  quota.placed("a", t0);
  EXPECT_TRUE(quota.check("a", t0 + 1s));
  EXPECT_FALSE(quota.check("b", t0 + 1s));  // another token has its own counts
}

TEST(CallQuota, ThousandsOfCallsInAnHourAreForgottenWhenTheyLeaveIt) {
  CallQuota quota({.per_minute = 1000000, .per_hour = 5, .concurrent = 0});
  for (int i = 0; i < 100000; ++i) quota.placed("a", t0 + std::chrono::milliseconds(i));
  ASSERT_TRUE(quota.check("a", t0 + 100s));
  // The five newest decide, and they leave the hour 3600 s after they came.
  EXPECT_EQ(quota.check("a", t0 + 100s)->retry_after, 3600s);  // 3599.995 s, rounded up
  EXPECT_FALSE(quota.check("a", t0 + 3600s + 100s));
}

}  // namespace
