#pragma once
// Streaming resampling of 16-bit mono PCM between the phone's 8 kHz and a voice model's 16/24 kHz.
// One Resampler per direction per call: it keeps its filter state across 20 ms frames (resampling each frame on its
// own, as the Python seed did, ruins the audio). Tuned for low delay and little work per frame: see resampler.cpp
// for the engines and their measured figures.
#include <cstdint>
#include <memory>
#include <span>

namespace concierge {

enum class ResamplerEngine {
  automatic,      // polyphase_fir where the rates allow it (8/16/24/48 kHz among themselves), libsoxr otherwise
  polyphase_fir,  // our own polyphase FIR: rates whose ratio reduces to L/M with L, M <= 8; releases every frame whole
  libsoxr,        // libsoxr, minimum phase, smallest DFT blocks: any rates
};

const char* to_string(ResamplerEngine engine);

class Resampler {
 public:
  // Throws std::invalid_argument for a rate of 0, or for polyphase_fir with rates it cannot take.
  Resampler(std::uint32_t input_rate, std::uint32_t output_rate,
            ResamplerEngine engine = ResamplerEngine::automatic);
  ~Resampler();
  Resampler(const Resampler&) = delete;
  Resampler& operator=(const Resampler&) = delete;
  Resampler(Resampler&&) noexcept;
  Resampler& operator=(Resampler&&) noexcept;

  std::uint32_t input_rate() const;
  std::uint32_t output_rate() const;
  ResamplerEngine engine() const;  // the one chosen (never automatic)

  // An upper bound on the samples process() can return for `input_samples` samples of input, whatever came before
  // (it does not depend on the resampler's state, so a buffer sized once at set-up always suffices).
  std::size_t max_output(std::size_t input_samples) const;

  // Feeds `in` and writes whatever output is ready to `out` (which must hold max_output(in.size()) samples; a
  // shorter buffer throws std::invalid_argument, since it would silently drop input). Returns the number of samples
  // written. Allocates nothing.
  std::size_t process(std::span<const std::int16_t> in, std::span<std::int16_t> out);

  // Writes what the filter still holds of the input (end of stream; `out` needs max_output(0)): the held-back
  // samples and the filter's delay line. Returns the number written. No input may follow.
  std::size_t flush(std::span<std::int16_t> out);

  // Audio received but not yet released, in output samples, at this moment (libsoxr holds audio back; the FIR
  // releases each frame whole, so this stays within one sample of 0 for it).
  double delay_samples() const;

  // The lag the filter puts into the audio it releases, in output samples: output sample j carries the input from
  // j - filter_delay_samples(). 0 for libsoxr, which removes its filter's delay by holding audio back instead.
  // Delay a listener hears = filter_delay_samples() + delay_samples().
  double filter_delay_samples() const;

  struct Engine;  // the chosen engine's interface (resampler_engine.hpp, inside the SDK)

 private:
  std::unique_ptr<Engine> engine_;
};

}  // namespace concierge
