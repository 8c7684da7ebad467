#pragma once
// concierge::EventLoop over an io_context, for tests that drive plugin code (written against EventLoop, as the C
// boundary's plugins are) on their own loop. Header-only. The io_context must outlive it; run it on one thread.
#include <chrono>
#include <map>
#include <memory>
#include <utility>

#include "concierge/event_loop.hpp"
#include "concierge/net/asio.hpp"

namespace concierge::testing {

class AsioEventLoop final : public EventLoop {
 public:
  explicit AsioEventLoop(boost::asio::io_context& io) : io_(io) {}
  ~AsioEventLoop() override { timers_.clear(); }  // each cancelled wait returns without touching this

  bool post(std::function<void()> fn) override {
    boost::asio::post(io_, std::move(fn));
    return true;
  }
  TimerId start_timer(std::chrono::microseconds delay, std::function<void()> fn) override {
    const TimerId id = next_++;
    auto& timer = timers_[id] = std::make_unique<boost::asio::steady_timer>(io_, delay);
    timer->async_wait([this, id, fn = std::move(fn)](const boost::system::error_code& error) {
      if (error) return;
      const auto it = timers_.find(id);
      if (it == timers_.end()) return;
      timers_.erase(it);
      fn();
    });
    return id;
  }
  void cancel_timer(TimerId id) override { timers_.erase(id); }

 private:
  boost::asio::io_context& io_;
  TimerId next_ = 1;
  std::map<TimerId, std::unique_ptr<boost::asio::steady_timer>> timers_;
};

// Runs `io` until `done()` or `limit` has passed: event-driven (it returns as soon as done() holds), never a fixed
// sleep, so a slow machine only takes longer. Returns done().
template <class Done>
bool run_io_until(boost::asio::io_context& io, Done done, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < give_up) {
    io.restart();
    io.run_one_for(std::chrono::milliseconds(50));
  }
  return done();
}

}  // namespace concierge::testing
