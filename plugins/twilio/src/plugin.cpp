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

// TwilioHost over the instance's cxx::Host. The Host lives until the instance is destroyed, but a call the provider
// still has running may outlive that moment inside a pending completion the Host itself frees (a create Twilio had
// not answered): close() is called when the host lets the provider go, and from then on nothing of the Host is
// touched (a call's timer that goes with it cancels nothing; no new work is started).
class HostOverC final : public twilio::TwilioHost, public EventLoop, public HttpClient {
 public:
  explicit HostOverC(cxx::Host& host) : host_(&host) {}
  void close() { host_ = nullptr; }

  EventLoop& loop() override { return *this; }
  HttpClient& http() override { return *this; }
  std::shared_ptr<CallEvents> accept_inbound_call(const std::string& from, const std::string& to,
                                                  const std::string& provider_call_id,
                                                  std::shared_ptr<CallLeg> leg) override {
    if (!host_) return nullptr;
    return host_->accept_inbound_call(cxx::InboundCall{from, to, provider_call_id, std::move(leg)});
  }

  // EventLoop
  bool post(std::function<void()> fn) override { return host_ && host_->post(std::move(fn)); }
  TimerId start_timer(std::chrono::microseconds delay, std::function<void()> fn) override {
    return host_ ? host_->start_timer(delay, std::move(fn)) : 0;
  }
  void cancel_timer(TimerId id) override {
    if (host_) host_->cancel_timer(id);
  }

  // HttpClient: the host's (cxx::Host::http(), over concierge_host_api.http_start); after close() a request is not
  // started and its completion is dropped (the instance is going away).
  HttpRequestId start(HttpClientRequest request, Completion done) override {
    return host_ ? host_->http().start(std::move(request), std::move(done)) : 0;
  }
  HttpRequestId start_teardown(HttpClientRequest request, Completion done) override {
    return host_ ? host_->http().start_teardown(std::move(request), std::move(done)) : 0;
  }
  void cancel(HttpRequestId id) override {
    if (host_) host_->http().cancel(id);
  }
  std::size_t in_flight() const override { return host_ ? host_->http().in_flight() : 0; }

 private:
  cxx::Host* host_;
};

cxx::Instance create_twilio(const cxx::Context& context, const YAML::Node& config) {
  const auto parsed = twilio::parse_config(cxx::plugin_config(context, config), context.host.public_domain());
  context.log->info("Twilio: calls from " + parsed.from_number + " via " + parsed.api_base_url + ", webhooks at https://" +
                    parsed.public_domain +
                    (parsed.machine_detection.empty()
                         ? std::string()
                         : ", answering-machine detection " + parsed.machine_detection + " (asynchronous)"));
  auto host = std::make_shared<HostOverC>(context.host);
  auto provider = std::make_shared<twilio::TwilioProvider>(host, context.log, parsed);
  cxx::Instance instance;
  // The layer holds this one reference to the provider for the instance's life and drops it when the host destroys
  // the instance (before the Host goes): that is when the adapter closes. The provider itself may live on a little,
  // held by calls whose last completions the Host is about to drop.
  instance.telephony =
      std::shared_ptr<TelephonyProvider>(provider.get(), [provider, host](TelephonyProvider*) mutable {
        host->close();
        provider.reset();  // now, not whenever the control block goes
      });
  return instance;
}

}  // namespace

CONCIERGE_CXX_PLUGIN(telephony, "twilio", "1.1.0",
                     "Twilio Programmable Voice: REST calls, webhooks and Media Streams", create_twilio)
