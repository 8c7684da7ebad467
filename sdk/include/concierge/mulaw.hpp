#pragma once
// G.711 mu-law, bit-exact with the ITU-T G.711 reference (and so with Twilio and the OpenAI Realtime API's
// audio/pcmu). Encoding and decoding are table look-ups; the span versions write into caller-owned storage.
#include <cstdint>
#include <span>

namespace concierge::mulaw {

std::int16_t decode(std::uint8_t code);
std::uint8_t encode(std::int16_t sample);

// out.size() must be >= in.size(); returns the number of values written (== in.size()).
std::size_t decode(std::span<const std::uint8_t> in, std::span<std::int16_t> out);
std::size_t encode(std::span<const std::int16_t> in, std::span<std::uint8_t> out);

}  // namespace concierge::mulaw
