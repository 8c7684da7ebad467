#include "call_quota.hpp"

#include <algorithm>

namespace concierge::host {
namespace {
constexpr std::chrono::seconds kMinute{60}, kHour{3600};

// From now until `then`, in whole seconds rounded up (at least 1): a client that waits this long is never early.
std::chrono::seconds seconds_until(CallQuota::Clock::time_point then, CallQuota::Clock::time_point now) {
  if (then <= now) return std::chrono::seconds(1);
  const auto wait = std::chrono::ceil<std::chrono::seconds>(then - now);
  return std::max(wait, std::chrono::seconds(1));
}

std::string in_words(std::chrono::seconds s) {
  return std::to_string(s.count()) + (s.count() == 1 ? " second" : " seconds");
}
}  // namespace

void CallQuota::forget_old(Usage& usage, Clock::time_point now) const {
  // The longest window that has a limit decides how far back placements matter.
  const auto reach = limits_.per_hour ? kHour : kMinute;
  while (!usage.placed_at.empty() && usage.placed_at.front() <= now - reach) usage.placed_at.pop_front();
}

std::optional<CallQuota::Refusal> CallQuota::check(std::string_view owner, Clock::time_point now) {
  auto it = usage_.find(owner);
  if (it == usage_.end()) return std::nullopt;
  Usage& usage = it->second;
  forget_old(usage, now);
  if (limits_.concurrent && usage.active >= limits_.concurrent)
    return Refusal{"concurrent_calls", kConcurrentRetryAfter,
                   "this API token already has " + std::to_string(usage.active) + " calls in progress, its limit (" +
                       "calls.limits_per_token.concurrent " + std::to_string(limits_.concurrent) +
                       "); try again when one has ended"};
  // In a window of length `window` at most `limit` placements: refused while the limit-th newest one is inside it,
  // until it leaves.
  auto window_refusal = [&](std::size_t limit, std::chrono::seconds window, const char* name,
                            const char* setting, const char* per) -> std::optional<Refusal> {
    if (!limit) return std::nullopt;
    const auto first_inside =
        std::upper_bound(usage.placed_at.begin(), usage.placed_at.end(), now - window);
    const auto inside = static_cast<std::size_t>(usage.placed_at.end() - first_inside);
    if (inside < limit) return std::nullopt;
    const auto frees_at = *(usage.placed_at.end() - static_cast<std::ptrdiff_t>(limit)) + window;
    const auto wait = seconds_until(frees_at, now);
    return Refusal{name, wait,
                   "this API token placed " + std::to_string(inside) + " calls in the last " + per + ", its limit (" +
                       "calls.limits_per_token." + setting + " " + std::to_string(limit) + "); try again in " +
                       in_words(wait)};
  };
  // Both full: the one that lasts longer, so that asking again after its Retry-After is not refused by the other.
  auto minute = window_refusal(limits_.per_minute, kMinute, "calls_per_minute", "per_minute", "minute");
  auto hour = window_refusal(limits_.per_hour, kHour, "calls_per_hour", "per_hour", "hour");
  if (minute && hour) return hour->retry_after >= minute->retry_after ? hour : minute;
  return minute ? minute : hour;
}

void CallQuota::placed(std::string_view owner, Clock::time_point now) {
  auto it = usage_.find(owner);
  if (it == usage_.end()) it = usage_.emplace(std::string(owner), Usage{}).first;
  Usage& usage = it->second;
  forget_old(usage, now);
  ++usage.active;
  if (!limits_.per_minute && !limits_.per_hour) return;
  usage.placed_at.push_back(now);
  // Never more than a window's limit is needed to answer check(): keep memory bounded by the limits.
  const std::size_t keep = std::max(limits_.per_minute, limits_.per_hour);
  while (usage.placed_at.size() > keep) usage.placed_at.pop_front();
}

void CallQuota::ended(std::string_view owner) {
  auto it = usage_.find(owner);
  if (it == usage_.end() || it->second.active == 0) return;
  --it->second.active;
}

std::size_t CallQuota::active(std::string_view owner) const {
  auto it = usage_.find(owner);
  return it == usage_.end() ? 0 : it->second.active;
}

}  // namespace concierge::host
