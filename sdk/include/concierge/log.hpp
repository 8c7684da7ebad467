#pragma once
// Logging from plugins goes through the host, which stamps time, level and the plugin's name.
#include <string>
#include <string_view>

namespace concierge {

enum class LogLevel { debug = 0, info = 1, warning = 2, error = 3 };
std::string_view to_string(LogLevel level);

class Logger {
 public:
  virtual ~Logger();
  virtual void write(LogLevel level, std::string_view message) = 0;
  virtual bool enabled(LogLevel level) const = 0;

  void debug(std::string_view m) { if (enabled(LogLevel::debug)) write(LogLevel::debug, m); }
  void info(std::string_view m) { if (enabled(LogLevel::info)) write(LogLevel::info, m); }
  void warning(std::string_view m) { if (enabled(LogLevel::warning)) write(LogLevel::warning, m); }
  void error(std::string_view m) { if (enabled(LogLevel::error)) write(LogLevel::error, m); }
};

}  // namespace concierge
