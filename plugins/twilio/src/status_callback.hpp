#pragma once
// Twilio's call status callback (a form POST) in the host's terms.
#include <optional>
#include <string_view>

#include "concierge/telephony.hpp"
#include "signature.hpp"

namespace concierge::twilio {

// CallStatus queued/initiated -> dialing, ringing, in-progress -> in_progress, completed, busy, no-answer, failed,
// canceled; with CallDuration and AnsweredBy. nullopt when CallStatus is missing or unknown.
std::optional<CallStatusUpdate> status_from_callback(const FormFields& form);

// The host's status for one of Twilio's CallStatus words (also used for the REST API's "status" field).
std::optional<CallStatus> map_call_status(std::string_view twilio_status);

}  // namespace concierge::twilio
