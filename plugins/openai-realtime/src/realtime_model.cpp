#include "realtime_model.hpp"

#include "realtime_session.hpp"
#include "realtime_transport.hpp"

namespace concierge::openai {

RealtimeModel::RealtimeModel(HostServices& host, std::shared_ptr<Logger> log, RealtimeConfig config)
    : host_(host),
      log_(std::move(log)),
      config_(std::make_shared<const RealtimeConfig>(std::move(config))),
      endpoint_(config_->endpoint()) {
  if (endpoint_.tls) {
    try {
      tls_ = net::make_tls_client_context(config_->ca_file);
    } catch (const std::runtime_error& e) {
      throw ConfigError("ca_file", 0, e.what());
    }
  }
}

std::shared_ptr<VoiceSession> RealtimeModel::open_session(const VoiceSessionConfig& config,
                                                          std::shared_ptr<VoiceSessionEvents> events) {
  auto transport =
      net::WebSocketClient::create(host_.io(), tls_, realtime_transport_options(endpoint_, config_->api_key, config_->connect_timeout));
  auto session = std::make_shared<RealtimeSession>(config_, std::move(transport), log_, config, std::move(events));
  session->start();
  return session;
}

std::shared_ptr<RealtimeModel> make_realtime_model(HostServices& host, std::shared_ptr<Logger> log,
    const ConfigNode& node, const std::filesystem::path& config_dir) {
  RealtimeConfig config = parse_realtime_config(node, config_dir.string());
  try {
    auto model = std::make_shared<RealtimeModel>(host, log, std::move(config));
    log->info("OpenAI Realtime: " + model->config().url + " model " + model->config().model + ", voice " +
              model->config().voice + ", audio " + model->config().audio_format().to_string() + ", " +
              model->config().turn_detection.type);
    return model;
  } catch (const ConfigError& e) {
    throw ConfigError(node.key_path(e.key_path()), node.line(), e.message());
  }
}

}  // namespace concierge::openai
