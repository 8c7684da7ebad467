#pragma once
// The openai-realtime VoiceModel: the parsed config and one TLS context for the daemon, one session per call.
#include <filesystem>
#include <memory>

#include "concierge/plugin.hpp"
#include "realtime_config.hpp"
#include "realtime_transport.hpp"

namespace concierge::openai {

class RealtimeModel final : public VoiceModel {
 public:
  // Throws ConfigError when ca_file cannot be loaded.
  RealtimeModel(HostServices& host, std::shared_ptr<Logger> log, RealtimeConfig config);
  std::shared_ptr<VoiceSession> open_session(const VoiceSessionConfig& config,
                                             std::shared_ptr<VoiceSessionEvents> events) override;
  const RealtimeConfig& config() const { return *config_; }

 private:
  HostServices& host_;
  std::shared_ptr<Logger> log_;
  std::shared_ptr<const RealtimeConfig> config_;
  Endpoint endpoint_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
};

// The plugin's factory: parses the block (concierge::plugin_config()'s, errors under its path) and builds the model.
std::shared_ptr<RealtimeModel> make_realtime_model(HostServices& host, std::shared_ptr<Logger> log,
    const ConfigNode& node, const std::filesystem::path& config_dir);

}  // namespace concierge::openai
