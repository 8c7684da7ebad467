// The resampler's requirements (issue 4), measured as the media path drives it: 20 ms frames.
//  - each direction adds <= 5 ms of delay on average (content lag + audio held back between frames);
//  - 16-bit transparent: one-way SNR of a 997 Hz sine >= 85 dB;
//  - a 5 kHz tone is suppressed by >= 80 dB going down to 8 kHz;
//  - max_output() is a true bound, whatever the chunking.
// Both engines are held to them: the polyphase FIR (the default for these rates) and libsoxr (any other rates).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "concierge/resampler.hpp"
#include "resampler_measure.hpp"

namespace {

using concierge::Resampler;
using concierge::ResamplerEngine;

auto driver(Resampler& resampler) {
  return [&resampler](std::span<const std::int16_t> in, std::span<std::int16_t> out) {
    return resampler.process(in, out);
  };
}

struct RatePair {
  std::uint32_t in;
  std::uint32_t out;
  ResamplerEngine engine = ResamplerEngine::automatic;
};

std::string case_name(const RatePair& pair) {
  std::string name = std::to_string(pair.in) + "_to_" + std::to_string(pair.out);
  if (pair.engine == ResamplerEngine::libsoxr) name += "_libsoxr";
  if (pair.engine == ResamplerEngine::polyphase_fir) name += "_polyphase";
  return name;
}

// The telephone rates through each engine.
const RatePair kTelephonyCases[] = {
    {8000, 24000, ResamplerEngine::polyphase_fir}, {24000, 8000, ResamplerEngine::polyphase_fir},
    {8000, 16000, ResamplerEngine::polyphase_fir}, {16000, 8000, ResamplerEngine::polyphase_fir},
    {8000, 24000, ResamplerEngine::libsoxr},       {24000, 8000, ResamplerEngine::libsoxr},
    {8000, 16000, ResamplerEngine::libsoxr},       {16000, 8000, ResamplerEngine::libsoxr}};

class ResamplerFigures : public ::testing::TestWithParam<RatePair> {};

TEST_P(ResamplerFigures, AddsAtMost5msOnAverage) {
  const auto [in, out, engine] = GetParam();
  Resampler resampler(in, out, engine);
  const double filter_delay_ms = resampler.filter_delay_samples() * 1000.0 / out;
  const auto delay = concierge::measure::measure_delay(driver(resampler), in, out);
  std::printf("[figures] %u -> %u Hz %s: lag %.3f ms, held back mean %.2f ms (max %.2f), total %.2f ms\n", in, out,
              to_string(engine), delay.lag_ms, delay.mean_held_ms, delay.max_held_ms, delay.total_ms);
  EXPECT_LE(delay.total_ms, 5.0);
  // The content lag is what the engine says its filter puts in (0 for libsoxr, which compensates it by holding
  // back; the FIR's group delay). A mismatch would mean the measurement or the engine changed.
  EXPECT_NEAR(delay.lag_ms, filter_delay_ms, 0.1);
  EXPECT_GE(delay.mean_held_ms, -1000.0 / out);  // never ahead of its input by more than a sample
  if (engine == ResamplerEngine::polyphase_fir) {
    // It releases every frame whole: no frame's tail waits for the next frame.
    EXPECT_LT(std::abs(delay.mean_held_ms), 1000.0 / out);
    EXPECT_LT(delay.max_held_ms, 1000.0 / out);
  }
}

TEST_P(ResamplerFigures, IsTransparentAt16Bits) {
  const auto [in, out, engine] = GetParam();
  Resampler resampler(in, out, engine);
  const auto sine = concierge::measure::measure_sine(driver(resampler), in, out, 997.0);
  std::printf("[figures] %u -> %u Hz %s: 997 Hz SNR %.1f dB, gain %.3f dB, phase delay %.3f ms\n", in, out,
              to_string(engine), sine.snr_db, sine.gain_db, sine.phase_delay_ms);
  EXPECT_GE(sine.snr_db, 85.0);
  EXPECT_NEAR(sine.gain_db, 0.0, 0.05);
}

TEST_P(ResamplerFigures, KeepsTheTelephoneBand) {
  // 3.4 kHz is the top of the telephone band: it must come through nearly unchanged (LQ's rolloff lost 7.8 dB).
  const auto [in, out, engine] = GetParam();
  Resampler resampler(in, out, engine);
  const auto sine = concierge::measure::measure_sine(driver(resampler), in, out, 3400.0);
  EXPECT_NEAR(sine.gain_db, 0.0, 0.5);
}

INSTANTIATE_TEST_SUITE_P(TelephonyRates, ResamplerFigures, ::testing::ValuesIn(kTelephonyCases),
                         [](const auto& info) { return case_name(info.param); });

class Downsampling : public ::testing::TestWithParam<RatePair> {};

TEST_P(Downsampling, SuppressesA5kHzToneBy80dB) {
  const auto [in, out, engine] = GetParam();
  Resampler resampler(in, out, engine);
  const double suppression = concierge::measure::measure_suppression(driver(resampler), in, out, 5000.0);
  std::printf("[figures] %u -> %u Hz %s: 5 kHz suppressed by %.1f dB\n", in, out, to_string(engine), suppression);
  EXPECT_GE(suppression, 80.0);
}

TEST_P(Downsampling, SuppressesA4500HzToneToo) {
  // Just above the 4 kHz Nyquist it would alias to 3.5 kHz, right at the band's top.
  const auto [in, out, engine] = GetParam();
  Resampler resampler(in, out, engine);
  EXPECT_GE(concierge::measure::measure_suppression(driver(resampler), in, out, 4500.0), 80.0);
}

INSTANTIATE_TEST_SUITE_P(ToTheLine, Downsampling,
                         ::testing::Values(RatePair{24000, 8000, ResamplerEngine::polyphase_fir},
                                           RatePair{16000, 8000, ResamplerEngine::polyphase_fir},
                                           RatePair{48000, 8000, ResamplerEngine::polyphase_fir},
                                           RatePair{24000, 8000, ResamplerEngine::libsoxr},
                                           RatePair{16000, 8000, ResamplerEngine::libsoxr}),
                         [](const auto& info) { return case_name(info.param); });

TEST(ResamplerMeasurement, DetectsAnAddedDelay) {
  // The measurement must see delay where there is some: a pass-through that holds back one whole frame (20 ms)
  // and a resampler followed by a 3 ms content shift.
  std::vector<std::int16_t> held;
  auto one_frame_late = [&held](std::span<const std::int16_t> in, std::span<std::int16_t> out) {
    const std::vector<std::int16_t> previous = held;
    held.assign(in.begin(), in.end());
    std::copy(previous.begin(), previous.end(), out.begin());
    return previous.size();
  };
  const auto late = concierge::measure::measure_delay(one_frame_late, 8000, 8000);
  EXPECT_NEAR(late.total_ms, 20.0, 0.2);

  std::vector<std::int16_t> line(24);  // 24 samples = 3 ms at 8 kHz
  auto shifted = [&line](std::span<const std::int16_t> in, std::span<std::int16_t> out) {
    std::size_t n = 0;
    for (std::int16_t sample : in) {
      out[n++] = line.front();
      line.erase(line.begin());
      line.push_back(sample);
    }
    return n;
  };
  const auto shift = concierge::measure::measure_delay(shifted, 8000, 8000);
  EXPECT_NEAR(shift.lag_ms, 3.0, 0.1);
  EXPECT_NEAR(shift.total_ms, 3.0, 0.1);
}

TEST(ResamplerMeasurement, SeesNoiseAndAliasing) {
  // Zero-order hold "upsampling" (each sample repeated) images badly: the SNR measurement must catch it.
  auto repeat = [](std::span<const std::int16_t> in, std::span<std::int16_t> out) {
    std::size_t n = 0;
    for (std::int16_t sample : in)
      for (int k = 0; k < 3; ++k) out[n++] = sample;
    return n;
  };
  EXPECT_LT(concierge::measure::measure_sine(repeat, 8000, 24000).snr_db, 40.0);
  // Decimating without a filter lets 5 kHz through (as 3 kHz).
  auto decimate = [](std::span<const std::int16_t> in, std::span<std::int16_t> out) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < in.size(); i += 3) out[n++] = in[i];
    return n;
  };
  EXPECT_LT(concierge::measure::measure_suppression(decimate, 24000, 8000), 10.0);
}

