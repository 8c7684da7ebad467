#include "concierge/base64.hpp"

#include <array>

namespace concierge::base64 {
namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_reverse() {
  std::array<std::int8_t, 256> table{};
  for (auto& v : table) v = -1;
  for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  return table;
}
constexpr auto kReverse = make_reverse();
}  // namespace

std::size_t encode(std::span<const std::uint8_t> in, std::span<char> out) {
  const std::size_t need = encoded_size(in.size());
  if (out.size() < need) return 0;
  std::size_t o = 0, i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t v = (in[i] << 16) | (in[i + 1] << 8) | in[i + 2];
    out[o++] = kAlphabet[(v >> 18) & 63];
    out[o++] = kAlphabet[(v >> 12) & 63];
    out[o++] = kAlphabet[(v >> 6) & 63];
    out[o++] = kAlphabet[v & 63];
  }
  if (const std::size_t rest = in.size() - i; rest) {
    std::uint32_t v = in[i] << 16;
    if (rest == 2) v |= in[i + 1] << 8;
    out[o++] = kAlphabet[(v >> 18) & 63];
    out[o++] = kAlphabet[(v >> 12) & 63];
    out[o++] = rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out[o++] = '=';
  }
  return o;
}

std::optional<std::size_t> decode(std::string_view in, std::span<std::uint8_t> out) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  if (!in.empty() && in.back() == '=') padding = (in.size() >= 2 && in[in.size() - 2] == '=') ? 2 : 1;
  const std::size_t produced = in.size() / 4 * 3 - padding;
  if (out.size() < produced) return std::nullopt;
  std::size_t o = 0;
  for (std::size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = in[i + k];
      if (c == '=' && last && k >= 4 - padding) {
        v <<= 6;
        continue;
      }
      const int d = kReverse[static_cast<unsigned char>(c)];
      if (d < 0) return std::nullopt;
      v = (v << 6) | static_cast<std::uint32_t>(d);
    }
    // RFC 4648 section 3.5: the bits a padded group leaves over must be zero. Rejecting anything else keeps one
    // encoding per byte string ("QR==" is not "QQ==").
    if (last && ((padding == 2 && (v & 0xFFFF) != 0) || (padding == 1 && (v & 0xFF) != 0))) return std::nullopt;
    out[o++] = static_cast<std::uint8_t>(v >> 16);
    if (!(last && padding == 2)) out[o++] = static_cast<std::uint8_t>(v >> 8);
    if (!(last && padding >= 1)) out[o++] = static_cast<std::uint8_t>(v);
  }
  return o;
}

std::string encode(std::span<const std::uint8_t> in) {
  std::string out(encoded_size(in.size()), '\0');
  encode(in, std::span<char>(out.data(), out.size()));
  return out;
}

std::optional<std::string> decode(std::string_view in) {
  std::string out(max_decoded_size(in.size()), '\0');
  auto n = decode(in, std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(out.data()), out.size()));
  if (!n) return std::nullopt;
  out.resize(*n);
  return out;
}

}  // namespace concierge::base64
