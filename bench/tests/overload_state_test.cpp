// The overload decision (host/src/host_metrics.hpp): event-loop lag over the threshold refuses new calls, and keeps
// refusing for a second after the last such lag so that a daemon at its limit does not flap.
#include <gtest/gtest.h>

#include "host_metrics.hpp"

namespace {

using concierge::host::OverloadState;
using namespace std::chrono_literals;

TEST(OverloadState, SustainedLagOverloadsAndASecondBelowClearsIt) {
  OverloadState state;
  state.threshold_ms = 50;
  const auto t0 = OverloadState::Clock::time_point{} + 100s;
  EXPECT_FALSE(state.observe(0.2, t0));
  EXPECT_FALSE(state.observe(50, t0 + 10ms));  // at the threshold is not over it
  EXPECT_FALSE(state.observe(51, t0 + 20ms));  // one late tick: a descheduled process, not overload
  EXPECT_FALSE(state.observe(52, t0 + 80ms));
  EXPECT_FALSE(state.overloaded);
  EXPECT_FALSE(state.observe(1, t0 + 90ms));  // the run is broken
  EXPECT_FALSE(state.observe(60, t0 + 150ms));
  EXPECT_FALSE(state.observe(60, t0 + 210ms));
  EXPECT_TRUE(state.observe(60, t0 + 270ms));  // three in a row: overloaded (changed)
  EXPECT_TRUE(state.overloaded);
  EXPECT_DOUBLE_EQ(state.last_lag_ms, 60);
  EXPECT_FALSE(state.observe(1, t0 + 700ms));  // still held
  EXPECT_TRUE(state.overloaded);
  EXPECT_FALSE(state.observe(80, t0 + 1200ms));  // while overloaded, any late tick renews the hold
  EXPECT_FALSE(state.observe(1, t0 + 2100ms));
  EXPECT_TRUE(state.overloaded);
  EXPECT_TRUE(state.observe(1, t0 + 2201ms));  // a second after the last lag over the threshold: cleared
  EXPECT_FALSE(state.overloaded);
}

TEST(OverloadState, ZeroThresholdNeverOverloads) {
  OverloadState state;
  state.threshold_ms = 0;
  const auto t0 = OverloadState::Clock::time_point{} + 100s;
  EXPECT_FALSE(state.observe(10000, t0));
  EXPECT_FALSE(state.overloaded);
}

TEST(OverloadState, ABusyLoopOverloadsWithoutLagAndClearsASecondAfterItCalms) {
  OverloadState state;
  state.threshold_ms = 50;
  state.busy_threshold = 0.9;
  const auto t0 = OverloadState::Clock::time_point{} + 100s;
  auto at = t0;
  // Idle: 10 ms ticks costing 20 us of CPU each.
  for (int i = 0; i < 200; ++i, at += 10ms) {
    state.note_busy(20e-6, 0.01);
    EXPECT_FALSE(state.observe(1, at));
  }
  EXPECT_LT(state.busy, 0.01);
  // 95% busy, the timer still on time: the smoothed share crosses 90% after ~2.9 time constants (~0.9 s).
  int ticks_to_overload = 0;
  for (; ticks_to_overload < 1000 && !state.overloaded; ++ticks_to_overload, at += 10ms) {
    state.note_busy(0.0095, 0.01);
    state.observe(2, at);
  }
  EXPECT_TRUE(state.overloaded);
  EXPECT_GT(ticks_to_overload, 50);  // a short burst of work does not refuse calls
  EXPECT_LT(ticks_to_overload, 150);
  EXPECT_GT(state.busy, 0.9);
  // 85% busy: the share falls under 90% and, a second later, the refusals stop.
  for (int i = 0; i < 600 && state.overloaded; ++i, at += 10ms) {
    state.note_busy(0.0085, 0.01);
    state.observe(2, at);
  }
  EXPECT_FALSE(state.overloaded);
  EXPECT_LT(state.busy, 0.9);
}

TEST(OverloadState, BusyShareIsClampedAndZeroThresholdIsOff) {
  OverloadState state;
  state.threshold_ms = 0;
  state.busy_threshold = 0;
  const auto t0 = OverloadState::Clock::time_point{} + 100s;
  state.note_busy(5.0, 2.0);  // more CPU than wall time (a coarse clock) counts as 100%; 2 s > the window: all of it
  EXPECT_DOUBLE_EQ(state.busy, 1.0);
  EXPECT_FALSE(state.observe(1, t0));  // busy, but the threshold is off
  state.note_busy(0.01, 0);  // no wall time: ignored
  EXPECT_DOUBLE_EQ(state.busy, 1.0);
  state.note_busy(0, 0.03);  // a quiet 30 ms moves it a tenth of the way (0.03 s of a 0.3 s window)
  EXPECT_NEAR(state.busy, 0.9, 1e-12);
}

}  // namespace
