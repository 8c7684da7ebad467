#include "realtime_protocol.hpp"

#include <array>


namespace concierge::openai {

nlohmann::json make_session_update(const RealtimeConfig& config, const VoiceSessionConfig& session,
                                   std::string_view event_id) {
  using nlohmann::json;
  json format = config.audio_mode == AudioMode::pcmu ? json{{"type", "audio/pcmu"}}
                                                     : json{{"type", "audio/pcm"}, {"rate", 24000}};

  const auto& t = config.turn_detection;
  json turn{{"type", t.type}, {"create_response", t.create_response}, {"interrupt_response", t.interrupt_response}};
  if (t.threshold) turn["threshold"] = *t.threshold;
  if (t.prefix_padding_ms) turn["prefix_padding_ms"] = *t.prefix_padding_ms;
  if (t.silence_duration_ms) turn["silence_duration_ms"] = *t.silence_duration_ms;
  if (t.idle_timeout_ms) turn["idle_timeout_ms"] = *t.idle_timeout_ms;
  if (t.eagerness) turn["eagerness"] = *t.eagerness;

  json input{{"format", format}, {"turn_detection", turn}};
  if (!config.transcription_model.empty()) {
    json transcription{{"model", config.transcription_model}};
    if (!config.transcription_language.empty()) transcription["language"] = config.transcription_language;
    input["transcription"] = transcription;
  }
  json output{{"format", format}, {"voice", config.voice}};
  if (config.speed) output["speed"] = *config.speed;

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

  json s{{"type", "realtime"},
         {"model", config.model},
         {"output_modalities", json::array({"audio"})},
         {"instructions", session.instructions},
         {"audio", {{"input", std::move(input)}, {"output", std::move(output)}}},
         {"tools", std::move(tools)},
         {"tool_choice", "auto"}};
  return json{{"type", "session.update"}, {"event_id", std::string(event_id)}, {"session", std::move(s)}};
}

std::string_view AppendEventWriter::write(std::span<const std::uint8_t> audio) { return writer_.write(audio); }

bool scan_flat_event(std::string_view text, FlatEvent& out) {
  static constexpr std::array<std::string_view, 4> kKeys{"type", "response_id", "item_id", "delta"};
  std::array<std::string_view, 4> values;
  out = FlatEvent{};
  out.parsed = openai_common::scan_flat_object(text, kKeys, values);
  if (out.parsed) {
    out.type = values[0];
    out.response_id = values[1];
    out.item_id = values[2];
    out.delta = values[3];
  }
  return out.parsed;
}

}  // namespace concierge::openai
