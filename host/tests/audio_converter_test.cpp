// The bridge's format conversion: pass-through where formats agree, streaming conversion where they differ.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "audio_converter.hpp"
#include "concierge/mulaw.hpp"

using namespace concierge;
using namespace concierge::host;

TEST(AudioConverter, MatchingFormatsPassFramesThroughUntouched) {
  AudioConverter c(AudioFormat::mulaw_8k(), AudioFormat::mulaw_8k());
  ASSERT_TRUE(c.passthrough());
  std::vector<std::uint8_t> payload(160, 0x55);
  AudioFrame in{AudioFormat::mulaw_8k(), payload, 12345};
  const AudioFrame out = c.convert(in);
  EXPECT_EQ(out.bytes.data(), payload.data());  // the same bytes, not a copy
  EXPECT_EQ(out.timestamp_us, 12345u);
}

TEST(AudioConverter, MulawLineToPcm24kAndBackKeepsATone) {
  AudioConverter up(AudioFormat::mulaw_8k(), AudioFormat::pcm16_at(24000));
  AudioConverter down(AudioFormat::pcm16_at(24000), AudioFormat::mulaw_8k());
  std::vector<std::uint8_t> line(160);
  std::vector<std::int16_t> received;
  std::size_t upsampled = 0;
  for (int frame = 0; frame < 50; ++frame) {  // one second of 20 ms frames
    for (int i = 0; i < 160; ++i) {
      const double t = (frame * 160 + i) / 8000.0;
      line[i] = mulaw::encode(static_cast<std::int16_t>(8000 * std::sin(2 * std::numbers::pi * 440 * t)));
    }
    const AudioFrame pcm = up.convert({AudioFormat::mulaw_8k(), line, 0});
    EXPECT_EQ(pcm.format, AudioFormat::pcm16_at(24000));
    upsampled += pcm.samples();
    const AudioFrame back = down.convert(pcm);
    EXPECT_EQ(back.format, AudioFormat::mulaw_8k());
    for (auto b : back.bytes) received.push_back(mulaw::decode(b));
  }
  // Streaming: about three output samples per input sample, give or take what the filters hold.
  EXPECT_NEAR(static_cast<double>(upsampled), 24000.0, 24000 * 0.05);
  EXPECT_NEAR(static_cast<double>(received.size()), 8000.0, 8000 * 0.05);
  // The tone survives both conversions: its energy at the far end matches what went in.
  double energy = 0;
  for (std::size_t i = received.size() / 2; i < received.size(); ++i) energy += double(received[i]) * received[i];
  const double rms = std::sqrt(energy / (received.size() / 2));
  EXPECT_NEAR(rms, 8000 / std::sqrt(2.0), 8000 / std::sqrt(2.0) * 0.1);
}

TEST(AudioConverter, MulawToPcmAtTheSameRateOnlyDecodes) {
  AudioConverter c(AudioFormat::mulaw_8k(), AudioFormat::pcm16_at(8000));
  std::vector<std::uint8_t> line{0x00, 0x7f, 0x80, 0xff};
  const AudioFrame out = c.convert({AudioFormat::mulaw_8k(), line, 0});
  ASSERT_EQ(out.samples(), 4u);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(out.pcm16()[i], mulaw::decode(line[i]));
}

TEST(AudioConverter, LargeFramesGrowTheBuffersOnce) {
  AudioConverter c(AudioFormat::pcm16_at(24000), AudioFormat::mulaw_8k());
  std::vector<std::int16_t> big(24000 * 3, 1000);  // three seconds in one delta, as a model may send
  const AudioFrame in{AudioFormat::pcm16_at(24000),
                      {reinterpret_cast<const std::uint8_t*>(big.data()), big.size() * 2}, 0};
  const AudioFrame out = c.convert(in);
  EXPECT_GT(out.samples(), 20000u);
}
