#include "live_model.hpp"

#include "live_session.hpp"
#include "live_transport.hpp"

namespace concierge::openai_live {

LiveModel::LiveModel(HostServices& host, std::shared_ptr<Logger> log, LiveConfig config)
    : host_(host),
      log_(std::move(log)),
      config_(std::make_shared<const LiveConfig>(std::move(config))),
      endpoint_(config_->endpoint()) {
  if (endpoint_.tls) {
    try {
      tls_ = net::make_tls_client_context(config_->ca_file);
    } catch (const std::runtime_error& e) {
      throw ConfigError("ca_file", 0, e.what());
    }
  }
}

std::shared_ptr<VoiceSession> LiveModel::open_session(const VoiceSessionConfig& config,
                                                          std::shared_ptr<VoiceSessionEvents> events) {
  auto transport =
      net::WebSocketClient::create(host_.io(), tls_, live_transport_options(endpoint_, config_->api_key, config_->connect_timeout));
  auto session = std::make_shared<LiveSession>(host_.io(), config_, std::move(transport), log_, config, std::move(events));
  session->start();
  return session;
}

std::shared_ptr<LiveModel> make_live_model(HostServices& host, std::shared_ptr<Logger> log,
    const ConfigNode& node, const std::filesystem::path& config_dir) {
  LiveConfig config = parse_live_config(node, config_dir.string());
  try {
    auto model = std::make_shared<LiveModel>(host, log, std::move(config));
    const auto& c = model->config();
    const std::string audio = c.audio_mode == AudioMode::automatic ? "auto (pcmu on a mu-law line)"
                                                                   : c.audio_format(AudioFormat::mulaw_8k()).to_string();
    log->info("GPT-Live: " + c.url + " model " + c.model + ", voice " + c.voice + ", audio " + audio +
              ", tools delegated to " + c.backend_model);
    return model;
  } catch (const ConfigError& e) {
    throw ConfigError(node.key_path(e.key_path()), node.line(), e.message());
  }
}

}  // namespace concierge::openai_live
