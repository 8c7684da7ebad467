#pragma once
// Twilio's REST API over libcurl. perform_form_post blocks: run it through HostServices::run_blocking, never on the
// event loop.
#include <chrono>
#include <string>
#include <string_view>

#include "signature.hpp"

namespace concierge::twilio {

struct RestRequest {
  std::string url;
  std::string username;  // basic auth: the Account SID
  std::string password;  // and the auth token
  std::string form_body; // application/x-www-form-urlencoded
  std::chrono::seconds timeout{15};
};

struct RestResponse {
  long http_status = 0;          // 0 when no response arrived
  std::string body;
  std::string transport_error;   // libcurl's message when the request failed before a response
};

// Call once at startup, on one thread, before any request (libcurl's global state is not thread-safe to set up).
void init_curl_once();

RestResponse perform_form_post(const RestRequest& request);

std::string form_encode(const FormFields& fields);

// A failure in words for the call record: "Twilio error 21217: <message> (<more_info>)" from Twilio's error JSON,
// "could not reach Twilio at <base>: <libcurl's reason>" for network errors, or the HTTP status and the start of the
// body for anything else.
std::string describe_failure(const RestResponse& response, std::string_view api_base_url);

}  // namespace concierge::twilio
