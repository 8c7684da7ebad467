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
