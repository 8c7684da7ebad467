#pragma once
// The load generator: N concurrent Twilio Media Streams against one /media-stream URL, on one io_context thread.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace concierge::bench {

struct LoadOptions {
  std::string host = "127.0.0.1";
  std::string port = "8080";
  std::string path = "/media-stream";
  std::string public_domain;     // the daemon's PUBLIC_DOMAIN: the signed URL is wss://<public_domain><path>
  std::string auth_token;        // empty: no X-Twilio-Signature header
  double duration_seconds = 10;  // measured audio per call
  double ramp_seconds = 2;       // call starts are spread over this time (Twilio's streams start independently)
  unsigned connect_concurrency = 64;
  unsigned flush_frames = 10;    // uncounted frames after the measured ones: they push out audio a resampler holds
  double drain_seconds = 1.0;    // then wait this long for the last frames before "stop"
  std::optional<pid_t> daemon_pid;
  // The daemon's resident memory before the first level, the base of memory per call. (Sampled per level instead,
  // a level after a bigger one would read near zero: freed memory stays resident in the allocator.)
  std::optional<double> daemon_idle_rss_bytes;
  std::uint64_t run_id = 1;
};

struct LevelResult {
  unsigned calls = 0;
  unsigned connected = 0;
  unsigned failed_to_connect = 0;
  unsigned closed_early = 0;          // the server closed the stream before our "stop"
  unsigned exact_calls = 0;           // calls whose frames came back byte-identical (matched by their marker)
  unsigned counted_calls = 0;         // calls matched by position in the stream (a resampling path)
  std::uint64_t frames_sent = 0;      // measured frames (the flush frames are not counted)
  std::uint64_t frames_received = 0;  // measured frames that came back
  std::uint64_t frames_late = 0;      // ... more than 20 ms after they were sent
  std::uint64_t frames_lost = 0;      // measured frames that never came back
  std::uint64_t frames_altered = 0;   // pass-through calls: frames that came back with other bytes
  std::uint64_t media_messages_received = 0;
  std::uint64_t marks_echoed = 0;
  double latency_p50_ms = 0, latency_p99_ms = 0, latency_max_ms = 0, latency_mean_ms = 0;
  // Audio sent but not yet back, each time a media message arrives, in ms. A frame counts as back only once its last
  // sample is, so a resampling path that holds a few ms of each frame until the next one shows ~20 ms round trips;
  // this is the audio's own delay (the resamplers' held-back audio plus transit), comparable with their figures.
  double in_flight_mean_ms = 0, in_flight_p99_ms = 0;
  double send_lag_p99_ms = 0, send_lag_max_ms = 0;  // how late the generator itself sent (its own saturation)
  double steady_seconds = 0;                        // the window CPU was measured over
  // Frames that came back during that window over what real time asks for (50 per call per second). Below ~0.98 the
  // system (daemon, generator or a starved machine) did not keep up, and CPU per call-second reads low with it.
  std::optional<double> realtime_ratio;
  std::optional<double> cpu_seconds_per_call_second;
  std::optional<double> rss_bytes_per_call;
  std::optional<double> daemon_rss_bytes;  // at the end of the window
  std::optional<double> generator_cpu_seconds_per_call_second;  // this process, over the same window
  std::vector<std::string> errors;         // the first few distinct errors
  // The daemon's own per-frame work over the level, per direction, from its /metrics (mean and the histogram
  // bucket bound under which 99% fell), in microseconds; unset when the target has no such metrics.
  struct FrameTime {
    double mean_us = 0, p99_le_us = 0, frames = 0;
  };
  std::optional<FrameTime> host_in, host_out;
  std::optional<double> loop_lag_p99_le_ms;   // the daemon's event-loop lag over the level (histogram bucket bound)
  std::optional<double> refused_overload;     // streams the daemon refused as overloaded during the level
};

LevelResult run_level(const LoadOptions& options, unsigned calls);

}  // namespace concierge::bench