// max_output() is a true bound: random bursts, single samples, empty calls and large chunks, checked call by call;
// no input is lost (all of it comes out after the flush) and the resampler never runs ahead of its input.
class Bounds : public ::testing::TestWithParam<RatePair> {};

TEST_P(Bounds, MaxOutputHoldsForAnyChunking) {
  const auto [in_rate, out_rate, engine] = GetParam();
  const double ratio = double(out_rate) / in_rate;
  for (int pattern = 0; pattern < 4; ++pattern) {
    Resampler resampler(in_rate, out_rate, engine);
    std::mt19937 random(1234 + pattern);
    std::vector<std::int16_t> input(30000);
    for (auto& v : input) v = static_cast<std::int16_t>(static_cast<int>(random() % 40000) - 20000);
    std::vector<std::int16_t> out(resampler.max_output(input.size()));
    std::size_t total_in = 0, total_out = 0;
    for (int call = 0; call < 4000; ++call) {
      std::size_t n = 0;
      switch (pattern) {
        case 0: n = in_rate / 50; break;                          // the media path
        case 1: n = 1 + random() % 3; break;                      // trickle
        case 2: n = random() % 6000; break;                       // bursts, including empty calls
        default: n = (call % 9 == 0) ? 1 + random() % 5000 : random() % 4; break;  // mixed
      }
      const std::size_t bound = resampler.max_output(n);
      std::span<const std::int16_t> chunk(input.data(), n);
      const std::size_t produced = resampler.process(chunk, std::span<std::int16_t>(out.data(), bound));
      ASSERT_LE(produced, bound) << "pattern " << pattern << " call " << call;
      total_in += n;
      total_out += produced;
      ASSERT_LE(double(total_out), double(total_in) * ratio + 1.0) << "ran ahead of its input";
      // delay_samples() is exactly what is held back.
      ASSERT_NEAR(resampler.delay_samples(), double(total_in) * ratio - double(total_out), 1.0);
    }
    std::vector<std::int16_t> tail(resampler.max_output(0));
    total_out += resampler.flush(tail);
    // All the input comes out, and the filter's delay line after it (the FIR's flush pushes that out with zeros,
    // rounded up to whole inputs).
    const double expected = double(total_in) * ratio + resampler.filter_delay_samples();
    EXPECT_GE(double(total_out), expected - 2.0) << "input lost, pattern " << pattern;
    EXPECT_LE(double(total_out), expected + ratio + 2.0) << "pattern " << pattern;
  }
}

