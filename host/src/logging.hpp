#pragma once
// The daemon's log: one line per message on stderr, "2026-11-24 19:03:07.123 INFO  [twilio] message" (local time,
// as Python's logging prints it, so the seed's users read the same shape). Every logger writes through one mutex,
// so lines from different threads never interleave.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "concierge/log.hpp"
#include "concierge/text.hpp"

namespace concierge::host {

// "DEBUG", "info", "Warning", "WARN", "ERROR", "CRITICAL" (Python's names; CRITICAL maps to error).
std::optional<LogLevel> parse_log_level(std::string_view text);

// Where finished lines go; each call gets one complete line ending in '\n'. The default writes to stderr.
using LogSink = std::function<void(std::string_view line)>;

// A logger for one component ("host", "twilio"); messages below `level` are dropped before formatting.
std::shared_ptr<Logger> make_logger(std::string component, LogLevel level);
std::shared_ptr<Logger> make_logger(std::string component, LogLevel level, LogSink sink);

// Secrets (API keys, auth tokens from the plugins' config) masked in every line any logger writes from now on, even
// when a provider echoes one back in an error. Call at start-up, before threads that log exist.
void set_log_secrets(SecretMask secrets);

// Warnings and errors that repeat (the same text once digits are ignored: "refused 10.0.0.7:5123" and
// "refused 10.0.0.8:6001" are one kind) are written at most kRepeatBurst times per kRepeatWindow per logger; the
// next line of that kind after the window says how many were suppressed. A flood of bad requests or a failing
// accept() then costs a few lines, not the disk.
inline constexpr int kRepeatBurst = 10;
inline constexpr std::chrono::seconds kRepeatWindow{10};

// The line make_logger writes (without the clock, for tests): control characters in the message are escaped
// ("\n" becomes the two characters \ n) so text from a caller or a provider cannot forge log lines; bytes that are not
// UTF-8 become U+FFFD.
std::string format_log_line(std::string_view timestamp, LogLevel level, std::string_view component,
                            std::string_view message);

}  // namespace concierge::host
