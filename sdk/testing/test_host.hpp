#pragma once
// HostServices in miniature for plugin tests: one io_context on the test thread, the same loop as an EventLoop,
// blocking work run inline, and event-driven waits on the loop. Header-only.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "asio_event_loop.hpp"
#include "concierge/net/asio.hpp"
#include "concierge/plugin.hpp"

namespace concierge::testing {

class TestHost : public HostServices {
 public:
  boost::asio::io_context& io() override { return io_; }
  // The same loop as an EventLoop, for plugin code written against it (the C boundary's plugins).
  EventLoop& loop() { return loop_; }
  void run_blocking(std::function<void()> work) override { work(); }
  std::string public_domain() const override { return ""; }
  std::shared_ptr<CallEvents> accept_inbound_call(const InboundCall&) override { return nullptr; }

  // Runs the loop until `done` or the timeout (run_io_until: it returns as soon as done() holds); returns done().
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return run_io_until(io_, done, timeout);
  }
  // Runs the loop for `duration`: what is due in it runs (a test that shows nothing more happens afterwards).
  void run_for(std::chrono::milliseconds duration) {
    run_until([] { return false; }, duration);
  }

 private:
  boost::asio::io_context io_;
  AsioEventLoop loop_{io_};
};

}  // namespace concierge::testing
