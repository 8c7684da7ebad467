// The reservation agent's one export, through the C boundary (concierge/abi.h) by way of the SDK's C++ layer;
// everything else lives in the core library.
#include "concierge/cxx/plugin.hpp"
#include "reservation_agent.hpp"

namespace {

concierge::cxx::Instance create(const concierge::cxx::Context& context, const YAML::Node& config) {
  concierge::cxx::Instance instance;
  instance.agent = concierge::reservation::make_reservation_agent(concierge::cxx::plugin_config(context, config));
  context.log->info("reservation agent ready");
  return instance;
}

}  // namespace

CONCIERGE_CXX_PLUGIN(agent, "reservation-agent", "1.1.0",
                     "Books restaurant tables by phone: reads the request, guides the voice model, judges the outcome",
                     create)
