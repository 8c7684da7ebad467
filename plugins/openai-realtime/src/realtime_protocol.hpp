#pragma once
// The GA Realtime wire format: the client events this plugin sends, and a zero-allocation reader for the one server
// event that arrives dozens of times a second (response.output_audio.delta).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "concierge/openai/flat_event.hpp"
#include "concierge/voice_model.hpp"
#include "realtime_config.hpp"

namespace concierge::openai {

// session.update in the GA shape: session.type "realtime", output_modalities, audio.input / audio.output.
nlohmann::json make_session_update(const RealtimeConfig& config, const VoiceSessionConfig& session,
                                   std::string_view event_id);

// {"type":"input_audio_buffer.append","audio":"<base64>"} built into a buffer that keeps its capacity, so a 20 ms
// frame costs no allocation once the first one has sized it.
class AppendEventWriter {
 public:
  std::string_view write(std::span<const std::uint8_t> audio);

 private:
  openai_common::AudioAppendWriter writer_{"input_audio_buffer.append"};
};

// The string fields of a flat JSON object, read in place. ok() is false when the text is not one flat object of
// scalars (a nested value, or a string with escapes in a field we need): the caller then parses it properly.
struct FlatEvent {
  std::string_view type;
  std::string_view response_id;
  std::string_view item_id;
  std::string_view delta;
  bool parsed = false;
};
bool scan_flat_event(std::string_view text, FlatEvent& out);

}  // namespace concierge::openai
