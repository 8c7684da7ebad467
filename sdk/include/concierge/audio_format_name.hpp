#pragma once
// The one spelling of an audio format, in config files and in logs alike: what AudioFormat::to_string() writes,
// "pcm16/<rate>" (rate 8000, 16000, 24000 or 48000) or "mulaw/8000". parse_audio_format() reads exactly that.
// The spellings plugins used before SDK 1.1 ("pcm16_24k", "pcm16_24000", "mulaw_8k", "mulaw_8000") are refused,
// with the right spelling named: get_audio_format() says `"pcm16_24k" is the old spelling: write pcm16/24000`.
// Header-only (inline), so a plugin built for an older SDK 1.x never needs it from the library.
#include <charconv>
#include <optional>
#include <string>
#include <string_view>

#include "concierge/audio_frame.hpp"
#include "concierge/config.hpp"

namespace concierge {

inline constexpr std::string_view kAudioFormatChoices = "pcm16/8000, pcm16/16000, pcm16/24000, pcm16/48000 or mulaw/8000";

// "pcm16/24000" -> {pcm16, 24000}; nullopt for anything else (old spellings included).
inline std::optional<AudioFormat> parse_audio_format(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view encoding = text.substr(0, slash), rate_text = text.substr(slash + 1);
  std::uint32_t rate = 0;
  const auto [end, ec] = std::from_chars(rate_text.data(), rate_text.data() + rate_text.size(), rate);
  if (ec != std::errc() || end != rate_text.data() + rate_text.size() || rate_text.empty() || rate_text[0] == '0')
    return std::nullopt;
  if (encoding == "mulaw" && rate == 8000) return AudioFormat::mulaw_8k();
  if (encoding == "pcm16" && (rate == 8000 || rate == 16000 || rate == 24000 || rate == 48000))
    return AudioFormat::pcm16_at(rate);
  return std::nullopt;
}

// Why parse_audio_format(text) refused `text`, as one line for a ConfigError: an old spelling gets the right one.
inline std::string audio_format_error(std::string_view text) {
  // pcm16_24k, pcm16_24000, mulaw_8k, mulaw_8000: <encoding>_<number>[k]
  const auto underscore = text.find('_');
  if (underscore != std::string_view::npos) {
    std::string rate(text.substr(underscore + 1));
    if (!rate.empty() && rate.back() == 'k') {
      rate.pop_back();
      rate += "000";
    }
    const std::string modern = std::string(text.substr(0, underscore)) + "/" + rate;
    if (parse_audio_format(modern))
      return "\"" + std::string(text) + "\" is the old spelling: write " + modern;
  }
  return "expected an audio format, " + std::string(kAudioFormatChoices) + ", found \"" + std::string(text) + "\"";
}

// `key` of `node` as an audio format; `default_value` when absent. Throws ConfigError naming the key and the line.
inline AudioFormat get_audio_format(const ConfigNode& node, std::string_view key, AudioFormat default_value) {
  if (!node.has(key)) return default_value;
  const std::string text = node.required_string(key);
  const auto format = parse_audio_format(text);
  if (!format) node.fail(key, audio_format_error(text));
  return *format;
}

}  // namespace concierge
