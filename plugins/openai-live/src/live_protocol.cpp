#include "live_protocol.hpp"

#include <cstring>

#include "concierge/base64.hpp"

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

std::string_view AppendEventWriter::write(std::span<const std::uint8_t> audio) {
  static constexpr std::string_view kHead = R"({"type":"session.input_audio.append","audio":")";
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
      std::string_view* field = key == "type" ? &out.type : key == "delta" ? &out.delta : nullptr;
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
  return c.i == text.size();
}

}  // namespace concierge::openai_live
