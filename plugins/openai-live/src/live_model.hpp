#pragma once
// The openai-live VoiceModel: the parsed config, the host's event loop and how to connect, one session per call.
#include <filesystem>
#include <memory>

#include "concierge/config.hpp"
#include "concierge/event_loop.hpp"
#include "concierge/log.hpp"
#include "concierge/openai/websocket.hpp"
#include "concierge/voice_model.hpp"
#include "live_config.hpp"
#include "live_transport.hpp"

namespace concierge::openai_live {

class LiveModel final : public VoiceModel {
 public:
  // `loop` runs the sessions' turn timers (it outlives the model); `connect` makes each session's WebSocket (the
  // host's client in the plugin, the SDK's in tests).
  LiveModel(EventLoop& loop, openai_common::WebSocketConnector connect, std::shared_ptr<Logger> log, LiveConfig config);
  std::shared_ptr<VoiceSession> open_session(const VoiceSessionConfig& config,
                                             std::shared_ptr<VoiceSessionEvents> events) override;
  const LiveConfig& config() const { return *config_; }

 private:
  EventLoop& loop_;
  openai_common::WebSocketConnector connect_;
  std::shared_ptr<Logger> log_;
  std::shared_ptr<const LiveConfig> config_;
  Endpoint endpoint_;
};

// The plugin's factory: parses the block (plugin_config()'s, errors under its path) and builds the model.
std::shared_ptr<LiveModel> make_live_model(EventLoop& loop, openai_common::WebSocketConnector connect,
                                           std::shared_ptr<Logger> log, const ConfigNode& node,
                                           const std::filesystem::path& config_dir,
                                           const openai_common::TlsPreparer& prepare_tls = {});

}  // namespace concierge::openai_live
