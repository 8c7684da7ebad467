#pragma once
// Just enough of the daemon for the Twilio plugin: an event loop thread, the SDK's HTTP client on it, run_blocking
// workers, and a Beast server that routes WebSocket upgrades to check_media_stream_upgrade/open_media_stream and
// every other request to handle_http - what the real host does with /twiml, /twilio/status and /media-stream.
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "concierge/plugin.hpp"

namespace concierge::testing {

class MiniHost : public HostServices {
 public:
  explicit MiniHost(std::string public_domain);
  ~MiniHost() override;

  boost::asio::io_context& io() override;
  void run_blocking(std::function<void()> work) override;
  HttpClient& http() override;  // the SDK's client on this host's loop, as the daemon has
  std::string public_domain() const override { return public_domain_; }
  std::shared_ptr<CallEvents> accept_inbound_call(const InboundCall& call) override;

  // Serves the provider's routes on 127.0.0.1; returns the port.
  std::uint16_t serve(std::shared_ptr<TelephonyProvider> provider);

  // Runs `f` on the event loop and waits for it.
  template <class F>
  auto on_loop(F&& f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::forward<F>(f));
    auto future = task.get_future();
    post(std::function<void()>([&task] { task(); }));
    return future.get();
  }
  void post(std::function<void()> f);

  std::shared_ptr<CallEvents> inbound_events;  // returned by accept_inbound_call (nullptr refuses)
  std::vector<InboundCall> inbound_calls;

  struct State;

 private:
  std::string public_domain_;
  std::shared_ptr<State> state_;
};

// A logger that keeps its lines (tests assert on what the plugin tells the user).
class MemoryLog : public Logger {
 public:
  void write(LogLevel level, std::string_view message) override;
  bool enabled(LogLevel) const override { return true; }
  std::vector<std::string> lines() const;
  bool contains(std::string_view text) const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

// CallEvents that record everything, thread-safe, for assertions from the test thread.
class RecordingEvents : public CallEvents {
 public:
  void on_provider_call_id(std::string_view id) override;
  void on_status(const CallStatusUpdate& update) override;
  void on_media_started(AudioFormat line_format) override;
  void on_audio(const AudioFrame& frame) override;
  void on_playback_progress(std::chrono::microseconds played) override;
  void on_dtmf(char digit) override;
  void on_media_stopped(std::string_view reason) override;
  void on_simulated_callee_text(std::string_view) override {}
  void on_late_status(const CallStatusUpdate& update) override;

  std::function<void()> when_media_started;  // runs on the loop

  mutable std::mutex mutex;
  std::string provider_id;
  std::vector<CallStatusUpdate> statuses;
  std::vector<CallStatusUpdate> late_statuses;  // on_late_status, after the final status
  std::vector<std::string> provider_ids;        // every on_provider_call_id, in order
  bool media_started = false;
  std::vector<std::string> media_stopped;
  std::size_t audio_frames = 0, audio_bytes = 0;
  std::vector<std::uint64_t> audio_timestamps_us;
  std::vector<std::int64_t> playback_us;
  std::string dtmf;

  bool has_status(CallStatus status) const;
  std::optional<CallStatusUpdate> final_status() const;
  std::int64_t last_playback_us() const;
};

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);

}  // namespace concierge::testing
