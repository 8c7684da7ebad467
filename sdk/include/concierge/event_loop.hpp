#pragma once
// The host's event loop as plugin code sees it, without Asio: run a function soon, or once after a delay. Over the C
// boundary it is concierge::cxx::Host (concierge/cxx/plugin.hpp, over concierge_host_api's post and timers); tests
// run plugin code on an io_context through sdk/testing/asio_event_loop.hpp. Header-only.
//
// THREADS: post may be called from any thread; start_timer and cancel_timer on the loop only; every function runs on
// the loop. OWNERSHIP: the loop keeps each function until it has run or been cancelled; a cancelled or never-run
// function is destroyed, never called, at the latest when the loop (for a plugin: its instance) goes.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <utility>

namespace concierge {

class EventLoop {
 public:
  using TimerId = std::uint64_t;
  virtual ~EventLoop() = default;
  // Runs `fn` on the loop, soon, never inside post. False when the loop takes no more work (shutting down).
  virtual bool post(std::function<void()> fn) = 0;
  // Runs `fn` once on the loop after `delay` (never early, never inside start_timer). 0 when refused.
  virtual TimerId start_timer(std::chrono::microseconds delay, std::function<void()> fn) = 0;
  // `fn` of that timer is not called after this returns. Unknown or fired ids are ignored.
  virtual void cancel_timer(TimerId id) = 0;
};

// One re-armable timer on an EventLoop, like a steady_timer: arming it again cancels what was armed, and so does its
// destruction. Loop thread only.
class LoopTimer {
 public:
  explicit LoopTimer(EventLoop& loop) : loop_(&loop) {}
  LoopTimer(const LoopTimer&) = delete;
  LoopTimer& operator=(const LoopTimer&) = delete;
  ~LoopTimer() { cancel(); }

  void start_after(std::chrono::steady_clock::duration delay, std::function<void()> fn) {
    cancel();
    const auto us = std::max<std::chrono::microseconds>(
        std::chrono::ceil<std::chrono::microseconds>(delay), std::chrono::microseconds(0));
    id_ = loop_->start_timer(us, [this, fn = std::move(fn)] {
      id_ = 0;  // this timer is alive: its destruction would have cancelled the call
      fn();
    });
  }
  void start_at(std::chrono::steady_clock::time_point at, std::function<void()> fn) {
    start_after(at - std::chrono::steady_clock::now(), std::move(fn));
  }
  void cancel() {
    if (id_) loop_->cancel_timer(std::exchange(id_, 0));
  }
  bool armed() const { return id_ != 0; }

 private:
  EventLoop* loop_;
  EventLoop::TimerId id_ = 0;
};

}  // namespace concierge