TEST_P(Bounds, OutputDoesNotDependOnChunking) {
  // A streaming resampler with kept state gives the same samples however the input is cut up.
  const auto [in_rate, out_rate, engine] = GetParam();
  std::vector<std::int16_t> input(in_rate);  // one second of a sweep
  for (std::size_t i = 0; i < input.size(); ++i) {
    const double t = double(i) / in_rate;
    input[i] = concierge::measure::to_pcm(20000.0 * std::sin(2 * 3.141592653589793 * (200.0 + 1500.0 * t) * t));
  }
  auto run = [&](auto next_size) {
    Resampler resampler(in_rate, out_rate, engine);
    std::vector<std::int16_t> result, out(resampler.max_output(input.size()));
    for (std::size_t at = 0; at < input.size();) {
      const std::size_t n = std::min(next_size(), input.size() - at);
      const std::size_t produced = resampler.process(std::span(input.data() + at, n), out);
      result.insert(result.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(produced));
      at += n;
    }
    result.resize(result.size() + resampler.max_output(0));
    result.resize(result.size() - resampler.max_output(0) +
                  resampler.flush(std::span(result.data() + result.size() - resampler.max_output(0),
                                            resampler.max_output(0))));
    return result;
  };
  std::mt19937 random(7);
  const auto framed = run([&] { return std::size_t(in_rate / 50); });
  const auto bursty = run([&] { return std::size_t(1 + random() % 700); });
  ASSERT_EQ(framed.size(), bursty.size());
  EXPECT_EQ(framed, bursty);
}

INSTANTIATE_TEST_SUITE_P(
    Rates, Bounds,
    ::testing::Values(RatePair{8000, 24000}, RatePair{24000, 8000}, RatePair{8000, 16000}, RatePair{16000, 8000},
                      RatePair{16000, 24000}, RatePair{24000, 16000}, RatePair{8000, 48000},
                      RatePair{48000, 8000}, RatePair{44100, 8000}, RatePair{8000, 44100},
                      RatePair{8000, 24000, ResamplerEngine::libsoxr}, RatePair{24000, 8000, ResamplerEngine::libsoxr},
                      RatePair{16000, 24000, ResamplerEngine::libsoxr}),
    [](const auto& info) { return case_name(info.param); });

TEST(Resampler, PicksThePolyphaseFirForTelephoneRatesAndLibsoxrOtherwise) {
  for (auto [in, out] : {std::pair{8000u, 24000u}, {24000u, 8000u}, {8000u, 16000u}, {16000u, 24000u},
                         {8000u, 48000u}, {48000u, 16000u}, {8000u, 8000u}})
    EXPECT_EQ(Resampler(in, out).engine(), ResamplerEngine::polyphase_fir) << in << " -> " << out;
  // 44.1 kHz <-> 8 kHz reduces to 441/80: far too many phases for the FIR.
  EXPECT_EQ(Resampler(44100, 8000).engine(), ResamplerEngine::libsoxr);
  EXPECT_EQ(Resampler(8000, 11025).engine(), ResamplerEngine::libsoxr);
  EXPECT_EQ(Resampler(8000, 24000, ResamplerEngine::libsoxr).engine(), ResamplerEngine::libsoxr);
}

