#pragma once
// The daemon's routes: its own API (health, metrics, calls) and the telephony provider's webhooks.
// Open without a credential: GET /health and the provider's routes (they carry the provider's own signatures).
// Everything else (the calls, /metrics unless server.metrics_public, unknown paths) needs the API token first.
//
// Two faces: with server.public_port set the daemon listens twice. The public listener (the one a tunnel such as
// ngrok points at) serves only the provider's routes, /media-stream and /health; every other path there is 404,
// token or not, so the tunnel exposes nothing of the control API. The control listener then serves everything but
// the provider's routes and /media-stream (404). Without a public port one listener serves both, as before.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
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
  enum class Face {
    both,     // one listener: the control API and the provider's routes
    control,  // the control listener when a public one exists: no provider routes, no media streams
    public_,  // the public listener: the provider's routes, /media-stream and /health only
  };
  HttpApi(CallManager& calls, std::shared_ptr<TelephonyProvider> telephony, ApiAuth auth, bool metrics_public);
  HttpResponse handle(const HttpRequest& request, Face face = Face::both);
  // Whether a WebSocket upgrade to `path` may go ahead on `face` (only /media-stream, never on the control face of
  // a split daemon); the refusal otherwise.
  static std::optional<HttpResponse> refuse_upgrade(const HttpRequest& request, Face face);
  // GET /calls costs the loop in proportion to the entries listed: each client address may ask for this many per
  // second (a token bucket holding two seconds' worth); past it the answer is 429 with Retry-After, which costs
  // next to nothing. Keeps a listing flood from starving calls and /health (issue 10). `total_per_second` is the
  // same budget for all clients together, so that many addresses (or many clients behind a trusted proxy) cannot
  // add up to a flood either. A listing is served only when both budgets have room, and spends both. 0: no budget.
  void set_listing_budget(std::size_t entries_per_second, std::size_t total_per_second = 0) {
    listing_rate_ = entries_per_second;
    total_listing_rate_ = total_per_second;
  }

 private:
  HttpResponse create_call(const HttpRequest& request);
  struct ListingRefusal {
    std::uint64_t retry_after_seconds;
    bool total;  // the budget of all clients together ran out, not the client's own
  };
  // nullopt when `client` may list `entries` now (they are spent), otherwise why not and how long to wait.
  std::optional<ListingRefusal> refuse_listing(const std::string& client, std::size_t entries);
  struct ListingBucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point at{};
  };
  ListingBucket& client_listing_bucket(const std::string& client, std::chrono::steady_clock::time_point now);
  std::size_t listing_rate_ = 10'000;
  std::size_t total_listing_rate_ = 0;
  std::unordered_map<std::string, ListingBucket> listing_buckets_;
  ListingBucket total_listing_bucket_;
  bool total_listing_bucket_filled_ = false;
  CallManager& calls_;
  std::shared_ptr<TelephonyProvider> telephony_;
  std::vector<std::string> telephony_routes_;
  ApiAuth auth_;
  bool metrics_public_;
};

}  // namespace concierge::host
