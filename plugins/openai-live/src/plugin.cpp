// The openai-live plugin's two exports.
#include "concierge/plugin.hpp"
#include "live_model.hpp"

namespace {

concierge::PluginInstance create_openai_live(const concierge::PluginContext& context, const YAML::Node& config) {
  concierge::PluginInstance instance;
  instance.voice_model = concierge::openai_live::make_live_model(context.host, context.log, concierge::plugin_config(context, config),
                                                     context.config_dir);
  return instance;
}

}  // namespace

CONCIERGE_PLUGIN(voice_model, "openai-live", "1.0.0",
                 "OpenAI GPT-Live speech-to-speech over its primary WebSocket, tools through a Responses delegation",
                 create_openai_live)
