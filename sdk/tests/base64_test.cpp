#include <gtest/gtest.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

#include "concierge/base64.hpp"

namespace {

std::vector<std::uint8_t> bytes_of(std::string_view text) { return {text.begin(), text.end()}; }

std::string encode_text(std::string_view text) { return concierge::base64::encode(bytes_of(text)); }

TEST(Base64, Rfc4648TestVectors) {
  // RFC 4648 section 10.
  const std::array<std::pair<const char*, const char*>, 7> vectors{{{"", ""},
                                                                     {"f", "Zg=="},
                                                                     {"fo", "Zm8="},
                                                                     {"foo", "Zm9v"},
                                                                     {"foob", "Zm9vYg=="},
                                                                     {"fooba", "Zm9vYmE="},
                                                                     {"foobar", "Zm9vYmFy"}}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(encode_text(plain), encoded);
    const auto decoded = concierge::base64::decode(encoded);
    ASSERT_TRUE(decoded.has_value()) << encoded;
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64, AllByteValuesUseTheStandardAlphabet) {
  std::vector<std::uint8_t> all(256);
  for (int i = 0; i < 256; ++i) all[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i);
  const std::string encoded = concierge::base64::encode(all);
  // The first and last groups, worked out by hand: 00 01 02 -> AAEC; ... FD FE FF -> /f7/; 256 = 85*3 + 1 -> "/w==".
  EXPECT_EQ(encoded.substr(0, 4), "AAEC");
  EXPECT_EQ(encoded.size(), 344u);
  EXPECT_EQ(encoded.substr(encoded.size() - 8), "/P3+/w==");
  for (char c : encoded.substr(0, encoded.size() - 2))
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/') << c;
}

TEST(Base64, EveryLengthUpTo64RoundTrips) {
  for (std::size_t length = 0; length <= 64; ++length) {
    std::vector<std::uint8_t> data(length);
    for (std::size_t i = 0; i < length; ++i) data[i] = static_cast<std::uint8_t>(i * 37 + length * 11 + 0x5A);
    std::vector<char> text(concierge::base64::encoded_size(length));
    ASSERT_EQ(concierge::base64::encode(data, text), text.size());
    EXPECT_EQ(text.size(), (length + 2) / 3 * 4);
    std::vector<std::uint8_t> back(concierge::base64::max_decoded_size(text.size()));
    const auto n = concierge::base64::decode(std::string_view(text.data(), text.size()), back);
    ASSERT_TRUE(n.has_value()) << "length " << length;
    ASSERT_EQ(*n, length);
    back.resize(*n);
    EXPECT_EQ(back, data) << "length " << length;
    // Exactly-sized output is enough.
    std::vector<std::uint8_t> exact(length);
    EXPECT_EQ(concierge::base64::decode(std::string_view(text.data(), text.size()), exact), length);
  }
}

TEST(Base64, RejectsBadCharacters) {
  const std::vector<std::string> bad{"Zm9*", "Zm 9", "Zm9\n", "Zm-v", "Zm_v", "Zm9vZm 9", "\x80Zm9", "Zm.v",
                                     std::string("Zm9\0", 4)};
  for (const auto& text : bad) EXPECT_FALSE(concierge::base64::decode(text).has_value()) << text;
}

TEST(Base64, RejectsBadLength) {
  for (const char* bad : {"Z", "Zm", "Zm9", "Zm9vY", "Zm9vYg=", "Zm9vYg==="}) {
    EXPECT_FALSE(concierge::base64::decode(bad).has_value()) << bad;
  }
}

TEST(Base64, RejectsMisplacedPadding) {
  for (const char* bad : {"=m9v", "Z=9v", "Zm=v", "====", "Z===", "Zm=v", "Zg==Zg==", "Zm8=Zm9v", "Zg=a", "Z=g="}) {
    EXPECT_FALSE(concierge::base64::decode(bad).has_value()) << bad;
  }
}

TEST(Base64, RejectsNonZeroLeftoverBits) {
  // "Zg==" is "f"; "Zh==" decodes to "f" too in lax decoders, but its leftover bits are not zero.
  EXPECT_TRUE(concierge::base64::decode("Zg==").has_value());
  EXPECT_FALSE(concierge::base64::decode("Zh==").has_value());
  EXPECT_TRUE(concierge::base64::decode("Zm8=").has_value());
  EXPECT_FALSE(concierge::base64::decode("Zm9=").has_value());
}

TEST(Base64, RejectsTooSmallOutput) {
  std::array<std::uint8_t, 5> small{};
  EXPECT_FALSE(concierge::base64::decode("Zm9vYmFy", small).has_value());  // needs 6
  std::array<std::uint8_t, 6> enough{};
  EXPECT_EQ(concierge::base64::decode("Zm9vYmFy", enough), 6u);
  std::array<std::uint8_t, 3> three{};
  EXPECT_EQ(concierge::base64::decode("Zm9vYg==", std::span<std::uint8_t>(three.data(), 3)), std::nullopt);
  std::array<char, 7> short_text{};
  const auto data = bytes_of("foobar");
  EXPECT_EQ(concierge::base64::encode(data, short_text), 0u);  // needs 8: nothing written
}

TEST(Base64, TwilioSizedFrameRoundTrips) {
  // 160 mu-law bytes (20 ms at 8 kHz) = 53 groups of 3 and one byte over: 216 characters ending in "==".
  std::vector<std::uint8_t> frame(160);
  for (std::size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<std::uint8_t>(255 - i);
  const std::string text = concierge::base64::encode(frame);
  EXPECT_EQ(text.size(), 216u);
  EXPECT_EQ(text.find('='), 214u);
  const auto back = concierge::base64::decode(text);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(std::vector<std::uint8_t>(back->begin(), back->end()), frame);
}

}  // namespace
