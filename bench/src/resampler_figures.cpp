#include "resampler_figures.hpp"

#include "concierge/resampler.hpp"
#include "resampler_measure.hpp"

namespace concierge::bench {

std::vector<ResamplerFigures> measure_resampler_figures() {
  std::vector<ResamplerFigures> all;
  const std::pair<std::uint32_t, std::uint32_t> pairs[] = {{8000, 24000}, {24000, 8000}, {8000, 16000}, {16000, 8000}};
  for (const auto& [in, out] : pairs) {
    ResamplerFigures f;
    f.in_rate = in;
    f.out_rate = out;
    auto drive = [](Resampler& r) {
      return [&r](std::span<const std::int16_t> i, std::span<std::int16_t> o) { return r.process(i, o); };
    };
    {
      Resampler r(in, out);
      const auto d = measure::measure_delay(drive(r), in, out);
      f.lag_ms = d.lag_ms, f.mean_held_ms = d.mean_held_ms, f.max_held_ms = d.max_held_ms, f.delay_ms = d.total_ms;
    }
    {
      Resampler r(in, out);
      f.snr_db = measure::measure_sine(drive(r), in, out, 997.0).snr_db;
    }
    if (out == 8000) {
      Resampler r(in, out);
      f.suppression_5k_db = measure::measure_suppression(drive(r), in, out, 5000.0);
    }
    all.push_back(f);
  }
  return all;
}

}  // namespace concierge::bench
