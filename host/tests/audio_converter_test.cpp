// The bridge's format conversion: pass-through where formats agree, streaming conversion where they differ.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
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
  const auto converted = c.convert(in);
  const AudioFrame& out = converted.frame();
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
    const auto up_converted = up.convert({AudioFormat::mulaw_8k(), line, 0});
    const AudioFrame& pcm = up_converted.frame();
    EXPECT_EQ(pcm.format, AudioFormat::pcm16_at(24000));
    upsampled += pcm.samples();
    const auto down_converted = down.convert(pcm);  // while pcm is held: other scratch buffers
    const AudioFrame& back = down_converted.frame();
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
  const auto converted = c.convert({AudioFormat::mulaw_8k(), line, 0});
  const AudioFrame& out = converted.frame();
  ASSERT_EQ(out.samples(), 4u);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(out.pcm16()[i], mulaw::decode(line[i]));
}

TEST(AudioConverter, LargeFramesGrowTheBuffersOnce) {
  AudioConverter c(AudioFormat::pcm16_at(24000), AudioFormat::mulaw_8k());
  std::vector<std::int16_t> big(24000 * 3, 1000);  // three seconds in one delta, as a model may send
  const AudioFrame in{AudioFormat::pcm16_at(24000),
                      {reinterpret_cast<const std::uint8_t*>(big.data()), big.size() * 2}, 0};
  EXPECT_GT(c.convert(in).frame().samples(), 20000u);
}

// The converted bytes live in the thread's scratch buffers, shared by every converter: calls converted one after
// another write the same memory (what keeps it in cache), and a frame still held is never written over, however
// deep conversions nest while it is (past the thread's sets, a converter's own buffers).
TEST(AudioConverter, HeldFramesAreNeverOverwrittenAndReleasedBuffersAreShared) {
  constexpr int kCalls = 7;
  std::vector<std::unique_ptr<AudioConverter>> converters, references;
  for (int i = 0; i < kCalls; ++i) {
    converters.push_back(std::make_unique<AudioConverter>(AudioFormat::mulaw_8k(), AudioFormat::pcm16_at(24000)));
    references.push_back(std::make_unique<AudioConverter>(AudioFormat::mulaw_8k(), AudioFormat::pcm16_at(24000)));
  }
  auto line = [](int call, int frame) {
    std::vector<std::uint8_t> bytes(160);
    for (int i = 0; i < 160; ++i) {
      const double t = (frame * 160 + i) / 8000.0;
      bytes[i] = mulaw::encode(static_cast<std::int16_t>(6000 * std::sin(2 * std::numbers::pi * (300 + 100 * call) * t)));
    }
    return bytes;
  };
  for (int frame = 0; frame < 5; ++frame) {
    // What each call's frame converts to on its own, copied out.
    std::vector<std::vector<std::uint8_t>> expected;
    for (int i = 0; i < kCalls; ++i) {
      const auto bytes = line(i, frame);
      const auto out = references[i]->convert({AudioFormat::mulaw_8k(), bytes, 0});
      expected.emplace_back(out.frame().bytes.begin(), out.frame().bytes.end());
    }
    // All of them held at once, each converted while the ones before it are held.
    std::vector<std::vector<std::uint8_t>> inputs;
    std::vector<AudioConverter::Output> held;
    held.reserve(kCalls);
    for (int i = 0; i < kCalls; ++i) {
      inputs.push_back(line(i, frame));
      held.push_back(converters[i]->convert({AudioFormat::mulaw_8k(), inputs.back(), 0}));
    }
    for (int i = 0; i < kCalls; ++i) {
      const auto& bytes = held[i].frame().bytes;
      ASSERT_EQ(bytes.size(), expected[i].size()) << "call " << i << ", frame " << frame;
      EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), expected[i].begin())) << "call " << i << ", frame " << frame;
      for (int j = 0; j < i; ++j) EXPECT_NE(bytes.data(), held[j].frame().bytes.data());
    }
  }
  // Released, the buffers are the next conversion's, whichever call's it is.
  const auto bytes = line(0, 9);
  const std::uint8_t* first = nullptr;
  {
    const auto out = converters[0]->convert({AudioFormat::mulaw_8k(), bytes, 0});
    first = out.frame().bytes.data();
  }
  const auto out = converters[1]->convert({AudioFormat::mulaw_8k(), bytes, 0});
  EXPECT_EQ(out.frame().bytes.data(), first);
}
