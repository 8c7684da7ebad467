#pragma once
// The daemon's log: one line per message on stderr, "2026-11-24 19:03:07.123 INFO  [twilio] message" (local time,
// as Python's logging prints it, so the seed's users read the same shape). Every logger writes through one mutex,
// so lines from different threads never interleave.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "concierge/log.hpp"

namespace concierge::host {

// "DEBUG", "info", "Warning", "WARN", "ERROR", "CRITICAL" (Python's names; CRITICAL maps to error).
std::optional<LogLevel> parse_log_level(std::string_view text);

// Where finished lines go; each call gets one complete line ending in '\n'. The default writes to stderr.
using LogSink = std::function<void(std::string_view line)>;

// A logger for one component ("host", "twilio"); messages below `level` are dropped before formatting.
std::shared_ptr<Logger> make_logger(std::string component, LogLevel level);
std::shared_ptr<Logger> make_logger(std::string component, LogLevel level, LogSink sink);

// The line make_logger writes (without the clock, for tests): control characters in the message are escaped
// ("\n" becomes the two characters \ n) so text from a caller or a provider cannot forge log lines.
std::string format_log_line(std::string_view timestamp, LogLevel level, std::string_view component,
                            std::string_view message);

}  // namespace concierge::host
