#include "realtime_config.hpp"

#include <algorithm>
#include <array>
#include <filesystem>

#include "concierge/openai/websocket.hpp"

#include "concierge/http.hpp"

namespace concierge::openai {
namespace {

constexpr std::array<std::string_view, 10> kVoices{"alloy", "ash",     "ballad", "coral", "echo",
                                                   "sage",  "shimmer", "verse",  "marin", "cedar"};
// The seed's REALTIME_VOICE comment listed these; they belong to the text-to-speech API, never to Realtime.
constexpr std::array<std::string_view, 3> kSeedOnlyVoices{"fable", "onyx", "nova"};

std::string voice_list() {
  std::string out;
  for (auto v : kVoices) out += (out.empty() ? "" : ", ") + std::string(v);
  return out;
}

bool contains(std::span<const std::string_view> list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

std::span<const std::string_view> realtime_voices() { return kVoices; }

std::optional<Endpoint> parse_ws_url(std::string_view url, std::string_view model, std::string* why) {
  auto e = net::parse_websocket_url(url, why);
  if (!e) return std::nullopt;
  std::string& path = e->target;
  // The model travels in the query string, as OpenAI's WebSocket endpoint takes it.
  if (path.find("model=") == std::string::npos)
    path += (path.find('?') == std::string::npos ? "?" : "&") + std::string("model=") + url_encode(model);
  return e;
}

Endpoint RealtimeConfig::endpoint() const {
  std::string why;
  auto e = parse_ws_url(url, model, &why);
  if (!e) throw std::invalid_argument("bad url " + url + ": " + why);  // parse_realtime_config checked it already
  return *e;
}

RealtimeConfig parse_realtime_config(const ConfigNode& node, const std::string& config_dir) {
  node.allow_only({"api_key", "url", "model", "voice", "audio_format", "turn_detection", "transcription_model",
                   "transcription_language", "speed", "ca_file", "connect_timeout_seconds", "speak_first",
                   "early_audio_limit_ms", "temperature"});
  RealtimeConfig c;

  c.api_key = node.get_string("api_key", "");
  if (c.api_key.empty())
    node.fail("api_key", "OPENAI_API_KEY not configured: set it in the environment or in .env "
                         "(the block should read api_key: ${OPENAI_API_KEY})");

  c.url = node.get_string("url", c.url);
  c.model = node.get_string("model", c.model);
  if (c.model.empty()) node.fail("model", "the model name is empty");
  {
    std::string why;
    if (!parse_ws_url(c.url, c.model, &why)) node.fail("url", why + ", found \"" + c.url + "\"");
  }

  c.voice = node.get_string("voice", c.voice);
  if (c.voice.empty()) c.voice = "alloy";  // ${REALTIME_VOICE:-} left empty: the documented default
  if (!contains(kVoices, c.voice)) {
    if (contains(kSeedOnlyVoices, c.voice))
      node.fail("voice", "\"" + c.voice +
                             "\" is not a Realtime API voice. The seed's REALTIME_VOICE list (alloy, echo, fable, "
                             "onyx, nova, shimmer) is outdated: fable, onyx and nova are text-to-speech voices the "
                             "Realtime API refuses. Current voices: " + voice_list() + " (OpenAI recommends marin "
                             "or cedar)");
    node.fail("voice", "unknown voice \"" + c.voice + "\"; the Realtime API's voices are: " + voice_list());
  }

  const std::string format = node.get_string("audio_format", "pcmu");
  if (format == "pcmu") c.audio_mode = AudioMode::pcmu;
  else if (format == "pcm24k") c.audio_mode = AudioMode::pcm24k;
  else node.fail("audio_format", "expected pcmu (G.711 mu-law, passed straight through from the phone line) or "
                                 "pcm24k (16-bit PCM at 24 kHz, resampled by the host), found \"" + format + "\"");

  if (auto td = node.optional_child("turn_detection")) {
    td->allow_only({"type", "threshold", "prefix_padding_ms", "silence_duration_ms", "idle_timeout_ms", "eagerness",
                    "create_response", "interrupt_response"});
    auto& t = c.turn_detection;
    t.type = td->get_string("type", t.type);
    if (t.type != "server_vad" && t.type != "semantic_vad")
      td->fail("type", "expected server_vad or semantic_vad, found \"" + t.type + "\"");
    const bool server = t.type == "server_vad";
    auto server_only = [&](std::string_view key) {
      if (!server && td->has(key)) td->fail(key, "applies to server_vad only (type is semantic_vad)");
    };
    server_only("threshold");
    server_only("prefix_padding_ms");
    server_only("silence_duration_ms");
    server_only("idle_timeout_ms");
    if (server && td->has("eagerness")) td->fail("eagerness", "applies to semantic_vad only (type is server_vad)");
    if (td->has("threshold")) t.threshold = td->get_double("threshold", 0.5, 0.0, 1.0);
    if (td->has("prefix_padding_ms")) t.prefix_padding_ms = static_cast<int>(td->get_int("prefix_padding_ms", 300, 0, 10000));
    if (td->has("silence_duration_ms"))
      t.silence_duration_ms = static_cast<int>(td->get_int("silence_duration_ms", 500, 0, 10000));
    if (td->has("idle_timeout_ms")) t.idle_timeout_ms = static_cast<int>(td->get_int("idle_timeout_ms", 0, 5000, 30000));
    if (td->has("eagerness")) {
      t.eagerness = td->get_string("eagerness", "auto");
      if (*t.eagerness != "low" && *t.eagerness != "medium" && *t.eagerness != "high" && *t.eagerness != "auto")
        td->fail("eagerness", "expected low, medium, high or auto, found \"" + *t.eagerness + "\"");
    }
    t.create_response = td->get_bool("create_response", true);
    t.interrupt_response = td->get_bool("interrupt_response", true);
  }

  c.transcription_model = node.get_string("transcription_model", c.transcription_model);
  if (c.transcription_model == "none") c.transcription_model.clear();
  c.transcription_language = node.get_string("transcription_language", "");
  if (node.has("speed")) c.speed = node.get_double("speed", 1.0, 0.25, 1.5);

  if (node.has("temperature"))
    node.fail("temperature", "the GA Realtime API has no temperature setting (session.update refuses it); remove "
                             "this key");

  c.ca_file = node.get_string("ca_file", "");
  if (!c.ca_file.empty()) {
    std::filesystem::path p(c.ca_file);
    if (p.is_relative() && !config_dir.empty()) p = std::filesystem::path(config_dir) / p;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(p, ec)) node.fail("ca_file", "no such file: " + p.string());
    if (const std::string problem = openai_common::ca_file_problem(p.string()); !problem.empty())
      node.fail("ca_file", problem);
    c.ca_file = p.string();
  }
  c.connect_timeout = std::chrono::seconds(node.get_int("connect_timeout_seconds", 10, 1, 120));
  c.speak_first = node.get_bool("speak_first", false);
  c.early_audio_limit_ms = static_cast<std::size_t>(node.get_int("early_audio_limit_ms", 5000, 0, 30000));
  return c;
}

}  // namespace concierge::openai
