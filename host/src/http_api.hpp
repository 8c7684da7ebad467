#pragma once
// The daemon's routes: its own API (health, metrics, calls) and the telephony provider's webhooks.
// Open without a credential: GET /health and the provider's routes (they carry the provider's own signatures).
// Everything else (the calls, /metrics unless server.metrics_public, unknown paths) needs the API token first.
#include <memory>
#include <string>
#include <vector>

#include "api_auth.hpp"
#include "call_manager.hpp"
#include "concierge/http.hpp"
#include "concierge/telephony.hpp"

namespace concierge::host {

// Whom a call placed with the API token counts against in CallManager's per-token limits. The daemon has one token
// (server.api_token), so one owner; a name rather than the token itself, which must never be kept or logged twice.
inline constexpr std::string_view kApiTokenOwner = "api-token";

class HttpApi {
 public:
  HttpApi(CallManager& calls, std::shared_ptr<TelephonyProvider> telephony, ApiAuth auth, bool metrics_public);
  HttpResponse handle(const HttpRequest& request);

 private:
  HttpResponse create_call(const HttpRequest& request);
  CallManager& calls_;
  std::shared_ptr<TelephonyProvider> telephony_;
  std::vector<std::string> telephony_routes_;
  ApiAuth auth_;
  bool metrics_public_;
};

}  // namespace concierge::host
