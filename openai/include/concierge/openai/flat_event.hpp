#pragma once
// The per-frame JSON of OpenAI's voice APIs without a JSON tree: the callee's audio out as an append event written
// into a buffer that keeps its capacity, and the agent's audio in, read in place from a flat event. Neither allocates
// once warm (the plugins' alloc tests count it).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace concierge::openai_common {

// {"type":"<event_type>","audio":"<base64>"}: the append event of either API (input_audio_buffer.append,
// session.input_audio.append). The view is valid until the next write().
class AudioAppendWriter {
 public:
  explicit AudioAppendWriter(std::string_view event_type);
  std::string_view write(std::span<const std::uint8_t> audio);

 private:
  std::string head_;
  std::string text_;
};

// Reads the string fields named in `keys` of one flat JSON object into `values` (same order; a field the text lacks
// stays ""), in place. false when the text is not one flat object of scalars (a nested value, trailing text), or a
// wanted field's string has escapes: the caller then parses it properly. Escapes in other fields are skipped.
bool scan_flat_object(std::string_view text, std::span<const std::string_view> keys,
                      std::span<std::string_view> values);

}  // namespace concierge::openai_common
