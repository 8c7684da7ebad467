#include "realtime_model.hpp"

#include "realtime_session.hpp"
#include "realtime_transport.hpp"

namespace concierge::openai {

RealtimeModel::RealtimeModel(openai_common::WebSocketConnector connect, std::shared_ptr<Logger> log,
                             RealtimeConfig config)
    : connect_(std::move(connect)),
      log_(std::move(log)),
      config_(std::make_shared<const RealtimeConfig>(std::move(config))),
      endpoint_(config_->endpoint()) {}

std::shared_ptr<VoiceSession> RealtimeModel::open_session(const VoiceSessionConfig& config,
                                                          std::shared_ptr<VoiceSessionEvents> events) {
  auto transport =
      connect_(realtime_transport_options(endpoint_, config_->api_key, config_->connect_timeout), config_->ca_file);
  auto session = std::make_shared<RealtimeSession>(config_, std::move(transport), log_, config, std::move(events));
  session->start();
  return session;
}

std::shared_ptr<RealtimeModel> make_realtime_model(openai_common::WebSocketConnector connect,
                                                   std::shared_ptr<Logger> log, const ConfigNode& node,
                                                   const std::filesystem::path& config_dir,
                                                   const openai_common::TlsPreparer& prepare_tls) {
  RealtimeConfig config = parse_realtime_config(node, config_dir.string());
  if (prepare_tls && config.endpoint().tls) {
    const std::string problem = prepare_tls(config.ca_file);
    if (!problem.empty() && !config.ca_file.empty()) node.fail("ca_file", problem);
  }
  auto model = std::make_shared<RealtimeModel>(std::move(connect), log, std::move(config));
  log->info("OpenAI Realtime: " + model->config().url + " model " + model->config().model + ", voice " +
            model->config().voice + ", audio " + model->config().audio_format().to_string() + ", " +
            model->config().turn_detection.type);
  return model;
}

}  // namespace concierge::openai
