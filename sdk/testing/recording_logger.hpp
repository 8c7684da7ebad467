#pragma once
// A Logger that keeps every line, for tests that check what a plugin or the host said. Thread-safe: the host's
// blocking workers log too. Header-only.
#include <algorithm>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "concierge/log.hpp"

namespace concierge::testing {

class RecordingLogger final : public Logger {
 public:
  void write(LogLevel, std::string_view message) override {
    std::lock_guard lock(mutex_);
    lines_.emplace_back(message);
  }
  bool enabled(LogLevel) const override { return true; }
  // How many lines are exactly `line`.
  int count(const std::string& line) const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(std::count(lines_.begin(), lines_.end(), line));
  }
  // How many lines start with `prefix`.
  int starting(const std::string& prefix) const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(
        std::count_if(lines_.begin(), lines_.end(), [&](const std::string& l) { return l.rfind(prefix, 0) == 0; }));
  }
  // Whether any line holds `text`.
  bool contains(std::string_view text) const {
    std::lock_guard lock(mutex_);
    return std::any_of(lines_.begin(), lines_.end(),
                       [&](const std::string& l) { return l.find(text) != std::string::npos; });
  }
  // Every line, one a line: for a failure's message.
  std::string all() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& l : lines_) out += l + "\n";
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

}  // namespace concierge::testing
