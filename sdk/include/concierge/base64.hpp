#pragma once
// Standard base64 (RFC 4648, with padding) into caller-owned storage, so the per-frame path allocates nothing.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace concierge::base64 {

constexpr std::size_t encoded_size(std::size_t bytes) { return (bytes + 2) / 3 * 4; }
constexpr std::size_t max_decoded_size(std::size_t chars) { return chars / 4 * 3 + 3; }

// Writes encoded_size(in.size()) characters; out must have room. Returns the count written.
std::size_t encode(std::span<const std::uint8_t> in, std::span<char> out);
// Decodes; returns the bytes written, or nullopt when the input is not valid base64 (bad character, bad length,
// bad padding) or out is too small. Whitespace is not accepted.
std::optional<std::size_t> decode(std::string_view in, std::span<std::uint8_t> out);

// Convenience forms for cold paths (tests, control messages).
std::string encode(std::span<const std::uint8_t> in);
std::optional<std::string> decode(std::string_view in);

}  // namespace concierge::base64
