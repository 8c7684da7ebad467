#include "live_protocol.hpp"

#include <array>

#include "concierge/text.hpp"

namespace concierge::openai_live {

using nlohmann::json;

json make_session_start(const LiveConfig& config, const VoiceSessionConfig& session, AudioFormat format,
                        std::string_view event_id) {
  const json audio_format = format.encoding == AudioEncoding::mulaw
                                ? json{{"type", "audio/pcmu"}, {"rate", 8000}}
                                : json{{"type", "audio/pcm"}, {"rate", format.sample_rate}};
  json tools = json::array();
  for (const auto& tool : session.tools) {
    json parameters = tool.parameters.is_object() && !tool.parameters.empty()
                          ? tool.parameters
                          : json{{"type", "object"}, {"properties", json::object()}};
    tools.push_back({{"type", "function"},
                     {"name", tool.name},
                     {"description", tool.description},
                     {"parameters", std::move(parameters)}});
  }
  // Business rules and tool workflows belong to the backend's prompt; the Live model gets the same prompt so it
  // knows whom it is calling and what to say. Both come from the agent plugin.
  json responses{{"model", config.backend_model}, {"instructions", session.instructions}, {"tools", std::move(tools)},
                 {"tool_choice", "auto"}};
  if (config.backend_reasoning_effort) responses["reasoning"] = {{"effort", *config.backend_reasoning_effort}};
  json s{{"model", config.model},
         {"instructions", session.instructions},
         {"audio", {{"format", audio_format}, {"output", {{"voice", config.voice}}}}},
         {"delegation", {{"type", "responses"}, {"responses", std::move(responses)}}}};
  return json{{"type", "session.start"}, {"event_id", std::string(event_id)}, {"session", std::move(s)}};
}

json make_function_call_output(std::string_view call_id, std::string_view output, std::string_view event_id) {
  return json{{"type", "response.item.create"},
              {"event_id", std::string(event_id)},
              {"item", {{"type", "function_call_output"}, {"call_id", std::string(call_id)}, {"output", std::string(output)}}}};
}

json make_response_create(std::string_view event_id) {
  return json{{"type", "response.create"}, {"event_id", std::string(event_id)}};
}

json make_session_close(std::string_view event_id) {
  return json{{"type", "session.close"}, {"event_id", std::string(event_id)}};
}

json make_context_append(ContextKind kind, std::string_view content, std::string_view event_id) {
  return json{{"type", kind == ContextKind::commentary ? "session.commentary.append" : "session.thinking.append"},
              {"content", truncate_utf8(content, 1500)},
              {"delegation_id", nullptr},
              {"event_id", std::string(event_id)}};
}

std::string_view AppendEventWriter::write(std::span<const std::uint8_t> audio) { return writer_.write(audio); }

bool scan_flat_event(std::string_view text, FlatEvent& out) {
  static constexpr std::array<std::string_view, 2> kKeys{"type", "delta"};
  std::array<std::string_view, 2> values;
  out = FlatEvent{};
  if (!openai_common::scan_flat_object(text, kKeys, values)) return false;
  out.type = values[0];
  out.delta = values[1];
  return true;
}

}  // namespace concierge::openai_live
