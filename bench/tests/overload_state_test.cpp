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

}  // namespace
