#pragma once
// The GPT-Live wire format (openai 7.x, resources/live/live.d.ts): the client events this plugin sends, and a
// zero-allocation reader for the one server event that arrives dozens of times a second (session.output_audio.delta).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "concierge/openai/flat_event.hpp"
#include "concierge/voice_model.hpp"
#include "live_config.hpp"

namespace concierge::openai_live {

// session.start with exactly the SessionConfig fields the types define: model, instructions, audio.format,
// audio.output.voice and a Responses delegation carrying the agent's tools as function tools. The session object is
// strict (unknown fields are errors), so nothing else is sent.
nlohmann::json make_session_start(const LiveConfig& config, const VoiceSessionConfig& session, AudioFormat format,
                                  std::string_view event_id);

// {"type":"response.item.create","item":{"type":"function_call_output",...}} and {"type":"response.create"}.
nlohmann::json make_function_call_output(std::string_view call_id, std::string_view output, std::string_view event_id);
nlohmann::json make_response_create(std::string_view event_id);
nlohmann::json make_session_close(std::string_view event_id);

// Context for the model in the session timeline, general to the session (delegation_id null: a Responses
// delegation takes no other): session.commentary.append is speakable (the model says something about it),
// session.thinking.append silent. The types limit `content` to 500 tokens; it is cut at 1,500 bytes (a character
// boundary), which no note of an agent comes near.
enum class ContextKind { commentary, thinking };
nlohmann::json make_context_append(ContextKind kind, std::string_view content, std::string_view event_id);

// {"type":"session.input_audio.append","audio":"<base64>"} built into a buffer that keeps its capacity, so a 20 ms
// frame costs no allocation once the first one has sized it.
class AppendEventWriter {
 public:
  std::string_view write(std::span<const std::uint8_t> audio);

 private:
  openai_common::AudioAppendWriter writer_{"session.input_audio.append"};
};

// The string fields of a flat JSON object, read in place. false when the text is not one flat object of scalars (a
// nested value, or an escaped string in a field we need): the caller then parses it properly.
struct FlatEvent {
  std::string_view type;
  std::string_view delta;
};
bool scan_flat_event(std::string_view text, FlatEvent& out);

}  // namespace concierge::openai_live
