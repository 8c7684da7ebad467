#pragma once
// The audio frame that crosses every plugin boundary. A frame is a *view*: the producer owns the bytes and they are
// valid only for the duration of the call the frame is passed to. Consumers that need the audio later copy it into
// storage they own (and reuse). That keeps the per-frame path free of allocations and copies.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace concierge {

enum class AudioEncoding : std::uint8_t {
  pcm16 = 1,  // signed 16-bit linear PCM, little-endian (native on every platform we build for), mono
  mulaw = 2,  // G.711 mu-law, one byte per sample, mono
};

struct AudioFormat {
  AudioEncoding encoding = AudioEncoding::pcm16;
  std::uint32_t sample_rate = 0;

  static constexpr AudioFormat mulaw_8k() { return {AudioEncoding::mulaw, 8000}; }
  static constexpr AudioFormat pcm16_at(std::uint32_t rate) { return {AudioEncoding::pcm16, rate}; }

  constexpr std::size_t bytes_per_sample() const { return encoding == AudioEncoding::pcm16 ? 2 : 1; }
  constexpr bool operator==(const AudioFormat&) const = default;
  std::string to_string() const;  // "mulaw/8000", "pcm16/24000"
};

struct AudioFrame {
  AudioFormat format;
  std::span<const std::uint8_t> bytes;  // borrowed, see above
  std::uint64_t timestamp_us = 0;       // media time of the first sample, from the start of its stream

  std::size_t samples() const { return format.bytes_per_sample() ? bytes.size() / format.bytes_per_sample() : 0; }
  std::chrono::microseconds duration() const {
    return format.sample_rate ? std::chrono::microseconds(samples() * 1'000'000ull / format.sample_rate)
                              : std::chrono::microseconds(0);
  }
  // The samples of a pcm16 frame. Precondition: format.encoding == pcm16 and bytes suitably aligned.
  std::span<const std::int16_t> pcm16() const {
    return {reinterpret_cast<const std::int16_t*>(bytes.data()), bytes.size() / 2};
  }
};

// The duration of one packet on the phone network: Twilio and every simulated line use 20 ms frames.
inline constexpr std::chrono::milliseconds kTelephonyFrameDuration{20};
inline constexpr std::size_t samples_per_frame(std::uint32_t sample_rate) { return sample_rate / 50; }

}  // namespace concierge
