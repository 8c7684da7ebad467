// The reservation agent's two exports; everything else lives in the core library.
#include "concierge/plugin.hpp"
#include "reservation_agent.hpp"

namespace {

concierge::PluginInstance create(const concierge::PluginContext& context, const YAML::Node& config) {
  concierge::PluginInstance instance;
  instance.agent = concierge::reservation::make_reservation_agent(concierge::plugin_config(context, config));
  if (context.log) context.log->info("reservation agent ready");
  return instance;
}

}  // namespace

CONCIERGE_PLUGIN(agent, "reservation-agent", "1.0.0",
                 "Books restaurant tables by phone: reads the request, guides the voice model, judges the outcome",
                 create)
