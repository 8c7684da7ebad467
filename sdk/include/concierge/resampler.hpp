#pragma once
// Streaming resampling of 16-bit mono PCM between the phone's 8 kHz and a voice model's 16/24 kHz.
// One Resampler per direction per call: it keeps its filter state across 20 ms frames (resampling each frame on its
// own, as the Python seed did, ruins the audio). Tuned for low delay: see resampler.cpp for the measured figures.
#include <cstdint>
#include <memory>
#include <span>

namespace concierge {

class Resampler {
 public:
  Resampler(std::uint32_t input_rate, std::uint32_t output_rate);
  ~Resampler();
  Resampler(const Resampler&) = delete;
  Resampler& operator=(const Resampler&) = delete;
  Resampler(Resampler&&) noexcept;
  Resampler& operator=(Resampler&&) noexcept;

  std::uint32_t input_rate() const;
  std::uint32_t output_rate() const;

  // An upper bound on the samples process() can return for `input_samples` samples of input, whatever came before
  // (it does not depend on the resampler's state, so a buffer sized once at set-up always suffices).
  std::size_t max_output(std::size_t input_samples) const;

  // Feeds `in` and writes whatever output is ready to `out` (which must hold max_output(in.size()) samples; a
  // shorter buffer throws std::invalid_argument, since it would silently drop input). Returns the number of samples
  // written. Allocates nothing.
  std::size_t process(std::span<const std::int16_t> in, std::span<std::int16_t> out);

  // Writes the samples still held in the filter (end of stream; `out` needs max_output(0)). Returns the number
  // written. No input may follow.
  std::size_t flush(std::span<std::int16_t> out);

  // Audio received but not yet released, in output samples: the buffering delay at this moment. (libsoxr removes
  // its filter's group delay from the output itself, so this is all the delay the resampler adds.)
  double delay_samples() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace concierge
