// The plugin's two exports. Everything else lives in the static core library so tests link the same code.
#include <memory>

#include "concierge/plugin.hpp"
#include "twilio_config.hpp"
#include "twilio_provider.hpp"

namespace {
concierge::PluginInstance create_twilio(const concierge::PluginContext& context, const YAML::Node& config) {
  using namespace concierge;
  const auto parsed =
      twilio::parse_config(plugin_config(context, config), context.host.public_domain());
  context.log->info("Twilio: calls from " + parsed.from_number + " via " + parsed.api_base_url + ", webhooks at https://" +
                    parsed.public_domain +
                    (parsed.machine_detection.empty()
                         ? std::string()
                         : ", answering-machine detection " + parsed.machine_detection + " (asynchronous)"));
  PluginInstance instance;
  instance.telephony = std::make_shared<twilio::TwilioProvider>(context.host, context.log, parsed);
  return instance;
}
}  // namespace

CONCIERGE_PLUGIN(telephony, "twilio", "1.0.0", "Twilio Programmable Voice: REST calls, webhooks and Media Streams",
                 create_twilio)
