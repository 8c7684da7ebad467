#include "concierge/call.hpp"

#include <array>
#include <utility>

namespace concierge {
namespace {
constexpr std::array<std::pair<CallStatus, std::string_view>, 10> kStatusNames{{
    {CallStatus::queued, "queued"},
    {CallStatus::dialing, "dialing"},
    {CallStatus::ringing, "ringing"},
    {CallStatus::in_progress, "in-progress"},
    {CallStatus::completed, "completed"},
    {CallStatus::failed, "failed"},
    {CallStatus::no_answer, "no-answer"},
    {CallStatus::busy, "busy"},
    {CallStatus::canceled, "canceled"},
    {CallStatus::timed_out, "timed-out"},
}};
}  // namespace

std::string_view to_string(CallStatus status) {
  for (const auto& [s, name] : kStatusNames)
    if (s == status) return name;
  return "unknown";
}

std::optional<CallStatus> call_status_from_string(std::string_view text) {
  for (const auto& [s, name] : kStatusNames)
    if (name == text) return s;
  return std::nullopt;
}

bool is_terminal(CallStatus status) {
  switch (status) {
    case CallStatus::queued:
    case CallStatus::dialing:
    case CallStatus::ringing:
    case CallStatus::in_progress: return false;
    default: return true;
  }
}

std::string_view to_string(Speaker speaker) {
  switch (speaker) {
    case Speaker::agent: return "agent";
    case Speaker::callee: return "callee";
    case Speaker::system: return "system";
  }
  return "system";
}

}  // namespace concierge
