// The plugin's two exports (CONCIERGE_PLUGIN): the descriptor and the factory the daemon calls with the YAML block.
#include "concierge/plugin.hpp"
#include "reminder_agent.hpp"

namespace {

// Called once, on the daemon's event loop, at start. `config` is the block under plugins.agent.config; a bad one
// throws ConfigError and the daemon refuses to start, naming the file, the key and the line.
concierge::PluginInstance create(const concierge::PluginContext& context, const YAML::Node& config) {
  // plugin_config(): errors name the block's full key path ("plugins.agent.config.clinic") and the line.
  const reminder::ReminderSettings settings = reminder::read_settings(concierge::plugin_config(context, config));
  context.log->info("reminding patients of " + settings.clinic);
  concierge::PluginInstance instance;
  instance.agent = std::make_shared<reminder::ReminderAgent>(settings);
  return instance;
}

}  // namespace

CONCIERGE_PLUGIN(agent, "appointment-reminder", "1.0.0",
                 "Calls patients to remind them of an appointment and records whether they come", create)
