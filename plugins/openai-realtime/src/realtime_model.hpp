#pragma once
// The openai-realtime VoiceModel: the parsed config and how to connect, one session per call.
#include <filesystem>
#include <memory>

#include "concierge/config.hpp"
#include "concierge/log.hpp"
#include "concierge/openai/websocket.hpp"
#include "concierge/voice_model.hpp"
#include "realtime_config.hpp"
#include "realtime_transport.hpp"

namespace concierge::openai {

class RealtimeModel final : public VoiceModel {
 public:
  // `connect` makes each session's WebSocket (the host's client in the plugin, the SDK's in tests).
  RealtimeModel(openai_common::WebSocketConnector connect, std::shared_ptr<Logger> log, RealtimeConfig config);
  std::shared_ptr<VoiceSession> open_session(const VoiceSessionConfig& config,
                                             std::shared_ptr<VoiceSessionEvents> events) override;
  const RealtimeConfig& config() const { return *config_; }

 private:
  openai_common::WebSocketConnector connect_;
  std::shared_ptr<Logger> log_;
  std::shared_ptr<const RealtimeConfig> config_;
  Endpoint endpoint_;
};

// The plugin's factory: parses the block (plugin_config()'s, errors under its path) and builds the model. For a
// wss:// URL, `prepare_tls` (when set) loads the TLS context ahead; a ca_file it cannot load is a ConfigError on
// ca_file.
std::shared_ptr<RealtimeModel> make_realtime_model(openai_common::WebSocketConnector connect,
                                                   std::shared_ptr<Logger> log, const ConfigNode& node,
                                                   const std::filesystem::path& config_dir,
                                                   const openai_common::TlsPreparer& prepare_tls = {});

}  // namespace concierge::openai
