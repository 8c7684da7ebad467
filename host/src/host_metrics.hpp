#pragma once
// Daemon-wide counters and histograms, rendered in Prometheus' text format by the call manager. Updated only on the
// event loop, so plain integers suffice.
#include <array>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace concierge::host {

template <std::size_t N>
struct Histogram {
  std::array<double, N> bounds;  // upper bounds, ascending
  std::array<std::uint64_t, N> buckets{};  // non-cumulative counts; +Inf is count - sum of buckets
  std::uint64_t count = 0;
  double sum = 0;
  double max = 0;

  void observe(double value) {
    ++count;
    sum += value;
    if (value > max) max = value;
    for (std::size_t i = 0; i < N; ++i)
      if (value <= bounds[i]) {
        ++buckets[i];
        return;
      }
  }

  void render(std::string& out, std::string_view name, std::string_view help, std::string_view labels = {}) const {
    const std::string n(name);
    const std::string sep = labels.empty() ? "" : ",";
    out += "# HELP " + n + " " + std::string(help) + "\n# TYPE " + n + " histogram\n";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < N; ++i) {
      cumulative += buckets[i];
      char bound[32];
      std::snprintf(bound, sizeof bound, "%g", bounds[i]);
      out += n + "_bucket{" + std::string(labels) + sep + "le=\"" + bound + "\"} " + std::to_string(cumulative) + "\n";
    }
    out += n + "_bucket{" + std::string(labels) + sep + "le=\"+Inf\"} " + std::to_string(count) + "\n";
    const std::string l = labels.empty() ? "" : "{" + std::string(labels) + "}";
    out += n + "_sum" + l + " " + std::to_string(sum) + "\n";
    out += n + "_count" + l + " " + std::to_string(count) + "\n";
  }
};

// Whether the daemon is over its limit (main.cpp feeds it from a 10 ms timer on the event loop). Overloaded, the
// daemon refuses new calls, and keeps doing so for a second after the last sign of it so that it does not flap
// while the load sits at the limit. The calls it already has carry on: refusing new ones keeps their audio on time.
// Two signals, either one overloads:
//  - lag: the timer ran over threshold_ms late kSustain ticks in a row. A saturated loop is late on every tick,
//    while one late tick is the process being descheduled on a busy machine, which refusing calls would not help.
//    Catches a loop that cannot keep up whatever the reason, including a thread waiting to be scheduled.
//  - busy: the share of wall time the loop's thread spends working (its CPU time), smoothed over ~0.3 s, is over
//    busy_threshold. Lag alone reacts late: a loop at 95% still answers its timer within a few ms most of the time,
//    while every frame already queues behind other calls' work now and then (measured: 1,500 resampled calls kept
//    the lag under 50 ms but put every call's p99 at 30 ms). A one-second average let a ramp of 400 calls a second
//    overshoot by ~900 calls; at 0.3 s, 1,250 offered at that rate left 1,142 carried (p50 0.4 ms), 108 refused.
struct OverloadState {
  using Clock = std::chrono::steady_clock;
  static constexpr auto kHold = std::chrono::seconds(1);
  static constexpr int kSustain = 3;
  static constexpr double kBusyWindowSeconds = 0.3;
  double threshold_ms = 50;     // 0: lag never overloads
  double busy_threshold = 0.9;  // 0: busy never overloads
  bool overloaded = false;      // as of the last observation
  double last_lag_ms = 0;
  double busy = 0;              // smoothed busy share, 0..1
  int late_in_a_row = 0;
  Clock::time_point until{};

  // The loop's thread worked `cpu_seconds` of the last `wall_seconds`: folded into `busy` (exponential average with
  // a time constant of kBusyWindowSeconds, so that long at full load moves it ~63% of the way).
  void note_busy(double cpu_seconds, double wall_seconds) {
    if (wall_seconds <= 0) return;
    const double share = std::clamp(cpu_seconds / wall_seconds, 0.0, 1.0);
    busy += (share - busy) * std::min(1.0, wall_seconds / kBusyWindowSeconds);
  }

  // Returns true when the state changed.
  bool observe(double lag_ms, Clock::time_point now) {
    last_lag_ms = lag_ms;
    late_in_a_row = threshold_ms > 0 && lag_ms > threshold_ms ? late_in_a_row + 1 : 0;
    const bool too_busy = busy_threshold > 0 && busy > busy_threshold;
    if (late_in_a_row >= kSustain || (overloaded && late_in_a_row > 0) || too_busy) until = now + kHold;
    const bool was = overloaded;
    overloaded = now < until;
    return overloaded != was;
  }
};

struct HostMetrics {
  std::uint64_t frames_from_line = 0;
  std::uint64_t frames_to_line = 0;
  std::uint64_t frames_to_voice = 0;
  std::uint64_t frames_from_voice = 0;
  std::uint64_t errors = 0;
  std::uint64_t calls_refused_capacity = 0;
  std::uint64_t calls_refused_overload = 0;  // new calls and media streams refused while overloaded
  std::uint64_t api_unauthorized = 0;        // control-API requests refused with 401 (no or a wrong token)
  std::uint64_t calls_refused_destination = 0;  // POST /calls refused by the provider's destination policy
  // POST /calls refused with 429 by a credential's limits (call_quota.hpp), by the limit that refused.
  struct QuotaRefusals {
    std::uint64_t calls_per_minute = 0, calls_per_hour = 0, concurrent_calls = 0;
    std::uint64_t& operator[](std::string_view limit) {
      return limit == "calls_per_minute" ? calls_per_minute : limit == "calls_per_hour" ? calls_per_hour
                                                                                        : concurrent_calls;
    }
  } calls_refused_quota;
  // Outbound calls placed whose media stream has not connected yet: while there are any, an overloaded daemon
  // still accepts WebSocket upgrades (the stream may be one of them; an inbound one is refused at its start).
  std::int64_t calls_awaiting_media = 0;
  // The HTTP server's connections (copied from it on every tick of the lag timer): open now, and refused or shed
  // so far (over server.max_connections or max_connections_per_client, or when descriptors ran out).
  std::size_t connections_open = 0;
  std::uint64_t connections_refused = 0;
  OverloadState overload;
  // How late the event loop's 10 ms timer ran, in milliseconds: the time every frame waits on a busy loop. Fine
  // buckets up to 10 ms, so that a p99 can be told against the 5 ms target (2, 3, 4, 5, 7.5 rather than 2, 5, 10).
  Histogram<17> loop_lag_ms{{0.1, 0.25, 0.5, 1, 1.5, 2, 3, 4, 5, 7.5, 10, 15, 20, 50, 100, 500, 1000}};
  // How long the loop's thread waited for a CPU while it had work (schedstat's run_delay since the loop started):
  // the part of the lag that is the machine's other load, not the loop's own work.
  double loop_run_delay_seconds = 0;
  std::uint64_t interruptions = 0;
  std::uint64_t input_tokens = 0;
  std::uint64_t output_tokens = 0;
  double audio_seconds = 0;  // voice-model audio seconds (GPT-Live's usage), all calls
  // The host's own work per frame (conversion and hand-over), per direction, in microseconds.
  Histogram<10> line_to_voice_us{{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}};
  Histogram<10> voice_to_line_us{{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}};
  // The callee stops speaking -> the first agent audio handed to the line, in milliseconds.
  Histogram<11> voice_to_voice_ms{{50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000}};
  // The voice model's own view: the end of the callee's speech -> its first audio (OpenAI: speech_stopped -> delta).
  Histogram<11> response_latency_ms{{50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000}};
};

}  // namespace concierge::host
