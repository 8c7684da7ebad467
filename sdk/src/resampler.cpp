// Streaming resampler on libsoxr. FIRST VERSION: correct and stateful; its quality/delay tuning and the figures
// that justify it are still to be measured (issue 4).
#include "concierge/resampler.hpp"

#include <soxr.h>

#include <stdexcept>
#include <string>

namespace concierge {

struct Resampler::Impl {
  soxr_t soxr = nullptr;
  std::uint32_t in_rate = 0;
  std::uint32_t out_rate = 0;
  double delay = 0;
  ~Impl() {
    if (soxr) soxr_delete(soxr);
  }
};

Resampler::Resampler(std::uint32_t input_rate, std::uint32_t output_rate) : impl_(std::make_unique<Impl>()) {
  impl_->in_rate = input_rate;
  impl_->out_rate = output_rate;
  soxr_error_t error = nullptr;
  soxr_io_spec_t io = soxr_io_spec(SOXR_INT16_I, SOXR_INT16_I);
  soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  soxr_runtime_spec_t runtime = soxr_runtime_spec(1);
  runtime.log2_large_dft_size = 8;  // small DFT blocks: output follows input closely instead of in bursts
  impl_->soxr = soxr_create(input_rate, output_rate, 1, &error, &io, &quality, &runtime);
  if (error) throw std::runtime_error(std::string("resampler: ") + error);
  impl_->delay = soxr_delay(impl_->soxr);
}

Resampler::~Resampler() = default;
Resampler::Resampler(Resampler&&) noexcept = default;
Resampler& Resampler::operator=(Resampler&&) noexcept = default;

std::uint32_t Resampler::input_rate() const { return impl_->in_rate; }
std::uint32_t Resampler::output_rate() const { return impl_->out_rate; }

std::size_t Resampler::max_output(std::size_t input_samples) const {
  // What this frame yields plus what the filter may still have held back from earlier ones.
  return (input_samples + 256) * impl_->out_rate / impl_->in_rate + 64;
}

std::size_t Resampler::process(std::span<const std::int16_t> in, std::span<std::int16_t> out) {
  std::size_t consumed = 0, produced = 0;
  soxr_process(impl_->soxr, in.data(), in.size(), &consumed, out.data(), out.size(), &produced);
  return produced;
}

std::size_t Resampler::flush(std::span<std::int16_t> out) {
  std::size_t produced = 0;
  soxr_process(impl_->soxr, nullptr, 0, nullptr, out.data(), out.size(), &produced);
  return produced;
}

double Resampler::delay_samples() const { return impl_->delay; }

}  // namespace concierge
