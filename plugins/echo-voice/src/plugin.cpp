// The plugin's two exports: the descriptor and the factory that reads the YAML block.
#include "concierge/config.hpp"
#include "concierge/plugin.hpp"
#include "echo_voice.hpp"

namespace {

concierge::PluginInstance create(const concierge::PluginContext& context, const YAML::Node& config) {
  // The path is "": the host prefixes where the block sits ("plugins.voice_model.config") to every ConfigError.
  const concierge::AudioFormat format =
      concierge::echo::parse_format(concierge::ConfigNode(config.IsNull() ? YAML::Node(YAML::NodeType::Map) : config, ""));
  if (context.log) context.log->info("echo voice: hears and speaks " + format.to_string());
  concierge::PluginInstance instance;
  instance.voice_model = std::make_shared<concierge::echo::EchoVoiceModel>(context.host.io(), format);
  return instance;
}

}  // namespace

CONCIERGE_PLUGIN(voice_model, "echo-voice", "1.0.0",
                 "A voice model that says back every frame it hears, at once (for benchmarks of the media path)",
                 create)
