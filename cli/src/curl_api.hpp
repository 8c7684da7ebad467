#pragma once
// The Api over libcurl: one easy handle, reused so polls ride one keep-alive connection.
#include <atomic>
#include <chrono>
#include <string>

#include "app.hpp"

typedef void CURL;

namespace concierge::cli {

class CurlApi final : public Api {
 public:
  // `interrupt` (may be null) is polled during transfers: when it becomes true an interruptible request stops.
  // `token` ("" = none) goes out as "Authorization: Bearer <token>" on every request.
  CurlApi(std::string base_url, std::string token, std::chrono::milliseconds request_timeout,
          const std::atomic<bool>* interrupt);
  ~CurlApi() override;
  CurlApi(const CurlApi&) = delete;
  CurlApi& operator=(const CurlApi&) = delete;

  ApiReply request(const std::string& method, const std::string& path, const std::string& body,
                   bool interruptible) override;

 private:
  std::string base_url_;
  std::string authorization_;  // the whole header line, or ""
  std::chrono::milliseconds request_timeout_;
  const std::atomic<bool>* interrupt_;
  CURL* curl_;
  bool interruptible_now_ = false;  // read by the progress callback during a transfer
};

}  // namespace concierge::cli
