// The plugin's one export, concierge_plugin_entry, through the C boundary (concierge/abi.h) by way of the SDK's
// header-only C++ layer (concierge/cxx/plugin.hpp): the agent below is written with the SDK's C++ classes, and only
// abi.h's C crosses into the daemon, so this plugin does not have to match the daemon's compiler or libraries.
#include "concierge/cxx/plugin.hpp"
#include "reminder_agent.hpp"

namespace {

// Called once, on the daemon's event loop, at start. `config` is the block under plugins.agent.config (it crossed
// the boundary as JSON text with its source positions); a bad one throws ConfigError and the daemon refuses to
// start, naming the file, the key and the line.
concierge::cxx::Instance create(const concierge::cxx::Context& context, const YAML::Node& config) {
  // plugin_config(): errors name the block's full key path ("plugins.agent.config.clinic") and the line.
  const reminder::ReminderSettings settings = reminder::read_settings(concierge::cxx::plugin_config(context, config));
  context.log->info("reminding patients of " + settings.clinic);
  concierge::cxx::Instance instance;
  instance.agent = std::make_shared<reminder::ReminderAgent>(settings);
  return instance;
}

}  // namespace

CONCIERGE_CXX_PLUGIN(agent, "appointment-reminder", "1.0.0",
                     "Calls patients to remind them of an appointment and records whether they come", create)
