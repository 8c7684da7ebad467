#pragma once
// The daemon's routes: its own API (health, metrics, calls) and the telephony provider's webhooks.
#include <memory>
#include <string>
#include <vector>

#include "call_manager.hpp"
#include "concierge/http.hpp"
#include "concierge/telephony.hpp"

namespace concierge::host {

class HttpApi {
 public:
  HttpApi(CallManager& calls, std::shared_ptr<TelephonyProvider> telephony);
  HttpResponse handle(const HttpRequest& request);

 private:
  HttpResponse create_call(const HttpRequest& request);
  CallManager& calls_;
  std::shared_ptr<TelephonyProvider> telephony_;
  std::vector<std::string> telephony_routes_;
};

}  // namespace concierge::host
