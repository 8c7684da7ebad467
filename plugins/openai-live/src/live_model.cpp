#include "live_model.hpp"

#include "live_session.hpp"
#include "live_transport.hpp"

namespace concierge::openai_live {

LiveModel::LiveModel(EventLoop& loop, openai_common::WebSocketConnector connect, std::shared_ptr<Logger> log,
                     LiveConfig config)
    : loop_(loop),
      connect_(std::move(connect)),
      log_(std::move(log)),
      config_(std::make_shared<const LiveConfig>(std::move(config))),
      endpoint_(config_->endpoint()) {}

std::shared_ptr<VoiceSession> LiveModel::open_session(const VoiceSessionConfig& config,
                                                      std::shared_ptr<VoiceSessionEvents> events) {
  auto transport =
      connect_(live_transport_options(endpoint_, config_->api_key, config_->connect_timeout), config_->ca_file);
  auto session = std::make_shared<LiveSession>(loop_, config_, std::move(transport), log_, config, std::move(events));
  session->start();
  return session;
}

std::shared_ptr<LiveModel> make_live_model(EventLoop& loop, openai_common::WebSocketConnector connect,
                                           std::shared_ptr<Logger> log, const ConfigNode& node,
                                           const std::filesystem::path& config_dir,
                                           const openai_common::TlsPreparer& prepare_tls) {
  LiveConfig config = parse_live_config(node, config_dir.string());
  if (prepare_tls && config.endpoint().tls) {
    const std::string problem = prepare_tls(config.ca_file);
    if (!problem.empty() && !config.ca_file.empty()) node.fail("ca_file", problem);
  }
  auto model = std::make_shared<LiveModel>(loop, std::move(connect), log, std::move(config));
  const auto& c = model->config();
  const std::string audio = c.audio_mode == AudioMode::automatic ? "auto (pcmu on a mu-law line)"
                                                                 : c.audio_format(AudioFormat::mulaw_8k()).to_string();
  log->info("GPT-Live: " + c.url + " model " + c.model + ", voice " + c.voice + ", audio " + audio +
            ", tools delegated to " + c.backend_model);
  return model;
}

}  // namespace concierge::openai_live
