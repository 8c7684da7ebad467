#pragma once
// For allocation tests of a voice plugin over its real transport: a frame goes out, the echoing fake sends it back,
// the next frame goes when the echo has reached the host, all from ONE io_context::run() as the daemon runs its loop
// (Asio recycles operation memory per thread while it runs; separate run_one() calls would each start cold).
// Header-only. Everything runs on the calling thread.
#include <chrono>
#include <cstddef>
#include <functional>

#include "concierge/net/asio.hpp"

namespace concierge::testing {

struct EchoRoundTrips {
  int warm_up = 100;   // round trips before counting: buffers and operation memory reach their working size
  int counted = 1000;  // round trips while counting
  std::chrono::seconds time_limit{20};
};

// `send_frame()` sends one frame of `frame_bytes`; `echoed_bytes()` is what the host has received back so far;
// `failed()` stops the pump (an error reached the host); `count(on)` switches the caller's allocation counter on
// (before the first counted round trip) and off (after the last, or on failure or time-out). True when every round
// trip completed in time.
inline bool pump_echo_round_trips(boost::asio::io_context& io, const EchoRoundTrips& plan, std::size_t frame_bytes,
                                  const std::function<void()>& send_frame,
                                  const std::function<std::size_t()>& echoed_bytes,
                                  const std::function<bool()>& failed, const std::function<void(bool)>& count) {
  int round_trips = 0;
  std::size_t expected = 0;
  bool done = false;
  std::function<void()> step = [&] {
    if (failed()) {
      count(false);
      io.stop();
      return;
    }
    if (echoed_bytes() == expected) {  // the last frame's echo is back (or none was sent yet)
      if (round_trips == plan.warm_up) count(true);
      if (round_trips == plan.warm_up + plan.counted) {
        count(false);
        done = true;
        io.stop();
        return;
      }
      send_frame();
      expected += frame_bytes;
      ++round_trips;
    }
    boost::asio::post(io, [&step] { step(); });
  };
  boost::asio::steady_timer too_late(io, plan.time_limit);
  too_late.async_wait([&io, &count](boost::system::error_code ec) {
    if (ec) return;
    count(false);
    io.stop();
  });
  boost::asio::post(io, [&step] { step(); });
  io.restart();
  io.run();
  count(false);
  too_late.cancel();
  io.restart();
  io.poll();  // the cancelled wait completes while `count` is still alive
  return done;
}

}  // namespace concierge::testing
