#pragma once
#include <chrono>
#include <string>

namespace concierge::host {
// "2026-11-24T19:03:07.123Z": how every time in the daemon's JSON and logs is written.
std::string iso8601_utc(std::chrono::system_clock::time_point at);
}  // namespace concierge::host
