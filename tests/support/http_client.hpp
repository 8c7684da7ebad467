#pragma once
// A blocking HTTP client for tests (libcurl): what a user's curl would send.
#include <map>
#include <string>
#include <vector>

namespace concierge::testing {

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