// The FIR's inner loop is built twice (AVX+FMA and the SSE2 baseline) and a resampler picks one for the CPU it runs
// on; CONCIERGE_RESAMPLER_KERNEL=baseline forces the baseline, so both are tested on a machine with FMA. (Without
// FMA both resamplers below run the baseline and the comparison is trivially equal; the figures still hold.)
TEST(Resampler, ThePolyphaseFirsBaselineBuildMatchesTheChosenOne) {
  for (auto [in, out] : {std::pair{8000u, 24000u}, {24000u, 8000u}, {8000u, 16000u}, {16000u, 24000u}}) {
    ::setenv("CONCIERGE_RESAMPLER_KERNEL", "baseline", 1);
    Resampler baseline(in, out, ResamplerEngine::polyphase_fir);
    ::unsetenv("CONCIERGE_RESAMPLER_KERNEL");
    Resampler chosen(in, out, ResamplerEngine::polyphase_fir);
    const auto sine = concierge::measure::measure_sine(driver(baseline), in, out, 997.0);
    EXPECT_GE(sine.snr_db, 85.0) << in << " -> " << out;
    Resampler baseline_again = [&] {
      ::setenv("CONCIERGE_RESAMPLER_KERNEL", "baseline", 1);
      Resampler r(in, out, ResamplerEngine::polyphase_fir);
      ::unsetenv("CONCIERGE_RESAMPLER_KERNEL");
      return r;
    }();
    std::vector<std::int16_t> input(in);  // a second of a sweep, in 20 ms frames
    for (std::size_t i = 0; i < input.size(); ++i) {
      const double t = double(i) / in;
      input[i] = concierge::measure::to_pcm(20000.0 * std::sin(2 * 3.141592653589793 * (200.0 + 1500.0 * t) * t));
    }
    std::vector<std::int16_t> a(chosen.max_output(in / 50)), b(a.size());
    int largest_difference = 0;
    for (std::size_t at = 0; at + in / 50 <= input.size(); at += in / 50) {
      const std::span<const std::int16_t> frame(input.data() + at, in / 50);
      const std::size_t na = chosen.process(frame, a), nb = baseline_again.process(frame, b);
      ASSERT_EQ(na, nb);
      for (std::size_t i = 0; i < na; ++i) largest_difference = std::max(largest_difference, std::abs(a[i] - b[i]));
    }
    // Same filter, same order of sums per lane: only float rounding (fused or separate multiply-add) may differ.
    EXPECT_LE(largest_difference, 1) << in << " -> " << out;
  }
}

TEST(Resampler, RefusesThePolyphaseFirForRatesItCannotTake) {
  try {
    Resampler resampler(44100, 8000, ResamplerEngine::polyphase_fir);
    FAIL() << "accepted 44100 -> 8000";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("44100 -> 8000"), std::string::npos) << e.what();
  }
}

TEST(Resampler, ThePolyphaseFirReleasesEachFrameWhole) {
  // 20 ms in, 20 ms out, from the first frame on: nothing waits for the next frame.
  Resampler up(8000, 24000), down(24000, 8000);
  std::vector<std::int16_t> frame(160), pcm24(up.max_output(160)), pcm8(down.max_output(480));
  for (int k = 0; k < 50; ++k) {
    for (std::size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<std::int16_t>((k * 160 + i) * 37 % 20000);
    ASSERT_EQ(up.process(frame, pcm24), 480u) << "frame " << k;
    ASSERT_EQ(down.process(std::span(pcm24.data(), 480), pcm8), 160u) << "frame " << k;
  }
  EXPECT_NEAR(up.filter_delay_samples() / 24.0, 2.98, 0.1);   // ms
  EXPECT_NEAR(down.filter_delay_samples() / 8.0, 2.98, 0.1);  // ms
}

TEST(Resampler, RefusesAShortOutputBuffer) {
  for (auto engine : {ResamplerEngine::polyphase_fir, ResamplerEngine::libsoxr}) {
    Resampler resampler(8000, 24000, engine);
    std::vector<std::int16_t> frame(160), out(resampler.max_output(160) - 1);
    EXPECT_THROW(resampler.process(frame, out), std::invalid_argument) << to_string(engine);
  }
}

TEST(Resampler, RefusesRateZero) {
  EXPECT_THROW(Resampler(0, 8000), std::invalid_argument);
  EXPECT_THROW(Resampler(8000, 0), std::invalid_argument);
}

TEST(Resampler, MovesKeepTheState) {
  Resampler a(8000, 24000);
  std::vector<std::int16_t> frame(160, 1000), out(a.max_output(160));
  a.process(frame, out);
  Resampler b(std::move(a));
  EXPECT_EQ(b.input_rate(), 8000u);
  EXPECT_EQ(b.output_rate(), 24000u);
  EXPECT_GT(b.process(frame, out), 0u);
}

}  // namespace
