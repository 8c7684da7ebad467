#include "concierge/openai/flat_event.hpp"

#include <algorithm>
#include <cstring>

#include "concierge/base64.hpp"

namespace concierge::openai_common {

AudioAppendWriter::AudioAppendWriter(std::string_view event_type)
    : head_(R"({"type":")" + std::string(event_type) + R"(","audio":")") {}

std::string_view AudioAppendWriter::write(std::span<const std::uint8_t> audio) {
  static constexpr std::string_view kTail = R"("})";
  const std::size_t size = head_.size() + base64::encoded_size(audio.size()) + kTail.size();
  if (text_.size() < size) text_.resize(size);  // grows once to the frame size, then reused
  std::memcpy(text_.data(), head_.data(), head_.size());
  const std::size_t n =
      base64::encode(audio, std::span<char>(text_.data() + head_.size(), text_.size() - head_.size()));
  std::memcpy(text_.data() + head_.size() + n, kTail.data(), kTail.size());
  return std::string_view(text_.data(), head_.size() + n + kTail.size());
}

namespace {

struct Cursor {
  std::string_view s;
  std::size_t i = 0;
  void skip_ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) ++i;
  }
  bool eat(char c) {
    skip_ws();
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  // A string without escapes, returned in place. `escaped` is set (and the string skipped) when it has escapes.
  bool string(std::string_view& out, bool& escaped) {
    skip_ws();
    if (i >= s.size() || s[i] != '"') return false;
    const std::size_t start = ++i;
    escaped = false;
    while (i < s.size() && s[i] != '"') {
      if (s[i] == '\\') {
        escaped = true;
        ++i;
      }
      ++i;
    }
    if (i >= s.size()) return false;
    out = s.substr(start, i - start);
    ++i;
    return true;
  }
  bool scalar() {  // number, true, false, null
    skip_ws();
    const std::size_t start = i;
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ' ' && s[i] != '\n' && s[i] != '\r' &&
           s[i] != '\t')
      ++i;
    if (i == start) return false;
    const char c = s[start];
    return c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n';
  }
};

}  // namespace

bool scan_flat_object(std::string_view text, std::span<const std::string_view> keys,
                      std::span<std::string_view> values) {
  std::fill(values.begin(), values.end(), std::string_view());
  Cursor c{text};
  if (!c.eat('{')) return false;
  if (c.eat('}')) return false;
  for (;;) {
    std::string_view key;
    bool key_escaped = false;
    if (!c.string(key, key_escaped) || key_escaped) return false;
    if (!c.eat(':')) return false;
    c.skip_ws();
    if (c.i >= text.size()) return false;
    if (text[c.i] == '"') {
      std::string_view value;
      bool escaped = false;
      if (!c.string(value, escaped)) return false;
      const auto wanted = std::find(keys.begin(), keys.end(), key);
      if (wanted != keys.end() && static_cast<std::size_t>(wanted - keys.begin()) < values.size()) {
        if (escaped) return false;
        values[wanted - keys.begin()] = value;
      }
    } else if (text[c.i] == '{' || text[c.i] == '[') {
      return false;
    } else if (!c.scalar()) {
      return false;
    }
    if (c.eat(',')) continue;
    if (c.eat('}')) break;
    return false;
  }
  c.skip_ws();
  return c.i == text.size();
}

}  // namespace concierge::openai_common
