#pragma once
// How many calls one API credential may place: per minute, per hour, and at once. A leaked or misused token can
// then cost at most so many paid calls before it is noticed, whatever the daemon's own capacity
// (server.max_concurrent_calls, which protects the daemon, not the owner's bill).
//
// The windows slide: "per minute" is the calls placed in the 60 seconds before now, not since the minute began, so a
// burst at a minute's end and another at the next one's start cannot place twice the limit. Only calls the daemon
// really placed count (POST /calls answered 201); a request refused for any reason (422, 403, 429, 503) does not.
// Counts live in memory: a restarted daemon starts from zero.
//
// Lives on the event loop with the call manager; not thread-safe. The clock is a parameter, so tests move it.
#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace concierge::host {

struct CallQuotaLimits {
  // 0 = no limit of that kind. The daemon's defaults (calls.limits_per_token, host_config.hpp).
  std::size_t per_minute = 10;
  std::size_t per_hour = 100;
  std::size_t concurrent = 5;
};

class CallQuota {
 public:
  using Clock = std::chrono::steady_clock;
  // Asked again after a refusal of the concurrent limit: a call may end at any moment, so a short hint.
  static constexpr std::chrono::seconds kConcurrentRetryAfter{5};

  struct Refusal {
    std::string limit;                // "calls_per_minute", "calls_per_hour" or "concurrent_calls"
    std::chrono::seconds retry_after;  // whole seconds, rounded up: asking again after it is never too early
    std::string message;               // for the user: which limit, its value, when to try again
  };

  explicit CallQuota(CallQuotaLimits limits) : limits_(limits) {}

  // nullopt when `owner` may place one more call at `now`; otherwise which limit stops it and until when.
  std::optional<Refusal> check(std::string_view owner, Clock::time_point now);
  // A call of `owner`'s was placed at `now`: it counts toward all three limits until it ends (concurrent) and for
  // a minute and an hour (the windows).
  void placed(std::string_view owner, Clock::time_point now);
  // One of `owner`'s calls ended.
  void ended(std::string_view owner);

  const CallQuotaLimits& limits() const { return limits_; }
  std::size_t active(std::string_view owner) const;

 private:
  struct Usage {
    std::deque<Clock::time_point> placed_at;  // oldest first, only as far back as a window reaches
    std::size_t active = 0;
  };
  void forget_old(Usage& usage, Clock::time_point now) const;

  CallQuotaLimits limits_;
  std::map<std::string, Usage, std::less<>> usage_;
};

}  // namespace concierge::host
