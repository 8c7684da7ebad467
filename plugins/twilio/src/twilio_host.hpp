#pragma once
// What the Twilio provider needs of its host, and nothing of Asio: the event loop (posts and the give-up timer),
// the host's HTTP client (REST calls, hang-ups as teardowns) and inbound calls. The plugin (plugin.cpp) offers it
// over the C boundary's concierge::cxx::Host; tests offer it over their own loop and client.
//
// THREADS: every function is called on the host's event loop, and every callback runs on it.
// OWNERSHIP: the provider and each call it has running share it (std::shared_ptr); it outlives them all.
#include <memory>
#include <string>

#include "concierge/event_loop.hpp"
#include "concierge/http_client.hpp"
#include "concierge/telephony.hpp"

namespace concierge::twilio {

class TwilioHost {
 public:
  virtual ~TwilioHost() = default;
  virtual EventLoop& loop() = 0;
  virtual HttpClient& http() = 0;
  // An inbound call (a stream the host did not place): on acceptance the host takes `leg` and returns the events
  // the call reports through; nullptr when the host refuses inbound calls.
  virtual std::shared_ptr<CallEvents> accept_inbound_call(const std::string& from, const std::string& to,
                                                          const std::string& provider_call_id,
                                                          std::shared_ptr<CallLeg> leg) = 0;
};

}  // namespace concierge::twilio
