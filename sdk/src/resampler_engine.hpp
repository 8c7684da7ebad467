#pragma once
// What each resampling engine implements behind concierge::Resampler (one virtual call per frame and direction).
#include <cstdint>
#include <memory>
#include <span>

#include "concierge/resampler.hpp"

namespace concierge {

struct Resampler::Engine {
  virtual ~Engine() = default;
  virtual ResamplerEngine kind() const = 0;
  virtual std::uint32_t input_rate() const = 0;
  virtual std::uint32_t output_rate() const = 0;
  virtual std::size_t max_output(std::size_t input_samples) const = 0;
  // `out` is at least max_output(in.size()) long (Resampler checks).
  virtual std::size_t process(std::span<const std::int16_t> in, std::span<std::int16_t> out) = 0;
  virtual std::size_t flush(std::span<std::int16_t> out) = 0;
  virtual double delay_samples() const = 0;
  virtual double filter_delay_samples() const = 0;
};

namespace resampling {

// Whether the polyphase FIR takes this pair of rates (their ratio reduces to L/M with L, M <= 8).
bool polyphase_supports(std::uint32_t input_rate, std::uint32_t output_rate);
std::unique_ptr<Resampler::Engine> make_polyphase_fir(std::uint32_t input_rate, std::uint32_t output_rate);
std::unique_ptr<Resampler::Engine> make_libsoxr(std::uint32_t input_rate, std::uint32_t output_rate);

}  // namespace resampling
}  // namespace concierge
