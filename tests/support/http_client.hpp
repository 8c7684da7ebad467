#pragma once
// A blocking HTTP client for tests (libcurl): what a user's curl would send.
#include <map>
#include <string>
#include <vector>

namespace concierge::testing {

// The control-API token every test daemon gets (Daemon sets CONCIERGE_API_TOKEN unless the test sets it) and
// http_request sends, unless the caller's headers carry an Authorization line of their own. "Authorization:" with
// nothing after it sends none (curl drops a header given without a value): the unauthenticated stranger.
inline constexpr const char* kTestApiToken = "test-api-token-4f1c9e2a7b";
inline constexpr const char* kNoAuthorization = "Authorization:";

struct HttpResult {
  long status = 0;  // 0 when the connection failed
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string error;
};

HttpResult http_request(const std::string& method, const std::string& url, const std::string& body = "",
                        const std::vector<std::string>& headers = {"Content-Type: application/json"});
inline HttpResult http_get(const std::string& url) { return http_request("GET", url); }
inline HttpResult http_post(const std::string& url, const std::string& body,
                            const std::vector<std::string>& headers = {"Content-Type: application/json"}) {
  return http_request("POST", url, body, headers);
}

}  // namespace concierge::testing
