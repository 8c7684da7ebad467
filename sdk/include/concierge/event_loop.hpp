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
//
// Two ways to give it work. `start_after(delay, fn)` runs that `fn` once (a new std::function each arming: it may
// allocate). For a timer that paces audio or ticks for a call's whole life, give the work once, to the constructor
// or set_handler, and re-arm with `start_after(delay)`: each arming then passes the loop only a function that holds
// `this` (it fits std::function's own storage), so over the C++ layer (concierge/cxx/plugin.hpp) and the host's C
// timers a re-arming allocates nothing. The handler may re-arm its own timer; it must not replace itself
// (set_handler) while it runs. Nothing of the timer is touched after the handler (or `fn`) returns, so it may drop
// the last reference to the timer's owner.
class LoopTimer {
 public:
  explicit LoopTimer(EventLoop& loop) : loop_(&loop) {}
  LoopTimer(EventLoop& loop, std::function<void()> handler) : loop_(&loop), handler_(std::move(handler)) {}
  LoopTimer(const LoopTimer&) = delete;
  LoopTimer& operator=(const LoopTimer&) = delete;
  ~LoopTimer() { cancel(); }

  // The work start_after(delay) and start_at(at) run. Not from inside the handler itself.
  void set_handler(std::function<void()> handler) { handler_ = std::move(handler); }

  // Runs the handler once after `delay` (never early), cancelling what was armed.
  void start_after(std::chrono::steady_clock::duration delay) {
    cancel();
    once_ = nullptr;
    arm(delay);
  }
  void start_at(std::chrono::steady_clock::time_point at) { start_after(at - std::chrono::steady_clock::now()); }

  // Runs `fn` once after `delay` instead of the handler, cancelling what was armed.
  void start_after(std::chrono::steady_clock::duration delay, std::function<void()> fn) {
    cancel();
    once_ = std::move(fn);
    arm(delay);
  }
  void start_at(std::chrono::steady_clock::time_point at, std::function<void()> fn) {
    start_after(at - std::chrono::steady_clock::now(), std::move(fn));
  }
  void cancel() {
    if (id_) loop_->cancel_timer(std::exchange(id_, 0));
  }
  bool armed() const { return id_ != 0; }

 private:
  void arm(std::chrono::steady_clock::duration delay) {
    const auto us = std::max<std::chrono::microseconds>(
        std::chrono::ceil<std::chrono::microseconds>(delay), std::chrono::microseconds(0));
    id_ = loop_->start_timer(us, [this] { fire(); });  // `this` alone: std::function stores it in place
  }
  void fire() {
    id_ = 0;  // this timer is alive: its destruction would have cancelled the call
    if (once_) {
      const std::function<void()> fn = std::move(once_);  // fn may re-arm, which replaces once_
      once_ = nullptr;
      fn();
    } else if (handler_) {
      handler_();
    }
  }

  EventLoop* loop_;
  std::function<void()> handler_;
  std::function<void()> once_;
  EventLoop::TimerId id_ = 0;
};

}  // namespace concierge
