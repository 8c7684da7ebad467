#pragma once
// The openai-live plugin's YAML block, parsed and checked once at start-up (fail fast, with the key path).
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "concierge/audio_frame.hpp"
#include "concierge/config.hpp"
#include "concierge/net/websocket_url.hpp"

namespace concierge::openai_live {

// GPT-Live's built-in voices (openai 7.x, resources/live/live.d.ts: BuiltInVoice).
std::span<const std::string_view> live_voices();

enum class AudioMode {
  automatic,  // audio/pcmu on a mu-law line (Twilio's payload passes straight through), audio/pcm 24 kHz otherwise
  pcmu,       // G.711 mu-law 8 kHz both ways
  pcm16k,     // 16-bit PCM at 16 kHz; the host resamples from the line
  pcm24k,     // 16-bit PCM at 24 kHz; the host resamples from the line
};

// Where the plugin connects (concierge/net/websocket_url.hpp); its target is the path as configured: GPT-Live takes
// no query parameters (the model goes in session.start).
using Endpoint = net::WebSocketUrl;

struct LiveConfig {
  std::string api_key;
  std::string url = "wss://api.openai.com/v1/live/sessions";
  std::string model = "gpt-live-1";
  std::string voice = "marin";  // GPT-Live's default
  AudioMode audio_mode = AudioMode::automatic;
  // The Responses model the agent's tools are delegated to (session.delegation.responses.model).
  std::string backend_model = "gpt-5.5";
  std::optional<std::string> backend_reasoning_effort;  // none | minimal | low | medium | high | xhigh
  std::string ca_file;                                  // PEM bundle; "" = the system store
  std::chrono::seconds connect_timeout{10};
  std::size_t early_audio_limit_ms = 5000;   // callee audio kept until session.started
  // Turn derivation (README "Turns and interruptions"): a callee utterance ends after this long without an input
  // transcript delta, or when agent audio starts.
  std::chrono::milliseconds callee_turn_gap{700};
  // After a barge-in, agent audio is dropped until the output has been silent this long (the old reply's tail).
  std::chrono::milliseconds output_gap{250};

  Endpoint endpoint() const;
  // The connection's one audio format for a call whose line carries `line`.
  AudioFormat audio_format(AudioFormat line) const;
};

// Throws ConfigError naming the key path. `config_dir` resolves a relative ca_file.
LiveConfig parse_live_config(const ConfigNode& node, const std::string& config_dir);

// Splits ws:// / wss:// URLs (net::parse_websocket_url) and refuses a query; nullopt (with a reason) when the URL
// is not one.
std::optional<Endpoint> parse_ws_url(std::string_view url, std::string* why);

}  // namespace concierge::openai_live
