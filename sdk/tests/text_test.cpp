// Boundary text helpers: every output is valid UTF-8 that nlohmann::json serialises without throwing.
#include <gtest/gtest.h>

#include "concierge/audio_format_name.hpp"

#include <nlohmann/json.hpp>

#include "concierge/text.hpp"

namespace concierge {
namespace {

bool serialises(const std::string& s) {
  try {
    (void)nlohmann::json(s).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

TEST(Utf8, ValidTextIsUnchanged) {
  for (std::string s : {"", "plain", "caf\xC3\xA9", "\xE2\x82\xAC 5", "\xF0\x9F\x98\x80!", "\xF4\x8F\xBF\xBF"}) {
    EXPECT_TRUE(is_valid_utf8(s)) << s;
    EXPECT_EQ(to_valid_utf8(s), s);
  }
}

TEST(Utf8, InvalidSequencesAreReplaced) {
  const std::string replacement = "\xEF\xBF\xBD";
  // A lone continuation byte, a truncated sequence, an overlong '/', a surrogate, above U+10FFFF, 0xFF.
  for (std::string bad : {"\x80", "\xC3", "\xE2\x82", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF"}) {
    EXPECT_FALSE(is_valid_utf8(bad));
    const std::string fixed = to_valid_utf8("a" + bad + "b");
    EXPECT_TRUE(is_valid_utf8(fixed));
    EXPECT_TRUE(serialises(fixed));
    EXPECT_EQ(fixed.front(), 'a');
    EXPECT_EQ(fixed.back(), 'b');
    EXPECT_NE(fixed.find(replacement), std::string::npos);
  }
  EXPECT_FALSE(serialises("\xFF"));  // what the helpers are for
}

TEST(Utf8, TruncationNeverSplitsACharacter) {
  const std::string euros = "\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC";  // three 3-byte characters
  for (std::size_t max = 0; max <= euros.size() + 1; ++max) {
    const std::string cut = truncate_utf8(euros, max, "");
    EXPECT_TRUE(is_valid_utf8(cut)) << max;
    EXPECT_EQ(cut.size(), max >= 9 ? 9 : max / 3 * 3) << max;
  }
  EXPECT_EQ(truncate_utf8(euros, 4), "\xE2\x82\xAC...");
  EXPECT_EQ(truncate_utf8("short", 200), "short");
  // Invalid input is repaired too, and the repair counts toward the limit.
  EXPECT_EQ(truncate_utf8("ab\xFF", 5, ""), "ab\xEF\xBF\xBD");
  EXPECT_EQ(truncate_utf8("ab\xFF", 4, "."), "ab.");
}

TEST(SecretMask, MasksEveryOccurrenceLongestFirst) {
  SecretMask mask;
  mask.add("tok_123456");
  mask.add("tok_123456789");
  mask.add("abc");  // too short to mask
  EXPECT_EQ(mask.apply("a tok_123456789 b tok_123456 c abc"), "a [redacted] b [redacted] c abc");
  EXPECT_EQ(mask.apply("tok_123456tok_123456"), "[redacted][redacted]");
  EXPECT_EQ(SecretMask().apply("tok_123456"), "tok_123456");
}

// A provider's error body cut at a byte count can end inside a secret it echoed: the part that survives is masked.
TEST(SecretMask, MasksWhatSurvivesOfASecretCutInTwo) {
  const std::string secret = "sk-live-0123456789abcdef";
  SecretMask mask;
  mask.add(secret);
  // Cut by truncate_utf8: the prefix stands before its ellipsis.
  EXPECT_EQ(mask.apply(truncate_utf8("error: key " + secret + " rejected", 20)), "error: key [redacted]...");
  // At the end of the text, and before U+2026 inside a longer one.
  EXPECT_EQ(mask.apply("error: key sk-live-0123"), "error: key [redacted]");
  EXPECT_EQ(mask.apply("a sk-live-01\xE2\x80\xA6 then more"), "a [redacted]\xE2\x80\xA6 then more");
  // Every prefix from kMinLength characters on, at every cut of a text, whole secrets included.
  for (std::size_t n = SecretMask::kMinLength; n < secret.size(); ++n)
    EXPECT_EQ(mask.apply("x " + secret + " y " + secret.substr(0, n) + "... z " + secret.substr(0, n)),
              "x [redacted] y [redacted]... z [redacted]")
        << n;
  // Shorter than that protects nothing and would mangle ordinary text; a prefix that is not at a cut is text too.
  EXPECT_EQ(mask.apply("key sk-li..."), "key sk-li...");
  EXPECT_EQ(mask.apply("sk-live-0 starts every key; see the docs"), "sk-live-0 starts every key; see the docs");
}

}  // namespace
}  // namespace concierge

// One spelling of an audio format: what to_string() writes is what the parser reads; old ones name the new one.
TEST(AudioFormatName, ToStringAndParseAreOneSpelling) {
  for (const auto format : {concierge::AudioFormat::pcm16_at(8000), concierge::AudioFormat::pcm16_at(16000),
                            concierge::AudioFormat::pcm16_at(24000), concierge::AudioFormat::pcm16_at(48000),
                            concierge::AudioFormat::mulaw_8k()})
    EXPECT_EQ(concierge::parse_audio_format(format.to_string()), format) << format.to_string();
  for (const char* bad : {"pcm16_24k", "pcm16_24000", "mulaw_8k", "pcm16/", "pcm16/024000", "pcm16/11025", "mulaw/16000",
                          "PCM16/24000", "pcm16/24000 ", "", "/"})
    EXPECT_FALSE(concierge::parse_audio_format(bad)) << bad;
  EXPECT_EQ(concierge::audio_format_error("pcm16_24k"), "\"pcm16_24k\" is the old spelling: write pcm16/24000");
  EXPECT_EQ(concierge::audio_format_error("pcm16_16000"), "\"pcm16_16000\" is the old spelling: write pcm16/16000");
  EXPECT_EQ(concierge::audio_format_error("mulaw_8k"), "\"mulaw_8k\" is the old spelling: write mulaw/8000");
  EXPECT_EQ(concierge::audio_format_error("opus"),
            "expected an audio format, pcm16/8000, pcm16/16000, pcm16/24000, pcm16/48000 or mulaw/8000, found \"opus\"");
  EXPECT_EQ(concierge::audio_format_error("pcm16_11k"),
            "expected an audio format, pcm16/8000, pcm16/16000, pcm16/24000, pcm16/48000 or mulaw/8000, found "
            "\"pcm16_11k\"");
}
