#include "curl_api.hpp"

#include <curl/curl.h>

namespace concierge::cli {
namespace {

size_t append_body(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

struct ProgressState {
  const std::atomic<bool>* interrupt;
  bool interruptible;
};

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* state = static_cast<const ProgressState*>(user);
  return state->interruptible && state->interrupt && state->interrupt->load() ? 1 : 0;
}

}  // namespace

CurlApi::CurlApi(std::string base_url, std::string token, std::chrono::milliseconds request_timeout,
                 const std::atomic<bool>* interrupt)
    : base_url_(std::move(base_url)),
      authorization_(token.empty() ? "" : "Authorization: Bearer " + token),
      request_timeout_(request_timeout), interrupt_(interrupt), curl_(curl_easy_init()) {}

CurlApi::~CurlApi() {
  if (curl_) curl_easy_cleanup(curl_);
}

ApiReply CurlApi::request(const std::string& method, const std::string& path, const std::string& body,
                          bool interruptible) {
  ApiReply reply;
  if (!curl_) {
    reply.failure = ApiReply::Failure::other;
    reply.detail = "libcurl could not start";
    return reply;
  }
  CURL* curl = curl_;
  curl_easy_reset(curl);
  const std::string url = base_url_ + path;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  ProgressState progress{interrupt_, interruptible};
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json");
  if (method == "POST") headers = curl_slist_append(headers, "Content-Type: application/json");
  if (!authorization_.empty()) headers = curl_slist_append(headers, authorization_.c_str());

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request_timeout_.count()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &progress);
  if (method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  } else if (method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  }

  const CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  switch (code) {
    case CURLE_OK: {
      long status = 0;
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
      reply.status = static_cast<int>(status);
      return reply;
    }
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: reply.failure = ApiReply::Failure::unreachable; break;
    case CURLE_OPERATION_TIMEDOUT: reply.failure = ApiReply::Failure::timeout; break;
    case CURLE_ABORTED_BY_CALLBACK: reply.failure = ApiReply::Failure::interrupted; break;
    default: reply.failure = ApiReply::Failure::other; break;
  }
  reply.detail = error_buffer[0] ? error_buffer : curl_easy_strerror(code);
  return reply;
}

}  // namespace concierge::cli
