#pragma once
// Shared by the whole-daemon tests: start a daemon on configs/fast.yaml, poll a call to its end.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "daemon_process.hpp"
#include "http_client.hpp"

namespace concierge::testing {

inline std::string config_path(const std::string& name) {
  return std::string(CONCIERGE_INTEGRATION_CONFIGS) + "/" + name;
}

inline nlohmann::json json_of(const HttpResult& r) {
  try {
    return nlohmann::json::parse(r.body);
  } catch (...) {
    ADD_FAILURE() << "not JSON (" << r.status << "): " << r.body;
    return nullptr;
  }
}

// Polls GET /calls/{id}/status until the call is over; returns the final record.
inline nlohmann::json wait_for_end(const std::string& base, const std::string& call_id,
                                   std::chrono::seconds limit = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  nlohmann::json record;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = http_get(base + "/calls/" + call_id + "/status");
    if (r.status == 200) {
      record = nlohmann::json::parse(r.body);
      if (!record["result"].is_null()) return record;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "call " << call_id << " did not end in time: " << record.dump();
  return record;
}

inline std::filesystem::path temp_path(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() /
           ("concierge-it-" + name + "-" + std::to_string(::getpid()) + "-" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  return p;
}

}  // namespace concierge::testing
