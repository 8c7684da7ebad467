#include "audio_converter.hpp"

#include <algorithm>

#include "concierge/mulaw.hpp"

namespace concierge::host {

AudioConverter::AudioConverter(AudioFormat from, AudioFormat to) : from_(from), to_(to) {
  if (from.sample_rate != to.sample_rate) resampler_.emplace(from.sample_rate, to.sample_rate);
  // Room for 60 ms frames up front (Twilio sends 20 ms, realtime models 20-100 ms); a larger frame grows a buffer
  // once. Only the stages this pair needs get a buffer: a second of audio for each, as this used to reserve, was
  // ~240 KiB of touched memory per call on the resampling path, nearly all of the daemon's memory per call.
  const std::size_t frame_in = from.sample_rate * 60 / 1000;
  if (from.encoding == AudioEncoding::mulaw) decoded_.resize(frame_in);
  if (resampler_) {
    resampled_.resize(resampler_->max_output(frame_in));
    sized_for_input_ = frame_in;
  }
  if (to.encoding == AudioEncoding::mulaw) encoded_.resize(resampler_ ? resampled_.size() : frame_in);
}

AudioFrame AudioConverter::convert(const AudioFrame& in) {
  if (passthrough()) return in;

  // 1. To linear PCM at the input rate (a pcm16 input is used in place).
  std::span<const std::int16_t> pcm;
  if (in.format.encoding == AudioEncoding::mulaw) {
    if (decoded_.size() < in.bytes.size()) decoded_.resize(in.bytes.size());
    const std::size_t n = mulaw::decode(in.bytes, decoded_);
    pcm = {decoded_.data(), n};
  } else {
    pcm = in.pcm16();
  }

  // 2. To the output rate.
  if (resampler_) {
    // The buffer is sized for the largest input so far (max_output depends on nothing else), so a steady stream
    // asks the resampler for its bound only when a larger frame arrives; process() checks the buffer anyway.
    if (pcm.size() > sized_for_input_) {
      resampled_.resize(std::max(resampled_.size(), resampler_->max_output(pcm.size())));
      sized_for_input_ = pcm.size();
    }
    const std::size_t n = resampler_->process(pcm, resampled_);
    pcm = {resampled_.data(), n};
  }

  // 3. To the output encoding.
  AudioFrame out;
  out.format = to_;
  out.timestamp_us = samples_out_ * 1'000'000ull / to_.sample_rate;
  samples_out_ += pcm.size();
  if (to_.encoding == AudioEncoding::mulaw) {
    if (encoded_.size() < pcm.size()) encoded_.resize(pcm.size());
    const std::size_t n = mulaw::encode(pcm, encoded_);
    out.bytes = {encoded_.data(), n};
  } else {
    // pcm here lives in decoded_ or resampled_ (same-format pcm16 was passed through above): view it in place.
    out.bytes = {reinterpret_cast<const std::uint8_t*>(pcm.data()), pcm.size() * 2};
  }
  return out;
}

}  // namespace concierge::host
