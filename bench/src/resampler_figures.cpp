#include "resampler_figures.hpp"

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <tuple>

#include "concierge/resampler.hpp"
#include "resampler_measure.hpp"

namespace concierge::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::int16_t> test_frame(std::uint32_t rate) {
  std::vector<std::int16_t> frame(rate / 50);
  for (std::size_t i = 0; i < frame.size(); ++i)
    frame[i] = measure::to_pcm(12000.0 * std::sin(0.0713 * double(i)) + 5000.0 * std::sin(0.31 * double(i)));
  return frame;
}

double hot_cost_us(std::uint32_t in, std::uint32_t out, ResamplerEngine engine) {
  Resampler r(in, out, engine);
  const auto frame = test_frame(in);
  std::vector<std::int16_t> result(r.max_output(frame.size()));
  double best = 1e9;
  for (int run = 0; run < 20; ++run) {
    const auto start = Clock::now();
    for (int k = 0; k < 1000; ++k) r.process(frame, result);
    best = std::min(best, std::chrono::duration<double, std::micro>(Clock::now() - start).count() / 1000);
  }
  return best;
}

// 1,000 resamplers, one frame each in turn: the cost with cold state, and the heap they hold.
std::pair<double, std::size_t> many_cost_us(std::uint32_t in, std::uint32_t out, ResamplerEngine engine) {
  constexpr int kCount = 1000;
  const auto heap_in_use = [] { const auto m = mallinfo2(); return m.uordblks + m.hblkhd; };
  const std::size_t heap_before = heap_in_use();
  std::vector<std::unique_ptr<Resampler>> all;
  for (int i = 0; i < kCount; ++i) all.push_back(std::make_unique<Resampler>(in, out, engine));
  const std::size_t heap = heap_in_use() - heap_before;
  const auto frame = test_frame(in);
  std::vector<std::int16_t> result(all.front()->max_output(frame.size()));
  double best = 1e9;
  for (int run = 0; run < 5; ++run) {
    const auto start = Clock::now();
    for (int round = 0; round < 10; ++round)
      for (auto& r : all) r->process(frame, result);
    best = std::min(best, std::chrono::duration<double, std::micro>(Clock::now() - start).count() / (10.0 * kCount));
  }
  return {best, heap / kCount};
}

}  // namespace

std::vector<ResamplerFigures> measure_resampler_figures() {
  std::vector<ResamplerFigures> all;
  const std::pair<std::uint32_t, std::uint32_t> pairs[] = {{8000, 24000}, {24000, 8000}, {8000, 16000}, {16000, 8000}};
  for (const ResamplerEngine engine : {ResamplerEngine::polyphase_fir, ResamplerEngine::libsoxr}) {
    for (const auto& [in, out] : pairs) {
      ResamplerFigures f;
      f.engine = to_string(engine);
      f.in_rate = in;
      f.out_rate = out;
      auto drive = [](Resampler& r) {
        return [&r](std::span<const std::int16_t> i, std::span<std::int16_t> o) { return r.process(i, o); };
      };
      {
        Resampler r(in, out, engine);
        const auto d = measure::measure_delay(drive(r), in, out);
        f.lag_ms = d.lag_ms, f.mean_held_ms = d.mean_held_ms, f.max_held_ms = d.max_held_ms, f.delay_ms = d.total_ms;
      }
      {
        Resampler r(in, out, engine);
        f.snr_db = measure::measure_sine(drive(r), in, out, 997.0).snr_db;
      }
      if (out == 8000) {
        Resampler r(in, out, engine);
        f.suppression_5k_db = measure::measure_suppression(drive(r), in, out, 5000.0);
      }
      f.us_per_frame_hot = hot_cost_us(in, out, engine);
      std::tie(f.us_per_frame_1000, f.state_bytes) = many_cost_us(in, out, engine);
      all.push_back(f);
    }
  }
  return all;
}

}  // namespace concierge::bench
