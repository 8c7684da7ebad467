// The reservation agent's two exports; everything else lives in the core library.
#include "concierge/plugin.hpp"
#include "reservation_agent.hpp"

namespace {

concierge::PluginInstance create(const concierge::PluginContext& context, const YAML::Node& config) {
  concierge::PluginInstance instance;
  // The host prefixes the file name to ConfigErrors; the path names where the block sits in it.
  instance.agent = concierge::reservation::make_reservation_agent(config, "plugins.agent.config");
  if (context.log) context.log->info("reservation agent ready");
  return instance;
}

}  // namespace

CONCIERGE_PLUGIN(agent, "reservation-agent", "1.0.0",
                 "Books restaurant tables by phone: reads the request, guides the voice model, judges the outcome",
                 create)
