#pragma once
// The SDK resampler's figures, measured by the same code the SDK's tests assert with (sdk/tests/resampler_measure.hpp).
#include <cstdint>
#include <vector>

namespace concierge::bench {

struct ResamplerFigures {
  std::uint32_t in_rate = 0, out_rate = 0;
  double lag_ms = 0, mean_held_ms = 0, max_held_ms = 0, delay_ms = 0;
  double snr_db = 0;                 // 997 Hz
  double suppression_5k_db = -1;     // only going down to 8 kHz; -1 otherwise
};

std::vector<ResamplerFigures> measure_resampler_figures();

}  // namespace concierge::bench
