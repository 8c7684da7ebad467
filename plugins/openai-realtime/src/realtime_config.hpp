#pragma once
// The openai-realtime plugin's YAML block, parsed and checked once at start-up (fail fast, with the key path).
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "concierge/audio_frame.hpp"
#include "concierge/config.hpp"
#include "concierge/net/websocket_url.hpp"

namespace concierge::openai {

// The built-in voices of the GA Realtime API (openai-python's RealtimeAudioConfigOutput.voice, 2025-08 onwards).
std::span<const std::string_view> realtime_voices();

enum class AudioMode {
  pcmu,    // G.711 mu-law 8 kHz both ways: Twilio's payload passes straight through
  pcm24k,  // 16-bit PCM at 24 kHz (the only PCM rate the API takes); the host resamples from the line
};

struct TurnDetectionConfig {
  std::string type = "server_vad";  // or "semantic_vad"
  // server_vad only; absent = the server's default (0.5, 300 ms, 500 ms).
  std::optional<double> threshold;
  std::optional<int> prefix_padding_ms;
  std::optional<int> silence_duration_ms;
  std::optional<int> idle_timeout_ms;
  std::optional<std::string> eagerness;  // semantic_vad only: low | medium | high | auto
  bool create_response = true;
  bool interrupt_response = true;
};

// Where the plugin connects (concierge/net/websocket_url.hpp); its target is the path and query, model included:
// "/v1/realtime?model=gpt-realtime".
using Endpoint = net::WebSocketUrl;

struct RealtimeConfig {
  std::string api_key;
  std::string url = "wss://api.openai.com/v1/realtime";
  std::string model = "gpt-realtime";
  std::string voice = "alloy";
  AudioMode audio_mode = AudioMode::pcmu;
  TurnDetectionConfig turn_detection;
  std::string transcription_model = "gpt-4o-transcribe";  // "" turns transcription of the callee off
  std::string transcription_language;                     // ISO-639-1, optional ("en")
  std::optional<double> speed;                            // 0.25 .. 1.5
  std::string ca_file;                                    // PEM bundle; "" = the system store
  std::chrono::seconds connect_timeout{10};
  bool speak_first = false;  // false: wait for the callee's greeting (an outbound call is answered with a hello)
  std::size_t early_audio_limit_ms = 5000;  // callee audio kept while the session is being configured

  Endpoint endpoint() const;
  AudioFormat audio_format() const {
    return audio_mode == AudioMode::pcmu ? AudioFormat::mulaw_8k() : AudioFormat::pcm16_at(24000);
  }
};

// Throws ConfigError naming the key path. `config_dir` resolves a relative ca_file.
RealtimeConfig parse_realtime_config(const ConfigNode& node, const std::string& config_dir);

// Splits ws:// / wss:// URLs (net::parse_websocket_url) and adds model=<model> to the query unless it names one;
// nullopt (with a reason) when the URL is not one.
std::optional<Endpoint> parse_ws_url(std::string_view url, std::string_view model, std::string* why);

}  // namespace concierge::openai
