#pragma once
// Converts one direction of a call's audio between the line's format and the voice model's, through the SDK's codec
// and resampler. Passes frames through untouched when both sides agree (Twilio mu-law straight to a pcmu model).
//
// The converted samples are written to scratch buffers of the thread's, shared by every converter on it, not to
// each call's own: a loop carrying hundreds of calls then writes every frame into memory already in cache. A call
// keeps only its resampler's filter state (the resampler's block is the thread's too). Measured with cachegrind
// (2 MiB last level, as this machine's L2), 750 calls' converters both ways, one frame each in turn, steady state:
// ~96 misses per call's frame with each call's own buffers (~56 of them these, ~40 the resampler's block), next to
// none with the thread's, for 0.6% more instructions. The buffers grow to the largest frame seen and are reused:
// steady traffic allocates nothing.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "concierge/audio_frame.hpp"
#include "concierge/resampler.hpp"

namespace concierge::host {

class AudioConverter {
 public:
  AudioConverter(AudioFormat from, AudioFormat to);
  ~AudioConverter();

  bool passthrough() const { return from_ == to_; }
  AudioFormat from() const { return from_; }
  AudioFormat to() const { return to_; }

  // One stage's buffers: decoded mu-law, resampled PCM, encoded mu-law.
  struct Buffers {
    std::vector<std::int16_t> decoded;
    std::vector<std::int16_t> resampled;
    std::vector<std::uint8_t> encoded;
  };

  // A converted frame. Its bytes are in the thread's scratch buffers, held until this is destroyed: a conversion
  // while it lives (the echo model answers inside the send that carries this frame; a plugin may convert another
  // call's audio meanwhile) takes other buffers. It may hold fewer samples than the input (a resampler releases
  // output as its filter allows) or none at all. Only on the thread that converted, and not past the converter.
  class Output {
   public:
    Output(Output&& other) noexcept : frame_(other.frame_), lease_(other.lease_) { other.lease_ = -1; }
    Output(const Output&) = delete;
    Output& operator=(const Output&) = delete;
    Output& operator=(Output&&) = delete;
    ~Output();
    const AudioFrame& frame() const { return frame_; }

   private:
    friend class AudioConverter;
    Output(AudioFrame frame, int lease) : frame_(frame), lease_(lease) {}
    AudioFrame frame_;
    int lease_;  // the thread's scratch set held, or -1 (none: passed through, or this converter's own buffers)
  };

  Output convert(const AudioFrame& in);

 private:
  AudioFormat from_;
  AudioFormat to_;
  std::optional<Resampler> resampler_;
  std::size_t sized_for_input_ = 0;  // resampled_samples_ is max_output() of an input this long
  std::size_t resampled_samples_ = 0;
  std::uint64_t samples_out_ = 0;
  // Only where every scratch set of the thread is held at once (conversions nested deeper than calls nest them).
  std::unique_ptr<Buffers> own_;
};

}  // namespace concierge::host
