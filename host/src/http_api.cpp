#include "http_api.hpp"

#include <algorithm>

namespace concierge::host {
namespace {
HttpResponse reply(int status, const nlohmann::json& body) { return HttpResponse::json(status, body.dump()); }

HttpResponse method_not_allowed(std::string_view allowed) {
  auto r = HttpResponse::json_error(405, "method not allowed; use " + std::string(allowed));
  r.headers.emplace_back("Allow", std::string(allowed));
  return r;
}
}  // namespace

HttpApi::HttpApi(CallManager& calls, std::shared_ptr<TelephonyProvider> telephony)
    : calls_(calls), telephony_(std::move(telephony)), telephony_routes_(telephony_->http_routes()) {}

HttpResponse HttpApi::handle(const HttpRequest& request) {
  const std::string& path = request.path;
  const bool get = request.method == "GET";
  const bool post = request.method == "POST";

  if (path == "/health") {
    if (!get) return method_not_allowed("GET");
    return reply(200, {{"status", "healthy"}, {"service", "ai-concierge-voice"}});
  }
  if (path == "/metrics") {
    if (!get) return method_not_allowed("GET");
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", calls_.prometheus_metrics(), {}};
  }
  if (path == "/calls" || path == "/calls/") {
    if (get) return reply(200, calls_.list());
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
      auto record = calls_.status(rest);
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
  if (std::find(telephony_routes_.begin(), telephony_routes_.end(), path) != telephony_routes_.end())
    return telephony_->handle_http(request);
  if (path == "/media-stream") return HttpResponse::json_error(426, "/media-stream is a WebSocket endpoint");
  return HttpResponse::json_error(404, "no route for " + request.method + " " + path);
}

HttpResponse HttpApi::create_call(const HttpRequest& request) {
  // The body is read as JSON whatever the Content-Type says: `curl -d '{...}'` sends it as a form.
  nlohmann::json body;
  try {
    body = nlohmann::json::parse(request.body);
  } catch (const nlohmann::json::parse_error& e) {
    return HttpResponse::json_error(400, std::string("the body is not valid JSON: ") + e.what());
  }
  if (!body.is_object()) return HttpResponse::json_error(400, "the body must be a JSON object");
  for (const auto& [key, value] : body.items())
    if (key != "request" && key != "fields")
      return HttpResponse::json_error(400, "unknown field \"" + key + "\" (expected \"request\" and/or \"fields\")");
  TaskRequest task;
  if (body.contains("request")) {
    if (!body["request"].is_string()) return HttpResponse::json_error(400, "\"request\" must be a string");
    task.text = body["request"].get<std::string>();
  }
  if (body.contains("fields")) {
    if (!body["fields"].is_object()) return HttpResponse::json_error(400, "\"fields\" must be an object");
    task.fields = body["fields"];
  }
  if (task.text.empty() && task.fields.empty())
    return HttpResponse::json_error(400, "say what to book: {\"request\": \"Book a table at ...\"}");
  auto r = calls_.start(task);
  return reply(r.status, r.body);
}

}  // namespace concierge::host
