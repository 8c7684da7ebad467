// The plugin's one export, through the C boundary (concierge/abi.h) by way of the SDK's C++ layer: REST calls go
// through the host's HTTP client (hang-ups as C ABI 1.2 teardowns), the give-up timer and posts run on the host's
// loop through concierge::cxx::Host (an EventLoop), webhooks and media streams arrive through the host's routes and
// WebSocket peers, and it exports nothing else of ours. Everything else lives in the static core library, so tests
// link the same code.
#include <memory>

#include "concierge/config.hpp"
#include "concierge/cxx/plugin.hpp"
#include "twilio_config.hpp"
#include "twilio_host.hpp"
#include "twilio_provider.hpp"

namespace {

using namespace concierge;

// TwilioHost over the instance's cxx::Host: its loop, its HTTP client and its inbound calls. The Host outlives every
// call of the provider: a call still running when the instance goes (a create Twilio has not answered, its give-up
// timer armed) is held only by work pending in the Host, which the Host destroys unrun in its own destructor, while
// it is whole, after the host closed the instance's context; what that call's destructor asks of the Host then (cancel
// its timer or request, post) is refused cleanly (cxx::Host::~Host, CxxLayerHost.WorkPendingAtExitIsDroppedUnrun...).
class HostOverC final : public twilio::TwilioHost {
 public:
  explicit HostOverC(cxx::Host& host) : host_(host) {}

  EventLoop& loop() override { return host_; }
  HttpClient& http() override { return host_.http(); }
  std::shared_ptr<CallEvents> accept_inbound_call(const std::string& from, const std::string& to,
                                                  const std::string& provider_call_id,
                                                  std::shared_ptr<CallLeg> leg) override {
    return host_.accept_inbound_call(cxx::InboundCall{from, to, provider_call_id, std::move(leg)});
  }

 private:
  cxx::Host& host_;
};

cxx::Instance create_twilio(const cxx::Context& context, const YAML::Node& config) {
  const auto parsed = twilio::parse_config(cxx::plugin_config(context, config), context.host.public_domain());
  context.log->info("Twilio: calls from " + parsed.from_number + " via " + parsed.api_base_url + ", webhooks at https://" +
                    parsed.public_domain +
                    (parsed.machine_detection.empty()
                         ? std::string()
                         : ", answering-machine detection " + parsed.machine_detection + " (asynchronous)"));
  cxx::Instance instance;
  instance.telephony = std::make_shared<twilio::TwilioProvider>(std::make_shared<HostOverC>(context.host), context.log,
                                                                parsed);
  return instance;
}

}  // namespace

CONCIERGE_CXX_PLUGIN(telephony, "twilio", "1.1.0",
                     "Twilio Programmable Voice: REST calls, webhooks and Media Streams", create_twilio)
