// The synthetic speech: deterministic, speech-like for an energy VAD (voiced runs and pauses), duration that follows
// the text, and comfort noise below any VAD threshold.
#include <gtest/gtest.h>

#include "concierge/speech/energy_vad.hpp"
#include "concierge/speech/speech_signal.hpp"

namespace concierge::sim {
namespace {

using namespace std::chrono;

TEST(SpeechSignal, IsDeterministicAndLastsAsLongAsItSays) {
  std::vector<std::int16_t> a, b;
  const SpeechVoice voice{150, 165, 0.3};
  render_speech("Hi, I'd like to book a table for four.", voice, 8000, a);
  render_speech("Hi, I'd like to book a table for four.", voice, 8000, b);
  EXPECT_EQ(a, b);
  const auto expected = speech_duration("Hi, I'd like to book a table for four.", voice);
  EXPECT_NEAR(static_cast<double>(a.size()) / 8000, expected.count() / 1e6, 0.01);
  // About 165 words per minute: 9 words take roughly 3 s, not 1 and not 10.
  EXPECT_GT(expected, milliseconds(2000));
  EXPECT_LT(expected, milliseconds(4500));
  // The same text at 24 kHz lasts as long.
  std::vector<std::int16_t> wide;
  render_speech("Hi, I'd like to book a table for four.", voice, 24000, wide);
  EXPECT_NEAR(static_cast<double>(wide.size()) / 24000, static_cast<double>(a.size()) / 8000, 0.01);
}

TEST(SpeechSignal, VadSeesOneSpeechSegmentPerUtteranceAndPausesBetweenWords) {
  std::vector<std::int16_t> pcm(8000, 0);  // half a second of silence first
  render_speech("Thank you for calling Demo Restaurant. How can I help you?", SpeechVoice{210, 170, 0.3}, 8000, pcm);
  pcm.resize(pcm.size() + 8000, 0);
  EnergyVad vad;
  int started = 0, stopped = 0, voiced_frames = 0, quiet_frames = 0;
  for (std::size_t i = 0; i + 160 <= pcm.size(); i += 160) {
    const std::span<const std::int16_t> frame(pcm.data() + i, 160);
    (EnergyVad::level_dbfs(frame) > -45 ? voiced_frames : quiet_frames)++;
    const auto event = vad.process(frame, 8000);
    started += event == EnergyVad::Event::speech_started;
    stopped += event == EnergyVad::Event::speech_stopped;
  }
  EXPECT_EQ(started, 1);
  EXPECT_EQ(stopped, 1);
  EXPECT_GT(voiced_frames, 100);
  EXPECT_GT(quiet_frames, 50 + 5);  // the silences around it plus word gaps inside
}

TEST(SpeechSignal, ComfortNoiseStaysBelowTheVadThreshold) {
  std::array<std::int16_t, 160> noise{};
  render_comfort_noise(3, noise);
  const double level = EnergyVad::level_dbfs(noise);
  EXPECT_LT(level, -60);
  EXPECT_GT(level, -75);  // but not digital silence
}

TEST(EnergyVad, NeedsSustainedEnergyToStartAndAHangoverToStop) {
  EnergyVad vad(EnergyVad::Settings{-45, milliseconds(40), milliseconds(400)});
  std::array<std::int16_t, 160> loud{}, quiet{};
  for (std::size_t i = 0; i < loud.size(); ++i) loud[i] = (i % 20 < 10) ? 8000 : -8000;
  EXPECT_EQ(vad.process(loud, 8000), EnergyVad::Event::none);  // 20 ms: a click, not speech yet
  EXPECT_EQ(vad.process(loud, 8000), EnergyVad::Event::speech_started);
  for (int i = 0; i < 19; ++i) EXPECT_EQ(vad.process(quiet, 8000), EnergyVad::Event::none) << i;
  EXPECT_EQ(vad.process(quiet, 8000), EnergyVad::Event::speech_stopped);  // the 20th quiet frame: 400 ms
  EXPECT_EQ(vad.last_change(), milliseconds(440));
}

}  // namespace
}  // namespace concierge::sim
