#include "media_message.hpp"

#include <cctype>
#include <charconv>
#include <cstdint>

namespace concierge::twilio {
namespace {

// A cursor over the message. Every function returns false on a syntax error; strings with escapes are reported as
// `has_escape` so the caller can leave them to the full parser (base64, SIDs and event names never contain any).
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r'))
      ++pos_;
  }
  bool at_end() {
    skip_space();
    return pos_ == text_.size();
  }
  bool consume(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  char peek() {
    skip_space();
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }

  // A string; `value` views its raw contents (escapes left as they are).
  bool string(std::string_view& value, bool& has_escape) {
    if (!consume('"')) return false;
    const std::size_t start = pos_;
    has_escape = false;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '"') {
        value = text_.substr(start, pos_ - start);
        ++pos_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c == '\\') {
        has_escape = true;
        if (++pos_ >= text_.size()) return false;
      }
      ++pos_;
    }
    return false;
  }

  // A number, true, false or null; `value` views its text.
  bool scalar(std::string_view& value) {
    skip_space();
    const std::size_t start = pos_;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '-' ||
                                   text_[pos_] == '+' || text_[pos_] == '.'))
      ++pos_;
    value = text_.substr(start, pos_ - start);
    if (value.empty()) return false;
    const char first = value.front();
    if (first == 't') return value == "true";
    if (first == 'f') return value == "false";
    if (first == 'n') return value == "null";
    return first == '-' || (first >= '0' && first <= '9');
  }

  // Any value, skipped; nesting is bounded so a hostile message cannot exhaust the stack.
  bool skip_value(int depth = 0) {
    if (depth > 32) return false;
    const char c = peek();
    if (c == '"') {
      std::string_view ignored;
      bool escape = false;
      return string(ignored, escape);
    }
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++pos_;
      if (consume(close)) return true;
      do {
        if (c == '{') {
          std::string_view key;
          bool escape = false;
          if (!string(key, escape) || !consume(':')) return false;
        }
        if (!skip_value(depth + 1)) return false;
      } while (consume(','));
      return consume(close);
    }
    std::string_view ignored;
    return scalar(ignored);
  }

  // A string or scalar value into `value`; false on syntax error. `plain` is false when the value is a string with
  // escapes or a nested structure (skipped).
  bool simple_value(std::string_view& value, bool& plain) {
    const char c = peek();
    plain = true;
    if (c == '"') {
      bool escape = false;
      if (!string(value, escape)) return false;
      plain = !escape;
      return true;
    }
    if (c == '{' || c == '[') {
      plain = false;
      return skip_value();
    }
    return scalar(value);
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

ScanResult scan_media_message(std::string_view message, MediaMessageView& out) {
  Scanner scan(message);
  std::string_view event;
  bool event_seen = false, payload_seen = false, mark_seen = false, needs_full_parser = false;
  out = {};
  if (!scan.consume('{')) return ScanResult::malformed;
  if (!scan.consume('}')) {
    do {
      std::string_view key;
      bool key_escape = false;
      if (!scan.string(key, key_escape) || !scan.consume(':')) return ScanResult::malformed;
      if (key_escape) {
        if (!scan.skip_value()) return ScanResult::malformed;
        needs_full_parser = true;
      } else if (key == "media" || key == "mark") {
        const bool is_media = key == "media";
        if (scan.peek() != '{') {
          if (!scan.skip_value()) return ScanResult::malformed;
          needs_full_parser = true;
          continue;
        }
        scan.consume('{');
        if (!scan.consume('}')) {
          do {
            std::string_view inner_key, value;
            bool escape = false, plain = true;
            if (!scan.string(inner_key, escape) || !scan.consume(':') || !scan.simple_value(value, plain))
              return ScanResult::malformed;
            if (escape || !plain) {
              if (inner_key == "payload" || inner_key == "timestamp" || inner_key == "track" || inner_key == "name")
                needs_full_parser = true;
              continue;
            }
            if (!is_media) {
              if (inner_key == "name") {
                out.mark_name = value;
                mark_seen = true;
              }
            } else if (inner_key == "payload") {
              out.payload = value;
              payload_seen = true;
            } else if (inner_key == "timestamp") {
              out.timestamp = value;
            } else if (inner_key == "track") {
              out.track = value;
            }
          } while (scan.consume(','));
          if (!scan.consume('}')) return ScanResult::malformed;
        }
      } else {
        std::string_view value;
        bool plain = true;
        if (!scan.simple_value(value, plain)) return ScanResult::malformed;
        if (key == "event") {
          if (!plain) needs_full_parser = true;
          event = value;
          event_seen = plain;
        } else if (key == "streamSid") {
          if (plain) out.stream_sid = value;
          else needs_full_parser = true;
        }
      }
    } while (scan.consume(','));
    if (!scan.consume('}')) return ScanResult::malformed;
  }
  if (!scan.at_end()) return ScanResult::malformed;
  if (needs_full_parser || !event_seen) return ScanResult::other;
  if (event == "media") return payload_seen ? ScanResult::media : ScanResult::malformed;
  if (event == "mark") return mark_seen ? ScanResult::mark : ScanResult::malformed;
  return ScanResult::other;
}

bool parse_timestamp_ms(std::string_view text, std::uint64_t& microseconds) {
  std::uint64_t ms = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return false;
  if (ms > UINT64_MAX / 1000) return false;
  microseconds = ms * 1000;
  return true;
}

}  // namespace concierge::twilio
