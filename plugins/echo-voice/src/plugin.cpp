// The plugin's one export, through the C boundary (concierge/abi.h) by way of the SDK's C++ layer: nm -D shows
// concierge_plugin_entry and nothing else of ours.
#include "concierge/config.hpp"
#include "concierge/cxx/plugin.hpp"
#include "echo_voice.hpp"

namespace {

concierge::cxx::Instance create(const concierge::cxx::Context& context, const YAML::Node& config) {
  const concierge::AudioFormat format = concierge::echo::parse_format(concierge::cxx::plugin_config(context, config));
  context.log->info("echo voice: hears and speaks " + format.to_string());
  concierge::cxx::Host& host = context.host;  // lives as long as the instance, so as long as the model
  concierge::cxx::Instance instance;
  instance.voice_model = std::make_shared<concierge::echo::EchoVoiceModel>(
      [&host](std::function<void()> fn) { host.post(std::move(fn)); }, format);
  return instance;
}

}  // namespace

CONCIERGE_CXX_PLUGIN(voice_model, "echo-voice", "1.1.0",
                     "A voice model that says back every frame it hears, at once (for benchmarks of the media path)",
                     create)
