#include "rest_client.hpp"

#include <mutex>

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include "concierge/http.hpp"
#include "concierge/text.hpp"

namespace concierge::twilio {
namespace {
std::size_t append_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  // Twilio's answers are a few kilobytes; anything far bigger is not Twilio and is cut off rather than buffered.
  constexpr std::size_t kMaxBody = 1 << 20;
  const std::size_t bytes = size * count;
  if (body->size() + bytes > kMaxBody) return 0;
  body->append(data, bytes);
  return bytes;
}
}  // namespace

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

RestResponse perform_form_post(const RestRequest& request) {
  RestResponse response;
  CURL* curl = curl_easy_init();
  if (!curl) {
    response.transport_error = "libcurl could not start a request";
    return response;
  }
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
  curl_easy_setopt(curl, CURLOPT_USERNAME, request.username.c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, request.password.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.form_body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.form_body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "concierge-twilio/1.0");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, static_cast<long>(std::min<long>(request.timeout.count(), 10)));
  // Worker threads: signals must not be used for timeouts.
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  const CURLcode result = curl_easy_perform(curl);
  if (result != CURLE_OK) {
    response.transport_error = error_buffer[0] ? error_buffer : curl_easy_strerror(result);
  } else {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.http_status);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return response;
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

std::string describe_failure(const RestResponse& response, std::string_view api_base_url) {
  if (!response.transport_error.empty())
    return "could not reach Twilio at " + std::string(api_base_url) + ": " + response.transport_error;
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
  return "Twilio answered HTTP " + std::to_string(response.http_status) + (snippet.empty() ? "" : ": " + snippet);
}

}  // namespace concierge::twilio
