// The openai-realtime plugin's one export, through the C boundary (concierge/abi.h) by way of the SDK's C++ layer:
// nm -D shows concierge_plugin_entry and nothing else of ours. Each call's WebSocket is the host's client
// (concierge/cxx/websocket_client.hpp), so the plugin carries no Asio, Beast or OpenSSL of its own.
#include "concierge/cxx/plugin.hpp"
#include "concierge/cxx/websocket_client.hpp"
#include "realtime_model.hpp"

namespace {

concierge::cxx::Instance create(const concierge::cxx::Context& context, const YAML::Node& config) {
  concierge::cxx::Host& host = context.host;  // lives as long as the instance, so as long as the model
  concierge::cxx::Instance instance;
  instance.voice_model = concierge::openai::make_realtime_model(
      [&host](concierge::net::WebSocketClientOptions options, const std::string& ca_file) {
        return concierge::cxx::WebSocketClientOverC::create(host, std::move(options), ca_file);
      },
      context.log, concierge::cxx::plugin_config(context, config), context.config_dir,
      [&host](const std::string& ca_file) {  // at start-up: a ca_file that does not load is a config error here
        return concierge::cxx::WebSocketClientOverC::prepare_tls(host, ca_file);
      });
  return instance;
}

}  // namespace

CONCIERGE_CXX_PLUGIN(voice_model, "openai-realtime", "1.1.0",
                     "OpenAI Realtime API (GA) speech-to-speech over WebSocket, with barge-in truncation", create)
