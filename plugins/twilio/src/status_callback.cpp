#include "status_callback.hpp"

#include <charconv>
#include <string>

#include "concierge/text.hpp"

namespace concierge::twilio {
namespace {
std::string_view field(const FormFields& form, std::string_view name) {
  for (const auto& [key, value] : form)
    if (key == name) return value;
  return {};
}
}  // namespace

std::optional<CallStatus> map_call_status(std::string_view s) {
  if (s == "queued" || s == "initiated") return CallStatus::dialing;
  if (s == "ringing") return CallStatus::ringing;
  if (s == "in-progress" || s == "answered") return CallStatus::in_progress;
  if (s == "completed") return CallStatus::completed;
  if (s == "busy") return CallStatus::busy;
  if (s == "no-answer") return CallStatus::no_answer;
  if (s == "failed") return CallStatus::failed;
  if (s == "canceled") return CallStatus::canceled;
  return std::nullopt;
}

std::optional<CallStatusUpdate> status_from_callback(const FormFields& form) {
  const auto status = map_call_status(field(form, "CallStatus"));
  if (!status) return std::nullopt;
  CallStatusUpdate update;
  update.status = *status;
  // Form fields are whatever bytes the sender %-encoded (AnsweredBy=%FF): cut and made UTF-8 here, at the boundary.
  update.answered_by = truncate_utf8(field(form, "AnsweredBy"), 64);
  const std::string_view duration = field(form, "CallDuration");
  int seconds = 0;
  if (!duration.empty()) {
    auto [end, error] = std::from_chars(duration.data(), duration.data() + duration.size(), seconds);
    if (error == std::errc() && end == duration.data() + duration.size() && seconds >= 0)
      update.duration_seconds = seconds;
  }
  const std::string_view sip = field(form, "SipResponseCode");
  switch (*status) {
    case CallStatus::busy: update.reason = "the line was busy"; break;
    case CallStatus::no_answer: update.reason = "nobody answered"; break;
    case CallStatus::canceled: update.reason = "the call was canceled"; break;
    case CallStatus::failed:
      update.reason = "Twilio could not connect the call";
      if (!sip.empty()) update.reason += " (SIP " + truncate_utf8(sip, 16) + ")";
      break;
    default: break;
  }
  return update;
}

}  // namespace concierge::twilio
