#include "dtmf_figures.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "concierge/beep_detector.hpp"
#include "concierge/dtmf.hpp"

namespace concierge::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kFrame = 160;  // 20 ms at 8 kHz

// The best of several runs of `rounds` calls of `work` (microseconds per call): the machine's noise only adds.
template <class Work>
double best_us_per_call(int rounds, Work&& work) {
  double best = 1e9;
  for (int run = 0; run < 10; ++run) {
    const auto start = Clock::now();
    for (int k = 0; k < rounds; ++k) work(k);
    best = std::min(best, std::chrono::duration<double, std::micro>(Clock::now() - start).count() / rounds);
  }
  return best;
}

}  // namespace

DtmfFigures measure_dtmf_figures() {
  DtmfFigures f;
  f.generator_bytes = sizeof(dtmf::Generator);
  f.detector_bytes = sizeof(dtmf::Detector);
  std::array<std::int16_t, kFrame> frame{};

  // The generator always busy: a long queue, topped up whenever it runs low.
  auto keep_busy = [](dtmf::Generator& g) {
    if (g.remaining() < std::chrono::milliseconds(500)) g.press("0123456789*#");
  };
  dtmf::Generator one(8000);
  f.generator_us_hot = best_us_per_call(2000, [&](int) {
    keep_busy(one);
    one.generate(frame);
  });
  std::vector<std::unique_ptr<dtmf::Generator>> generators;
  for (int i = 0; i < 1000; ++i) generators.push_back(std::make_unique<dtmf::Generator>(8000));
  f.generator_us_1000 = best_us_per_call(2000, [&](int k) {
    auto& g = *generators[static_cast<std::size_t>(k) % generators.size()];
    keep_busy(g);
    g.generate(frame);
  });

  // The detector hearing what the generator plays (its worst case: every block passes the level checks).
  std::vector<std::int16_t> tones(kFrame * 500);
  dtmf::Generator source(8000);
  for (std::size_t i = 0; i < tones.size(); i += kFrame) {
    keep_busy(source);
    source.generate(std::span<std::int16_t>(tones.data() + i, kFrame));
  }
  auto tone_frame = [&](int k) {
    return std::span<const std::int16_t>(tones.data() + static_cast<std::size_t>(k % 500) * kFrame, kFrame);
  };
  dtmf::Detector listener(8000);
  f.detector_us_hot = best_us_per_call(2000, [&](int k) { (void)listener.process(tone_frame(k)); });
  std::vector<std::unique_ptr<dtmf::Detector>> detectors;
  for (int i = 0; i < 1000; ++i) detectors.push_back(std::make_unique<dtmf::Detector>(8000));
  f.detector_us_1000 = best_us_per_call(2000, [&](int k) {
    (void)detectors[static_cast<std::size_t>(k) % detectors.size()]->process(tone_frame(k / 1000));
  });

  f.beep_bytes = sizeof(beep::Detector);
  std::vector<std::int16_t> beep_tone(kFrame * 50);
  for (std::size_t n = 0; n < beep_tone.size(); ++n)
    beep_tone[n] = static_cast<std::int16_t>(7000 * std::sin(2 * 3.14159265358979 * 1000 * n / 8000.0));
  auto beep_frame = [&](int k) {
    return std::span<const std::int16_t>(beep_tone.data() + static_cast<std::size_t>(k % 50) * kFrame, kFrame);
  };
  beep::Detector beep_listener(8000);
  f.beep_us_hot = best_us_per_call(2000, [&](int k) { (void)beep_listener.process(beep_frame(k)); });
  std::vector<std::unique_ptr<beep::Detector>> beep_listeners;
  for (int i = 0; i < 1000; ++i) beep_listeners.push_back(std::make_unique<beep::Detector>(8000));
  f.beep_us_1000 = best_us_per_call(2000, [&](int k) {
    (void)beep_listeners[static_cast<std::size_t>(k) % beep_listeners.size()]->process(beep_frame(k / 1000));
  });
  return f;
}

}  // namespace concierge::bench
