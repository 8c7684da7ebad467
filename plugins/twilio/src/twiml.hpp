#pragma once
// The TwiML that connects a call to our media stream. Twilio refuses query strings on a <Stream> URL, so the call id
// travels as a <Parameter> and comes back in the start message's customParameters.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace concierge::twilio {

// <Response><Connect><Stream url="wss://{public_domain}/media-stream"> with one <Parameter> per entry; every value is
// XML-escaped.
std::string connect_stream_twiml(std::string_view public_domain,
                                 const std::vector<std::pair<std::string, std::string>>& parameters);

// <Response><Reject reason="rejected"/></Response>: for a call we cannot take.
std::string reject_twiml();
// <Hangup/>: for an outbound call the daemon has given up on (its create timed out, or it ended here first) whose
// callee answered all the same; they hear nothing and the call ends.
std::string hangup_twiml();

}  // namespace concierge::twilio
