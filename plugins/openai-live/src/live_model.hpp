#pragma once
// The openai-live VoiceModel: the parsed config and one TLS context for the daemon, one session per call.
#include <filesystem>
#include <memory>

#include "concierge/plugin.hpp"
#include "live_config.hpp"
#include "live_transport.hpp"

namespace concierge::openai_live {

class LiveModel final : public VoiceModel {
 public:
  // Throws ConfigError when ca_file cannot be loaded.
  LiveModel(HostServices& host, std::shared_ptr<Logger> log, LiveConfig config);
  std::shared_ptr<VoiceSession> open_session(const VoiceSessionConfig& config,
                                             std::shared_ptr<VoiceSessionEvents> events) override;
  const LiveConfig& config() const { return *config_; }

 private:
  HostServices& host_;
  std::shared_ptr<Logger> log_;
  std::shared_ptr<const LiveConfig> config_;
  Endpoint endpoint_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
};

// The plugin's factory: parses the block (concierge::plugin_config()'s, errors under its path) and builds the model.
std::shared_ptr<LiveModel> make_live_model(HostServices& host, std::shared_ptr<Logger> log,
    const ConfigNode& node, const std::filesystem::path& config_dir);

}  // namespace concierge::openai_live
