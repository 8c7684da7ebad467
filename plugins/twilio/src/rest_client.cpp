#include "rest_client.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "concierge/http.hpp"
#include "concierge/text.hpp"
#include "twilio_config.hpp"

namespace concierge::twilio {

HttpClientRequest twilio_form_post(const TwilioConfig& config, std::string_view path, std::string form_body,
                                   std::chrono::milliseconds timeout) {
  HttpClientRequest request;
  request.method = "POST";
  request.url = config.api_base_url + "/2010-04-01/Accounts/" + url_encode(config.account_sid) + "/" +
                std::string(path);
  request.headers = {{"Accept", "application/json"},
                     {"Content-Type", "application/x-www-form-urlencoded"},
                     {"User-Agent", "concierge-twilio/1.0"}};
  request.body = std::move(form_body);
  request.username = config.account_sid;
  request.password = config.auth_token;
  request.timeout = timeout;
  request.connect_timeout = std::min<std::chrono::milliseconds>(timeout, std::chrono::seconds(10));
  // Twilio's answers are a few kilobytes; anything far bigger is not Twilio and is cut off rather than buffered.
  request.max_response_bytes = 1 << 20;
  return request;
}

std::string form_encode(const FormFields& fields) {
  std::string body;
  for (const auto& [name, value] : fields) {
    if (!body.empty()) body += '&';
    body += url_encode(name);
    body += '=';
    body += url_encode(value);
  }
  return body;
}

std::string describe_failure(const HttpClientResponse& response, std::string_view api_base_url) {
  if (!response.error.empty())
    return "could not reach Twilio at " + std::string(api_base_url) + ": " + response.error;
  const auto json = nlohmann::json::parse(response.body, nullptr, false);
  if (json.is_object() && json.contains("code") && json.contains("message")) {
    std::string reason = "Twilio error ";
    reason += json["code"].is_number() ? std::to_string(json["code"].get<long long>()) : json["code"].dump();
    reason += ": ";
    reason += json["message"].is_string() ? json["message"].get<std::string>() : json["message"].dump();
    if (json.contains("detail") && json["detail"].is_string() && !json["detail"].get<std::string>().empty())
      reason += " - " + json["detail"].get<std::string>();
    if (json.contains("more_info") && json["more_info"].is_string())
      reason += " (" + json["more_info"].get<std::string>() + ")";
    return reason;
  }
  // The start of whatever came back, cut at a character boundary: the record it lands in must stay valid UTF-8.
  std::string snippet = truncate_utf8(response.body, 200);
  for (char& c : snippet)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  return "Twilio answered HTTP " + std::to_string(response.status) + (snippet.empty() ? "" : ": " + snippet);
}

}  // namespace concierge::twilio
