#include "logging.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <unordered_map>

namespace concierge::host {
namespace {

std::mutex& output_mutex() {
  static std::mutex mutex;
  return mutex;
}

std::string local_timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm local{};
  localtime_r(&seconds, &local);
  char text[40];
  const size_t n = std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
  std::snprintf(text + n, sizeof text - n, ".%03d", static_cast<int>(millis));
  return text;
}

SecretMask& log_secrets() {
  static SecretMask secrets;
  return secrets;
}

// What makes two lines "the same kind" for the repeat limit: the text without digits, up to 80 bytes.
std::string repeat_key(LogLevel level, std::string_view message) {
  std::string key(1, static_cast<char>('0' + static_cast<int>(level)));
  for (char c : message) {
    if (key.size() >= 80) break;
    if (c < '0' || c > '9') key += c;
  }
  return key;
}

class SinkLogger final : public Logger {
 public:
  SinkLogger(std::string component, LogLevel level, LogSink sink)
      : component_(std::move(component)), level_(level), sink_(std::move(sink)) {}

  bool enabled(LogLevel level) const override { return level >= level_; }

  void write(LogLevel level, std::string_view message) override {
    if (!enabled(level)) return;
    std::string text = log_secrets().apply(message);
    if (level >= LogLevel::warning) {
      std::lock_guard lock(repeats_mutex_);
      const auto now = std::chrono::steady_clock::now();
      if (repeats_.size() > 4096) {  // many kinds: forget the ones whose window is over
        for (auto it = repeats_.begin(); it != repeats_.end();)
          it = now - it->second.start >= kRepeatWindow && it->second.suppressed == 0 ? repeats_.erase(it) : ++it;
      }
      Repeat& repeat = repeats_[repeat_key(level, message)];
      if (repeat.count == 0 || now - repeat.start >= kRepeatWindow) {
        if (repeat.suppressed > 0)
          text += " (" + std::to_string(repeat.suppressed) + " more like this were suppressed in " +
                  std::to_string(kRepeatWindow.count()) + " s)";
        repeat = Repeat{now, 0, 0};
      }
      if (++repeat.count > kRepeatBurst) {
        ++repeat.suppressed;
        return;
      }
    }
    const std::string line = format_log_line(local_timestamp(), level, component_, text);
    std::lock_guard lock(output_mutex());
    if (sink_) {
      sink_(line);
    } else {
      std::fwrite(line.data(), 1, line.size(), stderr);
      std::fflush(stderr);
    }
  }

 private:
  struct Repeat {
    std::chrono::steady_clock::time_point start;
    int count = 0;
    std::uint64_t suppressed = 0;
  };
  std::string component_;
  LogLevel level_;
  LogSink sink_;
  std::mutex repeats_mutex_;
  std::unordered_map<std::string, Repeat> repeats_;
};

}  // namespace

void set_log_secrets(SecretMask secrets) { log_secrets() = std::move(secrets); }

std::optional<LogLevel> parse_log_level(std::string_view text) {
  std::string upper;
  for (char c : text) upper += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  if (upper == "DEBUG") return LogLevel::debug;
  if (upper == "INFO") return LogLevel::info;
  if (upper == "WARNING" || upper == "WARN") return LogLevel::warning;
  if (upper == "ERROR" || upper == "CRITICAL") return LogLevel::error;
  return std::nullopt;
}

std::string format_log_line(std::string_view timestamp, LogLevel level, std::string_view component,
                            std::string_view message) {
  std::string line;
  line.reserve(timestamp.size() + component.size() + message.size() + 16);
  line += timestamp;
  line += ' ';
  const std::string_view name = to_string(level);
  line += name;
  for (size_t i = name.size(); i < 5; ++i) line += ' ';
  line += " [";
  line += component;
  line += "] ";
  for (char c : to_valid_utf8(message)) {
    switch (c) {
      case '\n': line += "\\n"; break;
      case '\r': line += "\\r"; break;
      case '\t': line += "    "; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<unsigned char>(c));
          line += escaped;
        } else {
          line += c;
        }
    }
  }
  line += '\n';
  return line;
}

std::shared_ptr<Logger> make_logger(std::string component, LogLevel level) {
  return std::make_shared<SinkLogger>(std::move(component), level, LogSink{});
}

std::shared_ptr<Logger> make_logger(std::string component, LogLevel level, LogSink sink) {
  return std::make_shared<SinkLogger>(std::move(component), level, std::move(sink));
}

}  // namespace concierge::host
