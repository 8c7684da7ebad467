#pragma once
// The provider's TwilioHost over a test's HostServices (its io_context, HTTP client and inbound calls), for tests
// that link the plugin's core and drive it on their own loop; the plugin itself runs on the C boundary's
// concierge::cxx::Host (src/plugin.cpp). Header-only; loop thread only, like the provider.
#include <memory>
#include <string>

#include "asio_event_loop.hpp"
#include "concierge/plugin.hpp"
#include "twilio_host.hpp"

namespace concierge::twilio {

class ServicesHost final : public TwilioHost {
 public:
  explicit ServicesHost(HostServices& services) : services_(services), loop_(services.io()) {}
  EventLoop& loop() override { return loop_; }
  HttpClient& http() override { return services_.http(); }
  std::shared_ptr<CallEvents> accept_inbound_call(const std::string& from, const std::string& to,
                                                  const std::string& provider_call_id,
                                                  std::shared_ptr<CallLeg> leg) override {
    return services_.accept_inbound_call(InboundCall{from, to, provider_call_id, std::move(leg)});
  }

 private:
  HostServices& services_;
  concierge::testing::AsioEventLoop loop_;
};

inline std::shared_ptr<TwilioHost> twilio_host_over(HostServices& services) { return std::make_shared<ServicesHost>(services); }

}  // namespace concierge::twilio
