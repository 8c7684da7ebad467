// The plugin's one export, through the C boundary (concierge/abi.h) by way of the SDK's C++ layer: the model runs
// its timers on the host's loop through concierge::cxx::Host (an EventLoop), and exports nothing else of ours.
#include "concierge/config.hpp"
#include "concierge/cxx/plugin.hpp"
#include "scripted_voice.hpp"

namespace {

concierge::cxx::Instance create(const concierge::cxx::Context& context, const YAML::Node& config) {
  auto settings = concierge::scripted::parse_voice_settings(concierge::cxx::plugin_config(context, config));
  context.log->info("scripted voice: output " + settings.output_format.to_string() + ", input " +
                    settings.input_format.to_string() + ", speed_up " + std::to_string(settings.speed_up));
  concierge::cxx::Instance instance;
  // context.host lives as long as the instance, so as long as the model and every session it opens.
  instance.voice_model =
      std::make_shared<concierge::scripted::ScriptedVoiceModel>(context.host, context.log, std::move(settings));
  return instance;
}

}  // namespace

CONCIERGE_CXX_PLUGIN(voice_model, "scripted-voice", "1.1.0",
                     "An offline voice model: a deterministic booking dialogue spoken as a synthetic speech-like signal",
                     create)
