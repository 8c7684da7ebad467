// The plugin's two exports: the descriptor and the factory that reads the YAML block.
#include "concierge/config.hpp"
#include "concierge/plugin.hpp"
#include "simulated_line.hpp"

namespace {

concierge::PluginInstance create(const concierge::PluginContext& context, const YAML::Node& config) {
  auto settings = concierge::sim::parse_line_settings(concierge::plugin_config(context, config));
  if (context.log)
    context.log->info("simulated restaurant \"" + settings.restaurant_name + "\", speed_up " +
                      std::to_string(settings.speed_up) + ", " + std::to_string(settings.scenarios.size()) +
                      " scenario number(s)");
  concierge::PluginInstance instance;
  instance.telephony =
      std::make_shared<concierge::sim::SimulatedTelephony>(context.host.io(), context.log, std::move(settings));
  return instance;
}

}  // namespace

CONCIERGE_PLUGIN(telephony, "simulated-telephony", "1.0.0",
                 "An offline restaurant line: rings, answers and holds a booking conversation in real mu-law audio",
                 create)
