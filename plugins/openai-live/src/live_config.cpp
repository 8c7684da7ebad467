#include "live_config.hpp"

#include <algorithm>
#include <array>
#include <filesystem>

#include "concierge/openai/websocket.hpp"

namespace concierge::openai_live {
namespace {

constexpr std::array<std::string_view, 23> kVoices{
    "alloy", "ash",    "ballad", "beacon", "bossa",  "cedar",  "cinder", "coral",   "delta",  "echo",   "gleam", "marin",
    "meridian", "quartz", "ripple", "sage", "shida", "shimmer", "stone", "tempo", "verse", "vesper", "willow"};
constexpr std::array<std::string_view, 6> kEfforts{"none", "minimal", "low", "medium", "high", "xhigh"};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

template <std::size_t N>
std::string joined(const std::array<std::string_view, N>& list) {
  std::string out;
  for (auto v : list) out += (out.empty() ? "" : ", ") + std::string(v);
  return out;
}

}  // namespace

std::span<const std::string_view> live_voices() { return kVoices; }

std::optional<Endpoint> parse_ws_url(std::string_view url, std::string* why) {
  auto e = net::parse_websocket_url(url, why);
  if (e && e->target.find('?') != std::string::npos) {
    if (why) *why = "GPT-Live takes no query parameters (the model goes in session.start)";
    return std::nullopt;
  }
  return e;
}

Endpoint LiveConfig::endpoint() const {
  std::string why;
  auto e = parse_ws_url(url, &why);
  if (!e) throw std::invalid_argument("bad url " + url + ": " + why);  // parse_live_config checked it already
  return *e;
}

AudioFormat LiveConfig::audio_format(AudioFormat line) const {
  switch (audio_mode) {
    case AudioMode::pcmu: return AudioFormat::mulaw_8k();
    case AudioMode::pcm16k: return AudioFormat::pcm16_at(16000);
    case AudioMode::pcm24k: return AudioFormat::pcm16_at(24000);
    case AudioMode::automatic: break;
  }
  return line == AudioFormat::mulaw_8k() ? AudioFormat::mulaw_8k() : AudioFormat::pcm16_at(24000);
}

LiveConfig parse_live_config(const ConfigNode& node, const std::string& config_dir) {
  node.allow_only({"api_key", "url", "model", "voice", "audio_format", "backend_model", "backend_reasoning_effort",
                   "ca_file", "connect_timeout_seconds", "early_audio_limit_ms", "callee_turn_gap_ms",
                   "output_gap_ms"});
  LiveConfig c;
  c.api_key = node.get_string("api_key", "");
  if (c.api_key.empty())
    node.fail("api_key", "OPENAI_API_KEY not configured: set it in the environment or in .env "
                         "(the block should read api_key: ${OPENAI_API_KEY})");
  c.url = node.get_string("url", c.url);
  if (c.url.empty()) c.url = LiveConfig{}.url;
  {
    std::string why;
    if (!parse_ws_url(c.url, &why)) node.fail("url", why + ", found \"" + c.url + "\"");
  }
  c.model = node.get_string("model", c.model);
  if (c.model.empty()) c.model = LiveConfig{}.model;  // ${OPENAI_LIVE_MODEL:-} left empty

  c.voice = node.get_string("voice", c.voice);
  if (c.voice.empty()) c.voice = LiveConfig{}.voice;
  if (!contains(kVoices, c.voice))
    node.fail("voice", "unknown voice \"" + c.voice + "\"; GPT-Live's built-in voices are: " + joined(kVoices));

  const std::string format = node.get_string("audio_format", "auto");
  if (format == "auto") c.audio_mode = AudioMode::automatic;
  else if (format == "pcmu") c.audio_mode = AudioMode::pcmu;
  else if (format == "pcm16k") c.audio_mode = AudioMode::pcm16k;
  else if (format == "pcm24k") c.audio_mode = AudioMode::pcm24k;
  else node.fail("audio_format", "expected auto (pcmu on a mu-law line, pcm24k otherwise), pcmu (G.711 mu-law, "
                                 "passed straight through from the phone line), pcm16k or pcm24k (16-bit PCM, "
                                 "resampled by the host), found \"" + format + "\"");

  c.backend_model = node.get_string("backend_model", c.backend_model);
  if (c.backend_model.empty())
    node.fail("backend_model", "the Responses model the agent's tools are delegated to is empty; GPT-Live has no "
                               "session tools, so without it the agent could not confirm a booking");
  if (node.has("backend_reasoning_effort")) {
    const std::string effort = node.get_string("backend_reasoning_effort", "");
    if (!contains(kEfforts, effort))
      node.fail("backend_reasoning_effort", "expected one of " + joined(kEfforts) + ", found \"" + effort + "\"");
    c.backend_reasoning_effort = effort;
  }

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
  c.early_audio_limit_ms = static_cast<std::size_t>(node.get_int("early_audio_limit_ms", 5000, 0, 30000));
  c.callee_turn_gap = std::chrono::milliseconds(node.get_int("callee_turn_gap_ms", 700, 100, 5000));
  c.output_gap = std::chrono::milliseconds(node.get_int("output_gap_ms", 250, 50, 5000));
  return c;
}

}  // namespace concierge::openai_live
