// G.711 mu-law against an independent reference: the ITU-T G.191 STL g711.c algorithm (ulaw_compress /
// ulaw_expand), written out here from its description. The STL works on the 14 most significant bits; negative
// input is taken in one's complement, the segment is found by counting shifts of (magnitude + 33) >> 6, and the
// code is the bit-inverted (segment, mantissa) with the sign bit set for non-negative input.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "concierge/mulaw.hpp"

namespace {

std::uint8_t stl_ulaw_compress(std::int16_t linear) {
  // 14-bit magnitude plus the bias 33; negative values in one's complement.
  int absno = linear < 0 ? ((~linear) >> 2) + 33 : (linear >> 2) + 33;
  if (absno > 0x1FFF) absno = 0x1FFF;
  // Segment search: the number of right shifts of absno >> 6 until it is zero, plus one.
  int i = absno >> 6;
  int segno = 1;
  while (i != 0) {
    ++segno;
    i >>= 1;
  }
  const int high_nibble = 0x0008 - segno;
  const int low_nibble = 0x000F - ((absno >> segno) & 0x000F);
  int code = (high_nibble << 4) | low_nibble;
  if (linear >= 0) code |= 0x0080;
  return static_cast<std::uint8_t>(code);
}

std::int16_t stl_ulaw_expand(std::uint8_t code) {
  const int sign = code < 0x80 ? -1 : 1;
  const int inverted = ~code;
  const int exponent = (inverted >> 4) & 0x07;
  const int segment = exponent + 1;
  const int mantissa = inverted & 0x0F;
  const int step = 4 << segment;
  return static_cast<std::int16_t>(sign * ((0x0080 << exponent) + step * mantissa + step / 2 - 4 * 33));
}

TEST(Mulaw, ReferenceSanity) {
  // Anchors of the standard, so the reference above cannot be wrong in the same way as the code under test.
  EXPECT_EQ(stl_ulaw_compress(0), 0xFF);
  EXPECT_EQ(stl_ulaw_compress(-1), 0x7F);
  EXPECT_EQ(stl_ulaw_compress(32767), 0x80);
  EXPECT_EQ(stl_ulaw_compress(-32768), 0x00);
  EXPECT_EQ(stl_ulaw_expand(0xFF), 0);
  EXPECT_EQ(stl_ulaw_expand(0x7F), 0);
  EXPECT_EQ(stl_ulaw_expand(0x80), 32124);
  EXPECT_EQ(stl_ulaw_expand(0x00), -32124);
  EXPECT_EQ(stl_ulaw_expand(0xFE), 8);   // first step of segment 0
  EXPECT_EQ(stl_ulaw_expand(0xEF), 132);  // first level of segment 1: (0x80 << 1) + 16/2 - 132
}

TEST(Mulaw, DecodesAll256CodesBitExactly) {
  int mismatches = 0;
  for (int code = 0; code < 256; ++code) {
    const auto c = static_cast<std::uint8_t>(code);
    if (concierge::mulaw::decode(c) != stl_ulaw_expand(c)) {
      if (++mismatches < 10)
        ADD_FAILURE() << "code " << code << ": got " << concierge::mulaw::decode(c) << ", reference "
                      << stl_ulaw_expand(c);
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(Mulaw, EncodesAll65536ValuesBitExactly) {
  int mismatches = 0;
  for (int value = -32768; value <= 32767; ++value) {
    const auto s = static_cast<std::int16_t>(value);
    if (concierge::mulaw::encode(s) != stl_ulaw_compress(s)) {
      if (++mismatches < 10)
        ADD_FAILURE() << "sample " << value << ": got " << int(concierge::mulaw::encode(s)) << ", reference "
                      << int(stl_ulaw_compress(s));
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(Mulaw, SpanFormsMatchScalarForms) {
  std::vector<std::int16_t> pcm(65536);
  for (int i = 0; i < 65536; ++i) pcm[static_cast<std::size_t>(i)] = static_cast<std::int16_t>(i - 32768);
  std::vector<std::uint8_t> codes(65536);
  ASSERT_EQ(concierge::mulaw::encode(pcm, codes), 65536u);
  for (std::size_t i = 0; i < pcm.size(); ++i) ASSERT_EQ(codes[i], stl_ulaw_compress(pcm[i])) << pcm[i];
  std::vector<std::uint8_t> all(256);
  for (int c = 0; c < 256; ++c) all[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(c);
  std::vector<std::int16_t> decoded(256);
  ASSERT_EQ(concierge::mulaw::decode(all, decoded), 256u);
  for (int c = 0; c < 256; ++c) ASSERT_EQ(decoded[static_cast<std::size_t>(c)], stl_ulaw_expand(static_cast<std::uint8_t>(c)));
}

TEST(Mulaw, SpanFormsStopAtTheShorterSpan) {
  std::array<std::int16_t, 4> pcm{1, 2, 3, 4};
  std::array<std::uint8_t, 2> codes{};
  EXPECT_EQ(concierge::mulaw::encode(pcm, codes), 2u);
  std::array<std::int16_t, 1> back{};
  EXPECT_EQ(concierge::mulaw::decode(codes, back), 1u);
}

TEST(Mulaw, EveryCodeRoundTripsExceptNegativeZero) {
  // decode then encode is the identity on every code but 0x7F (-0), which decodes to 0 and re-encodes as +0 (0xFF).
  for (int code = 0; code < 256; ++code) {
    const auto c = static_cast<std::uint8_t>(code);
    const auto again = concierge::mulaw::encode(concierge::mulaw::decode(c));
    if (c == 0x7F)
      EXPECT_EQ(again, 0xFF);
    else
      EXPECT_EQ(again, c) << "code " << code;
  }
}

TEST(Mulaw, RoundTripErrorStaysWithinHalfAStepAndIsMonotonic) {
  // Encoding picks the level whose interval holds the sample: the error is at most half the segment's step (plus
  // one LSB for the one's complement of negative samples), and bigger samples never get smaller levels.
  int previous = -40000;
  for (int value = -32768; value <= 32767; ++value) {
    const auto s = static_cast<std::int16_t>(value);
    const int level = concierge::mulaw::decode(concierge::mulaw::encode(s));
    const int magnitude = std::abs(value);
    // Segment e holds the biased magnitudes (magnitude + 132) in [128 << e, 256 << e); its levels are 8 << e apart.
    int segment = 0;
    while (segment < 7 && magnitude + 132 >= (256 << segment)) ++segment;
    const int step = 8 << segment;
    if (magnitude <= 32124) {
      EXPECT_LE(std::abs(level - value), step / 2 + 1) << "sample " << value << " level " << level;
    } else {
      EXPECT_EQ(std::abs(level), 32124) << "clipped sample " << value;
    }
    EXPECT_GE(level, previous) << "sample " << value;
    previous = level;
  }
}

}  // namespace
