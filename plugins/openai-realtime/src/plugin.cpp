// The openai-realtime plugin's two exports.
#include "concierge/plugin.hpp"
#include "realtime_model.hpp"

namespace {

concierge::PluginInstance create_openai_realtime(const concierge::PluginContext& context, const YAML::Node& config) {
  concierge::PluginInstance instance;
  instance.voice_model = concierge::openai::make_realtime_model(context.host, context.log, concierge::plugin_config(context, config),
                                                     context.config_dir);
  return instance;
}

}  // namespace

CONCIERGE_PLUGIN(voice_model, "openai-realtime", "1.0.0",
                 "OpenAI Realtime API (GA) speech-to-speech over WebSocket, with barge-in truncation",
                 create_openai_realtime)
