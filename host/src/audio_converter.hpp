#pragma once
// Converts one direction of a call's audio between the line's format and the voice model's, through the SDK's codec
// and resampler. Passes frames through untouched when both sides agree (Twilio mu-law straight to a pcmu model).
// Its buffers grow to the largest frame seen and are reused: steady traffic allocates nothing.
#include <cstdint>
#include <optional>
#include <vector>

#include "concierge/audio_frame.hpp"
#include "concierge/resampler.hpp"

namespace concierge::host {

class AudioConverter {
 public:
  AudioConverter(AudioFormat from, AudioFormat to);

  bool passthrough() const { return from_ == to_; }
  AudioFormat from() const { return from_; }
  AudioFormat to() const { return to_; }

  // The converted frame views this converter's buffer, valid until the next call. It may hold fewer samples than
  // the input (a resampler releases output as its filter allows) or none at all.
  AudioFrame convert(const AudioFrame& in);

 private:
  AudioFormat from_;
  AudioFormat to_;
  std::optional<Resampler> resampler_;
  std::vector<std::int16_t> decoded_;
  std::vector<std::int16_t> resampled_;
  std::size_t sized_for_input_ = 0;  // resampled_ holds max_output() of an input this long
  std::vector<std::uint8_t> encoded_;
  std::uint64_t samples_out_ = 0;
};

}  // namespace concierge::host
