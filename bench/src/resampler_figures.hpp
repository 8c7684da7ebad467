#pragma once
// The SDK resampler's figures, measured by the same code the SDK's tests assert with (sdk/tests/resampler_measure.hpp),
// for each engine, plus what a 20 ms frame costs.
#include <cstdint>
#include <string>
#include <vector>

namespace concierge::bench {

struct ResamplerFigures {
  std::string engine;  // "polyphase-fir" or "libsoxr"
  std::uint32_t in_rate = 0, out_rate = 0;
  double lag_ms = 0, mean_held_ms = 0, max_held_ms = 0, delay_ms = 0;
  double snr_db = 0;                 // 997 Hz
  double suppression_5k_db = -1;     // only going down to 8 kHz; -1 otherwise
  // CPU per 20 ms frame: one resampler, hot in cache (best of several runs), and 1,000 resamplers taken in turn,
  // as a daemon with 1,000 calls does (each one's state is cold by its next frame).
  double us_per_frame_hot = 0;
  double us_per_frame_1000 = 0;
  std::size_t state_bytes = 0;  // heap a resampler holds: growth of the process over 1,000 of them, per resampler
};

std::vector<ResamplerFigures> measure_resampler_figures();

}  // namespace concierge::bench
