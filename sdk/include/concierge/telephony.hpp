#pragma once
// A telephony provider places calls and carries their audio. One provider object per daemon (made from its YAML
// block at startup); one CallLeg per call. Every function here is called on the host's event loop and must return
// quickly: network round trips run asynchronously (HostServices::http() for REST), other blocking work on
// HostServices::run_blocking.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "concierge/audio_frame.hpp"
#include "concierge/call.hpp"
#include "concierge/http.hpp"

namespace concierge {

struct OutboundCall {
  std::string call_id;      // the host's id; providers carry it through their webhooks and media streams
  std::string to;           // E.164 number ("+15551234567")
  std::string callee_name;  // "Demo Restaurant", for logs and simulations
  std::chrono::seconds ring_timeout{30};
};

struct CallStatusUpdate {
  CallStatus status = CallStatus::queued;
  std::string reason;                      // why it failed, in words a user understands ("busy", Twilio's message)
  std::optional<int> duration_seconds;     // for completed calls, when the provider reports it
  std::string answered_by;                 // "human", "machine_start", ... when machine detection ran
};

// The host's side of one call, handed to the provider. The provider reports what happens on the line through it.
class CallEvents {
 public:
  virtual ~CallEvents();
  virtual void on_provider_call_id(std::string_view id) = 0;   // Twilio's Call SID, for logs and the call record
  virtual void on_status(const CallStatusUpdate& update) = 0;
  virtual void on_media_started(AudioFormat line_format) = 0;  // audio can flow both ways from now on
  virtual void on_audio(const AudioFrame& frame) = 0;          // the callee's audio, in the line format
  // Agent audio the callee has actually heard, measured from the start of the media stream (Twilio's marks).
  virtual void on_playback_progress(std::chrono::microseconds played) = 0;
  virtual void on_dtmf(char digit) = 0;
  virtual void on_media_stopped(std::string_view reason) = 0;
  // Simulation side-channel: no speech recogniser runs offline, so a simulated callee passes the text of each
  // utterance with its audio, once the utterance's last frame has been sent. Real providers never call this.
  virtual void on_simulated_callee_text(std::string_view text) = 0;
  // SDK 1.4. What the provider learnt of a call AFTER its final on_status, when that final status was the host's
  // guess rather than the provider's word: typically a create that timed out here but went through, shown by the
  // provider's late status callbacks or its late answer. `update` is the status the call really has at the provider
  // and why, in words for the user ("Twilio placed the call after the create had failed here (...); the call was
  // ended through the REST API"). The host amends the finished call's record: the reason, the status and ended_at
  // when `update` is final, the late status appended to the history; the call never becomes live again. A SID
  // learnt late is given through on_provider_call_id first. Called on the event loop, any number of times; the
  // object stays valid as long as the provider holds it (the host keeps nothing of the call alive through it).
  // Host-implemented and last, so older plugins never call it; the default ignores it.
  virtual void on_late_status(const CallStatusUpdate& update);
};

// The provider's side of one call, driven by the host.
class CallLeg {
 public:
  virtual ~CallLeg();
  // Agent audio to the line, in the line format given to on_media_started. Frames sent before media started or after
  // the call ended are dropped.
  virtual void send_audio(const AudioFrame& frame) = 0;
  // Barge-in: drop agent audio queued on the line that the callee has not heard yet (Twilio's "clear").
  virtual void clear_audio() = 0;
  // Ends the call (idempotent). The provider reports the final status through CallEvents.
  virtual void hang_up() = 0;
  // Simulation side-channel, the other direction: the text of what the agent just said. Real providers ignore it.
  virtual void on_simulated_agent_text(std::string_view text) { (void)text; }
};

class TelephonyProvider {
 public:
  virtual ~TelephonyProvider();

  // Starts an outbound call and returns its leg at once; progress arrives through `events`. Failure to even start
  // (bad number, provider error) is reported through events->on_status(failed) as well, never thrown.
  virtual std::shared_ptr<CallLeg> place_call(const OutboundCall& call, std::shared_ptr<CallEvents> events) = 0;

  // Extra HTTP routes this provider serves (exact paths, any method), e.g. "/twiml", "/twilio/status".
  virtual std::vector<std::string> http_routes() const { return {}; }
  virtual HttpResponse handle_http(const HttpRequest& request) {
    (void)request;
    return HttpResponse::json_error(404, "not found");
  }

  // A WebSocket upgrade on /media-stream. Return nullopt to accept it, or the response that refuses it (403 for a
  // bad signature). A provider without media streams refuses with 404.
  virtual std::optional<HttpResponse> check_media_stream_upgrade(const HttpRequest& upgrade) {
    (void)upgrade;
    return HttpResponse::json_error(404, "this telephony provider has no media streams");
  }
  // An accepted media stream: the provider keeps the peer and returns the handler for its messages.
  virtual std::shared_ptr<WebSocketHandler> open_media_stream(std::shared_ptr<WebSocketPeer> peer) {
    (void)peer;
    return nullptr;
  }
  // SDK 1.1. Asked before a call is placed: "" when `number` (E.164) may be dialled, otherwise why not, in words for
  // the user (a destination policy: premium-rate, satellite, a country not allowed). The host answers POST /calls
  // with 403 and that reason. A provider should apply the same policy in place_call too. Declared last so that
  // plugins built against 1.0 keep their vtable layout; the host calls it only on plugins built with 1.1 or later.
  virtual std::string check_destination(std::string_view number) const {
    (void)number;
    return "";
  }
};

}  // namespace concierge
