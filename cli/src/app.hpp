#pragma once
// The commands of `concierge`, over an abstract HTTP API so tests drive them with a scripted daemon.
#include <atomic>
#include <chrono>
#include <functional>
#include <iosfwd>
#include <string>
#include <thread>

#include "options.hpp"

namespace concierge::cli {

struct ApiReply {
  enum class Failure { none, unreachable, timeout, interrupted, other };
  Failure failure = Failure::none;
  std::string detail;  // for `other`: what went wrong, in words
  int status = 0;      // HTTP status when failure == none
  std::string body;
};

class Api {
 public:
  virtual ~Api() = default;
  // method "GET"/"POST"; path "/calls"; body "" for none (sent as JSON otherwise). An interruptible request is
  // abandoned when Ctrl-C is pressed; the hang-up sent after Ctrl-C is not.
  virtual ApiReply request(const std::string& method, const std::string& path, const std::string& body,
                           bool interruptible) = 0;
};

struct Console {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  bool interactive_input = false;  // stdin is a terminal: a 422 question may be answered
  std::function<void(std::chrono::milliseconds)> sleep = [](std::chrono::milliseconds ms) {
    std::this_thread::sleep_for(ms);
  };
  std::function<bool()> interrupted = [] { return false; };  // Ctrl-C was pressed
  std::function<std::chrono::steady_clock::time_point()> now = [] { return std::chrono::steady_clock::now(); };
};

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInterrupted = 130;

inline constexpr std::chrono::milliseconds kPollInterval{250};

// Runs one parsed command line; returns the exit status.
int run(const Options& options, Api& api, Console& console);

// One booking: POST /calls (asking the user on 422 when `can_ask`), then follow the call to its end.
int book(const Options& options, const std::string& request, bool can_ask, Api& api, Console& console);

// "Cannot reach the concierge daemon at URL — start it with: concierge-host [--config FILE]"
std::string unreachable_message(const std::string& server);

}  // namespace concierge::cli
