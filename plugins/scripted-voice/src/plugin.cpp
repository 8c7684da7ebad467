// The plugin's two exports: the descriptor and the factory that reads the YAML block.
#include "concierge/config.hpp"
#include "concierge/plugin.hpp"
#include "scripted_voice.hpp"

namespace {

concierge::PluginInstance create(const concierge::PluginContext& context, const YAML::Node& config) {
  auto settings = concierge::scripted::parse_voice_settings(concierge::plugin_config(context, config));
  if (context.log)
    context.log->info("scripted voice: output " + settings.output_format.to_string() + ", input " +
                      settings.input_format.to_string() + ", speed_up " + std::to_string(settings.speed_up));
  concierge::PluginInstance instance;
  instance.voice_model =
      std::make_shared<concierge::scripted::ScriptedVoiceModel>(context.host.io(), context.log, std::move(settings));
  return instance;
}

}  // namespace

CONCIERGE_PLUGIN(voice_model, "scripted-voice", "1.0.0",
                 "An offline voice model: a deterministic booking dialogue spoken as a synthetic speech-like signal",
                 create)
