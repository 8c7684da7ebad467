#include "audio_converter.hpp"

#include <algorithm>

#include "concierge/mulaw.hpp"

namespace concierge::host {

namespace {
// The thread's scratch sets. A call's two directions nest at most once (the echo model answers inside the send of
// the frame it answers), so two are in use at a time; the others are for plugins that do more inside a send.
struct Scratch {
  std::array<AudioConverter::Buffers, 4> sets;
  std::array<bool, 4> held{};
};
Scratch& thread_scratch() {
  thread_local Scratch scratch;
  return scratch;
}

// Room for `n` elements, growing (allocating) only past the largest frame seen.
template <class T>
T* room(std::vector<T>& buffer, std::size_t n) {
  if (buffer.size() < n) buffer.resize(n);
  return buffer.data();
}
}  // namespace

AudioConverter::AudioConverter(AudioFormat from, AudioFormat to) : from_(from), to_(to) {
  if (from.sample_rate != to.sample_rate) resampler_.emplace(from.sample_rate, to.sample_rate);
  // Sized for 60 ms frames up front (Twilio sends 20 ms, realtime models 20-100 ms); a larger frame asks again.
  if (resampler_) {
    sized_for_input_ = from.sample_rate * 60 / 1000;
    resampled_samples_ = resampler_->max_output(sized_for_input_);
  }
}

AudioConverter::~AudioConverter() = default;

AudioConverter::Output::~Output() {
  if (lease_ >= 0) thread_scratch().held[static_cast<std::size_t>(lease_)] = false;
}

AudioConverter::Output AudioConverter::convert(const AudioFrame& in) {
  if (passthrough()) return Output(in, -1);

  // The first free set of the thread's, taken; past them, this converter's own.
  Scratch& scratch = thread_scratch();
  int lease = -1;
  for (std::size_t i = 0; i < scratch.held.size() && lease < 0; ++i)
    if (!scratch.held[i]) {
      scratch.held[i] = true;
      lease = static_cast<int>(i);
    }
  if (lease < 0 && !own_) own_ = std::make_unique<Buffers>();
  Buffers& buffers = lease >= 0 ? scratch.sets[static_cast<std::size_t>(lease)] : *own_;
  Output out(AudioFrame{}, lease);  // gives the set back however this returns

  // 1. To linear PCM at the input rate (a pcm16 input is used in place).
  std::span<const std::int16_t> pcm;
  if (in.format.encoding == AudioEncoding::mulaw) {
    std::int16_t* decoded = room(buffers.decoded, in.bytes.size());
    const std::size_t n = mulaw::decode(in.bytes, std::span<std::int16_t>(decoded, in.bytes.size()));
    pcm = {decoded, n};
  } else {
    pcm = in.pcm16();
  }

  // 2. To the output rate.
  if (resampler_) {
    // The bound is asked for only when a larger frame than any before arrives (max_output depends on nothing else),
    // so a steady stream does not; process() checks the room anyway.
    if (pcm.size() > sized_for_input_) {
      resampled_samples_ = std::max(resampled_samples_, resampler_->max_output(pcm.size()));
      sized_for_input_ = pcm.size();
    }
    std::int16_t* resampled = room(buffers.resampled, resampled_samples_);
    const std::size_t n = resampler_->process(pcm, std::span<std::int16_t>(resampled, resampled_samples_));
    pcm = {resampled, n};
  }

  // 3. To the output encoding.
  out.frame_.format = to_;
  out.frame_.timestamp_us = samples_out_ * 1'000'000ull / to_.sample_rate;
  samples_out_ += pcm.size();
  if (to_.encoding == AudioEncoding::mulaw) {
    std::uint8_t* encoded = room(buffers.encoded, pcm.size());
    const std::size_t n = mulaw::encode(pcm, std::span<std::uint8_t>(encoded, pcm.size()));
    out.frame_.bytes = {encoded, n};
  } else {
    // pcm here lives in the decoded or resampled buffer (same-format pcm16 was passed through above): view it.
    out.frame_.bytes = {reinterpret_cast<const std::uint8_t*>(pcm.data()), pcm.size() * 2};
  }
  return out;
}

}  // namespace concierge::host
