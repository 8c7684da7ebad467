#pragma once
// Text that crosses the daemon's boundary (a provider's error body, a webhook's form field, a client's request)
// may be anything. These helpers turn it into something every later step can take: valid UTF-8 (so a JSON
// serialiser never throws on it), cut at a character boundary, with known secrets masked. Pure functions; any thread.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace concierge {

// True when `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view text);

// `text` with every byte that is not part of a well-formed UTF-8 sequence replaced by U+FFFD. Valid text comes back
// unchanged.
std::string to_valid_utf8(std::string_view text);

// At most `max_bytes` of `text` made valid (to_valid_utf8), never cutting a character in two; when something was cut
// off, `ellipsis` is appended (it does not count toward max_bytes).
std::string truncate_utf8(std::string_view text, std::size_t max_bytes, std::string_view ellipsis = "...");

// The secrets a component knows (API keys, auth tokens) that must never reach a log line, a record or an answer.
// Secrets shorter than kMinLength are ignored: masking "ab" would mangle ordinary text and protects nothing.
class SecretMask {
 public:
  static constexpr std::size_t kMinLength = 6;
  static constexpr std::string_view kMask = "[redacted]";

  void add(std::string_view secret);
  bool empty() const { return secrets_.empty(); }
  // `text` with every occurrence of a secret replaced by kMask, and what survives of a secret a truncation cut in two:
  // a prefix of at least kMinLength characters at the end of `text` or just before an ellipsis ("..." or U+2026,
  // what truncate_utf8 and most cuts leave). Mask after cutting, not before.
  std::string apply(std::string_view text) const;

 private:
  std::vector<std::string> secrets_;  // longest first, so a secret containing another is masked whole
};

}  // namespace concierge
