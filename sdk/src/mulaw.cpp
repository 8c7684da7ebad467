// G.711 mu-law after the ITU-T reference (G.191 STL g711.c): 14-bit magnitude, bias 33 (0x84 on the 16-bit scale),
// clip at 32635. Both directions are table look-ups built once at start-up (at compile time: the tables are
// constexpr). This file finds the segment by scanning for the top bit of the biased 16-bit value; the tests check
// every code against the STL's own segment-search formulation, written out independently.
#include "concierge/mulaw.hpp"

#include <array>

namespace concierge::mulaw {
namespace {
constexpr int kBias = 0x84;
constexpr int kClip = 32635;

constexpr std::uint8_t encode_reference(std::int16_t sample) {
  // Negative samples take their ONE'S complement magnitude (~x = -x - 1), as G.191's ulaw_compress does: with -x the
  // quantisation boundaries of negative values would sit one LSB off (e.g. -4 -> 0x7E instead of 0x7F).
  int pcm = sample;
  const int sign = pcm < 0 ? 0x80 : 0;
  if (sign) pcm = ~pcm;
  if (pcm > kClip) pcm = kClip;
  pcm += kBias;
  int exponent = 7;
  for (int mask = 0x4000; (pcm & mask) == 0 && exponent > 0; mask >>= 1) --exponent;
  int mantissa = (pcm >> (exponent + 3)) & 0x0F;
  return static_cast<std::uint8_t>(~(sign | (exponent << 4) | mantissa));
}

constexpr std::int16_t decode_reference(std::uint8_t code) {
  int u = ~code & 0xFF;
  int t = ((u & 0x0F) << 3) + kBias;
  t <<= (u & 0x70) >> 4;
  return static_cast<std::int16_t>((u & 0x80) ? (kBias - t) : (t - kBias));
}

struct Tables {
  std::array<std::int16_t, 256> decode{};
  std::array<std::uint8_t, 65536> encode{};
  constexpr Tables() {
    for (int c = 0; c < 256; ++c) decode[c] = decode_reference(static_cast<std::uint8_t>(c));
    for (int s = -32768; s < 32768; ++s)
      encode[static_cast<std::uint16_t>(s)] = encode_reference(static_cast<std::int16_t>(s));
  }
};
const Tables kTables;
}  // namespace

std::int16_t decode(std::uint8_t code) { return kTables.decode[code]; }
std::uint8_t encode(std::int16_t sample) { return kTables.encode[static_cast<std::uint16_t>(sample)]; }

std::size_t decode(std::span<const std::uint8_t> in, std::span<std::int16_t> out) {
  const std::size_t n = in.size() < out.size() ? in.size() : out.size();
  for (std::size_t i = 0; i < n; ++i) out[i] = kTables.decode[in[i]];
  return n;
}

std::size_t encode(std::span<const std::int16_t> in, std::span<std::uint8_t> out) {
  const std::size_t n = in.size() < out.size() ? in.size() : out.size();
  for (std::size_t i = 0; i < n; ++i) out[i] = kTables.encode[static_cast<std::uint16_t>(in[i])];
  return n;
}

}  // namespace concierge::mulaw
