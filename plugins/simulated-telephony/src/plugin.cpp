// The plugin's one export, through the C boundary (concierge/abi.h) by way of the SDK's C++ layer: the line runs its
// timers on the host's loop through concierge::cxx::Host (an EventLoop), its calls' events cross as abi.h's
// concierge_call_events, and it exports nothing else of ours.
#include "concierge/config.hpp"
#include "concierge/cxx/plugin.hpp"
#include "simulated_line.hpp"

namespace {

concierge::cxx::Instance create(const concierge::cxx::Context& context, const YAML::Node& config) {
  auto settings = concierge::sim::parse_line_settings(concierge::cxx::plugin_config(context, config));
  context.log->info("simulated restaurant \"" + settings.restaurant_name + "\", speed_up " +
                    std::to_string(settings.speed_up) + ", " + std::to_string(settings.scenarios.size()) +
                    " scenario number(s)");
  concierge::cxx::Instance instance;
  // context.host lives as long as the instance, so as long as the provider and every call it places.
  instance.telephony =
      std::make_shared<concierge::sim::SimulatedTelephony>(context.host, context.log, std::move(settings));
  return instance;
}

}  // namespace

CONCIERGE_CXX_PLUGIN(telephony, "simulated-telephony", "1.1.0",
                     "An offline restaurant line: rings, answers and holds a booking conversation in real mu-law audio",
                     create)
