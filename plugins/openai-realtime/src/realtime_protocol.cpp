#include "realtime_protocol.hpp"

#include <cstring>

#include "concierge/base64.hpp"

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

std::string_view AppendEventWriter::write(std::span<const std::uint8_t> audio) {
  static constexpr std::string_view kHead = R"({"type":"input_audio_buffer.append","audio":")";
  static constexpr std::string_view kTail = R"("})";
  const std::size_t size = kHead.size() + base64::encoded_size(audio.size()) + kTail.size();
  if (text_.size() < size) text_.resize(size);  // grows once to the frame size, then reused
  std::memcpy(text_.data(), kHead.data(), kHead.size());
  const std::size_t n =
      base64::encode(audio, std::span<char>(text_.data() + kHead.size(), text_.size() - kHead.size()));
  std::memcpy(text_.data() + kHead.size() + n, kTail.data(), kTail.size());
  return std::string_view(text_.data(), kHead.size() + n + kTail.size());
}

namespace {

struct Cursor {
  std::string_view s;
  std::size_t i = 0;
  void skip_ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) ++i;
  }
  bool eat(char c) {
    skip_ws();
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  // A string without escapes, returned in place. `escaped` is set (and the string skipped) when it has escapes.
  bool string(std::string_view& out, bool& escaped) {
    skip_ws();
    if (i >= s.size() || s[i] != '"') return false;
    const std::size_t start = ++i;
    escaped = false;
    while (i < s.size() && s[i] != '"') {
      if (s[i] == '\\') {
        escaped = true;
        ++i;
      }
      ++i;
    }
    if (i >= s.size()) return false;
    out = s.substr(start, i - start);
    ++i;
    return true;
  }
  bool scalar() {  // number, true, false, null
    skip_ws();
    const std::size_t start = i;
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ' ' && s[i] != '\n' && s[i] != '\r' &&
           s[i] != '\t')
      ++i;
    if (i == start) return false;
    const char c = s[start];
    return c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n';
  }
};

}  // namespace

bool scan_flat_event(std::string_view text, FlatEvent& out) {
  out = FlatEvent{};
  Cursor c{text};
  if (!c.eat('{')) return false;
  if (c.eat('}')) return false;
  for (;;) {
    std::string_view key;
    bool key_escaped = false;
    if (!c.string(key, key_escaped) || key_escaped) return false;
    if (!c.eat(':')) return false;
    c.skip_ws();
    if (c.i >= text.size()) return false;
    if (text[c.i] == '"') {
      std::string_view value;
      bool escaped = false;
      if (!c.string(value, escaped)) return false;
      std::string_view* field = key == "type"          ? &out.type
                                : key == "response_id" ? &out.response_id
                                : key == "item_id"     ? &out.item_id
                                : key == "delta"       ? &out.delta
                                                       : nullptr;
      if (field) {
        if (escaped) return false;
        *field = value;
      }
    } else if (text[c.i] == '{' || text[c.i] == '[') {
      return false;
    } else if (!c.scalar()) {
      return false;
    }
    if (c.eat(',')) continue;
    if (c.eat('}')) break;
    return false;
  }
  c.skip_ws();
  out.parsed = c.i == text.size();
  return out.parsed;
}

}  // namespace concierge::openai
