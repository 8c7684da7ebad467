#include "concierge/text.hpp"

#include <functional>
#include <vector>

#include <algorithm>

namespace concierge {
namespace {
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// The length of the well-formed UTF-8 sequence starting at text[i], or 0 when the byte there does not start one.
std::size_t sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t n;
  unsigned char low = 0x80, high = 0xBF;  // the range of the second byte (RFC 3629's table)
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c == 0xE0) n = 3, low = 0xA0;
  else if (c >= 0xE1 && c <= 0xEC) n = 3;
  else if (c == 0xED) n = 3, high = 0x9F;  // no surrogates
  else if (c >= 0xEE && c <= 0xEF) n = 3;
  else if (c == 0xF0) n = 4, low = 0x90;
  else if (c >= 0xF1 && c <= 0xF3) n = 4;
  else if (c == 0xF4) n = 4, high = 0x8F;  // nothing above U+10FFFF
  else return 0;
  if (i + n > text.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return n;
}
}  // namespace

bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = sequence_length(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string to_valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = sequence_length(text, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(text.data() + i, n);
      i += n;
    }
  }
  return out;
}

std::string truncate_utf8(std::string_view text, std::size_t max_bytes, std::string_view ellipsis) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + ellipsis.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t n = sequence_length(text, i);
    const std::string_view piece = n == 0 ? kReplacement : text.substr(i, n);
    if (out.size() + piece.size() > max_bytes) break;
    out += piece;
    i += n == 0 ? 1 : n;
  }
  if (i < text.size()) out += ellipsis;
  return out;
}

void SecretMask::add(std::string_view secret) {
  if (secret.size() < kMinLength) return;
  if (std::find(secrets_.begin(), secrets_.end(), secret) != secrets_.end()) return;
  secrets_.emplace_back(secret);
  std::stable_sort(secrets_.begin(), secrets_.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string SecretMask::apply(std::string_view text) const {
  std::string out(text);
  for (const auto& secret : secrets_) {
    for (std::size_t at = out.find(secret); at != std::string::npos; at = out.find(secret, at + kMask.size()))
      out.replace(at, secret.size(), kMask);
  }
  if (secrets_.empty()) return out;
  // A secret a truncation cut in two: what survives of it is a prefix, at the end of the text or just before the
  // ellipsis the cut left ("..." or U+2026). Any prefix of kMinLength characters or more is masked there. The places
  // are taken from the end, so masking one leaves the others' offsets as they were.
  std::vector<std::size_t> cuts{out.size()};
  for (std::string_view marker : {std::string_view("..."), std::string_view("\xE2\x80\xA6")})
    for (std::size_t at = out.find(marker); at != std::string::npos; at = out.find(marker, at + marker.size()))
      cuts.push_back(at);
  std::sort(cuts.begin(), cuts.end(), std::greater<>());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  for (const std::size_t cut : cuts) {
    for (const auto& secret : secrets_) {
      std::size_t length = std::min(secret.size() - 1, cut);
      for (; length >= kMinLength; --length)
        if (out.compare(cut - length, length, secret, 0, length) == 0) break;
      if (length < kMinLength) continue;
      out.replace(cut - length, length, kMask);
      break;
    }
  }
  return out;
}

}  // namespace concierge
