#pragma once
// Twilio's REST API: the requests the plugin sends (form POSTs with basic auth, through the host's HttpClient on the
// event loop) and what their failures say.
#include <chrono>
#include <string>
#include <string_view>

#include "concierge/http_client.hpp"
#include "signature.hpp"

namespace concierge::twilio {

struct TwilioConfig;

// POST {api_base_url}/2010-04-01/Accounts/{sid}/{path} with `form_body`, the account's basic auth and `timeout`.
HttpClientRequest twilio_form_post(const TwilioConfig& config, std::string_view path, std::string form_body,
                                   std::chrono::milliseconds timeout);

std::string form_encode(const FormFields& fields);

// A failure in words for the call record: "Twilio error 21217: <message> (<more_info>)" from Twilio's error JSON,
// "could not reach Twilio at <base>: <libcurl's reason>" for network errors, or the HTTP status and the start of the
// body for anything else.
std::string describe_failure(const HttpClientResponse& response, std::string_view api_base_url);

}  // namespace concierge::twilio
