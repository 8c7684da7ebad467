#include "http_api.hpp"

#include "call_request.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>

namespace concierge::host {
namespace {
// The client's address without the ":port" the server appends to a direct connection's peer.
std::string client_address(const std::string& remote) {
  const auto colon = remote.rfind(':');
  if (colon == std::string::npos) return remote;
  const std::string host = remote.substr(0, colon);
  unsigned char ip[16];
  if (inet_pton(AF_INET, host.c_str(), ip) == 1 || inet_pton(AF_INET6, host.c_str(), ip) == 1) return host;
  return remote;
}
// Records hold only valid UTF-8 (CallBridge cleans what plugins give it); replacing rather than throwing is the last
// line of defence, so that no record can ever make an answer fail.
HttpResponse reply(int status, const nlohmann::json& body) {
  return HttpResponse::json(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// A query parameter that must be a whole number in [min, max]; nullopt when absent, an error text when bad.
struct NumberParameter {
  std::optional<std::uint64_t> value;
  std::string error;
};
NumberParameter number_parameter(const HttpRequest& request, const std::string& name, std::uint64_t min,
                                 std::uint64_t max) {
  auto it = request.query.find(name);
  if (it == request.query.end()) return {};
  const std::string& text = it->second;
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min || value > max)
    return {std::nullopt, "\"" + name + "\" must be a whole number from " + std::to_string(min) + " to " +
                              std::to_string(max)};
  return {value, ""};
}

HttpResponse method_not_allowed(std::string_view allowed) {
  auto r = HttpResponse::json_error(405, "method not allowed; use " + std::string(allowed));
  r.headers.emplace_back("Allow", std::string(allowed));
  return r;
}
}  // namespace

HttpApi::HttpApi(CallManager& calls, std::shared_ptr<TelephonyProvider> telephony, ApiAuth auth, bool metrics_public)
    : calls_(calls),
      telephony_(std::move(telephony)),
      telephony_routes_(telephony_->http_routes()),
      auth_(std::move(auth)),
      metrics_public_(metrics_public) {}

namespace {
// A token bucket holding two seconds' worth of `rate`, brought up to `now`.
void refill(double& tokens, std::chrono::steady_clock::time_point& at, std::size_t rate, bool fresh,
            std::chrono::steady_clock::time_point now) {
  const double capacity = 2.0 * static_cast<double>(rate);
  tokens = fresh ? capacity
                 : std::min(capacity, tokens + std::chrono::duration<double>(now - at).count() *
                                                   static_cast<double>(rate));
  at = now;
}
// Whole seconds until `tokens` cover `cost` at `rate`.
std::uint64_t seconds_until(double tokens, double cost, std::size_t rate) {
  return static_cast<std::uint64_t>(std::ceil((cost - tokens) / static_cast<double>(rate)));
}
}  // namespace

std::optional<HttpApi::ListingRefusal> HttpApi::refuse_listing(const std::string& client, std::size_t entries) {
  if (listing_rate_ == 0 && total_listing_rate_ == 0) return std::nullopt;
  const auto now = std::chrono::steady_clock::now();
  // Both budgets are checked before either is spent: a listing refused by one costs the other nothing.
  ListingBucket* own = nullptr;
  double own_cost = 0;
  if (listing_rate_ > 0) {
    own = &client_listing_bucket(client, now);
    own_cost = static_cast<double>(std::min<std::size_t>(entries, listing_rate_));
    if (own->tokens < own_cost) return ListingRefusal{seconds_until(own->tokens, own_cost, listing_rate_), false};
  }
  if (total_listing_rate_ > 0) {
    refill(total_listing_bucket_.tokens, total_listing_bucket_.at, total_listing_rate_, !total_listing_bucket_filled_,
           now);
    total_listing_bucket_filled_ = true;
    const double cost = static_cast<double>(std::min<std::size_t>(entries, total_listing_rate_));
    if (total_listing_bucket_.tokens < cost)
      return ListingRefusal{seconds_until(total_listing_bucket_.tokens, cost, total_listing_rate_), true};
    total_listing_bucket_.tokens -= cost;
  }
  if (own) own->tokens -= own_cost;
  return std::nullopt;
}

HttpApi::ListingBucket& HttpApi::client_listing_bucket(const std::string& client,
                                                       std::chrono::steady_clock::time_point now) {
  const double capacity = 2.0 * static_cast<double>(listing_rate_);
  if (listing_buckets_.size() > 10'000) {
    // Bounded: buckets that have refilled are as good as new ones.
    std::erase_if(listing_buckets_, [&](const auto& entry) {
      return std::chrono::duration<double>(now - entry.second.at).count() * static_cast<double>(listing_rate_) +
                 entry.second.tokens >= capacity;
    });
  }
  auto [it, fresh] = listing_buckets_.try_emplace(client);
  refill(it->second.tokens, it->second.at, listing_rate_, fresh, now);
  return it->second;
}

std::optional<HttpResponse> HttpApi::refuse_upgrade(const HttpRequest& request, Face face) {
  if (request.path != "/media-stream") return HttpResponse::json_error(404, "no WebSocket at " + request.path);
  if (face == Face::control)
    return HttpResponse::json_error(404, "/media-stream is served on the public listener (server.public_port), not "
                                         "here");
  return std::nullopt;
}

HttpResponse HttpApi::handle(const HttpRequest& request, Face face) {
  const std::string& path = request.path;
  const bool get = request.method == "GET";
  const bool post = request.method == "POST";

  if (path == "/health") {
    if (!get) return method_not_allowed("GET");
    return reply(200, {{"status", "healthy"}, {"service", "ai-concierge-voice"}});
  }
  const bool provider_route =
      path == "/media-stream" ||
      std::find(telephony_routes_.begin(), telephony_routes_.end(), path) != telephony_routes_.end();
  if (face == Face::control && provider_route)
    return HttpResponse::json_error(404, path + " is served on the public listener (server.public_port), not here");
  if (face == Face::public_ && !provider_route)
    // Not even 401: the public face does not say that a control API exists.
    return HttpResponse::json_error(404, "no route for " + request.method + " " + path);
  if (path == "/media-stream") return HttpResponse::json_error(426, "/media-stream is a WebSocket endpoint");
  if (provider_route) return telephony_->handle_http(request);
  if (path == "/metrics" && metrics_public_) {
    if (!get) return method_not_allowed("GET");
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", calls_.prometheus_metrics(), {}};
  }
  // The control API: nothing below answers (not even 404 or 405) without the token.
  if (auto refusal = auth_.check(request)) {
    calls_.note_unauthorized();
    return *refusal;
  }
  if (path == "/metrics") {
    if (!get) return method_not_allowed("GET");
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", calls_.prometheus_metrics(), {}};
  }
  if (path == "/calls" || path == "/calls/") {
    if (get) {
      const auto limit = number_parameter(request, "limit", 1, CallManager::kMaxPageSize);
      if (!limit.error.empty()) return HttpResponse::json_error(400, limit.error);
      std::optional<ListingPosition> after;
      if (auto cursor = request.query.find("cursor"); cursor != request.query.end()) {
        after = CallManager::parse_cursor(cursor->second);
        if (!after) return HttpResponse::json_error(400, "\"cursor\" must be the next_cursor of a previous page");
      }
      const std::size_t entries = limit.value.value_or(CallManager::kDefaultPageSize);
      const std::string client = client_address(request.remote_address);
      if (const auto refusal = refuse_listing(client, entries)) {
        const std::string why =
            refusal->total ? "too many listings from all clients together: at most " +
                                 std::to_string(total_listing_rate_) + " entries a second in all"
                           : "too many listings from " + client + ": at most " + std::to_string(listing_rate_) +
                                 " entries a second";
        HttpResponse refused =
            reply(429, {{"error", why + "; try again shortly"}, {"retry_after_seconds", refusal->retry_after_seconds}});
        refused.headers.emplace_back("Retry-After", std::to_string(refusal->retry_after_seconds));
        return refused;
      }
      try {
        return HttpResponse::json(200, calls_.list_page(entries, after));
      } catch (const std::exception& e) {
        return HttpResponse::json_error(500, std::string("the call store could not be read: ") + e.what());
      }
    }
    if (post) return create_call(request);
    return method_not_allowed("GET, POST");
  }
  if (path.rfind("/calls/", 0) == 0) {
    // /calls/{id}/status, /calls/{id}, /calls/{id}/hangup
    std::string rest = path.substr(7);
    std::string action;
    if (auto slash = rest.find('/'); slash != std::string::npos) {
      action = rest.substr(slash + 1);
      rest.resize(slash);
    }
    if (rest.empty()) return HttpResponse::json_error(404, "no call id in " + path);
    if (action.empty() || action == "status") {
      if (!get) return method_not_allowed("GET");
      std::optional<nlohmann::json> record;
      try {
        record = calls_.status(rest);
      } catch (const std::exception& e) {
        return HttpResponse::json_error(500, std::string("the call store could not be read: ") + e.what());
      }
      if (!record) return HttpResponse::json_error(404, "no call with id " + rest);
      return reply(200, *record);
    }
    if (action == "hangup") {
      if (!post) return method_not_allowed("POST");
      auto r = calls_.hang_up(rest);
      return reply(r.status, r.body);
    }
    return HttpResponse::json_error(404, "no route for " + request.method + " " + path);
  }
  return HttpResponse::json_error(404, "no route for " + request.method + " " + path);
}

HttpResponse HttpApi::create_call(const HttpRequest& request) {
  auto reading = read_call_request(request.body);
  if (!reading.task) return HttpResponse::json_error(400, reading.error);
  const TaskRequest& task = *reading.task;
  // One API token today, so every call placed through the API counts against it (calls.limits_per_token).
  auto r = reading.dry_run ? calls_.plan_only(task) : calls_.start(task, kApiTokenOwner);
  HttpResponse response = reply(r.status, r.body);
  response.headers = std::move(r.headers);
  return response;
}

}  // namespace concierge::host
