// The plugin's two exports: the descriptor and the factory that reads the YAML block.
#include "concierge/config.hpp"
#include "concierge/plugin.hpp"
#include "echo_voice.hpp"

namespace {

concierge::PluginInstance create(const concierge::PluginContext& context, const YAML::Node& config) {
  const concierge::AudioFormat format = concierge::echo::parse_format(concierge::plugin_config(context, config));
  if (context.log) context.log->info("echo voice: hears and speaks " + format.to_string());
  concierge::PluginInstance instance;
  instance.voice_model = std::make_shared<concierge::echo::EchoVoiceModel>(context.host.io(), format);
  return instance;
}

}  // namespace

CONCIERGE_PLUGIN(voice_model, "echo-voice", "1.0.0",
                 "A voice model that says back every frame it hears, at once (for benchmarks of the media path)",
                 create)
