#pragma once
// The Twilio telephony provider: places calls through the REST API, answers Twilio's webhooks (/twiml,
// /twilio/status) and carries each call's audio over a bidirectional Media Stream. Everything runs on the host's
// event loop, REST requests included (TwilioHost::http(): the host's libcurl multi interface on the loop, no thread;
// over the C boundary, concierge_host_api.http_start), and it needs no Asio of its own (TwilioHost::loop()).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <deque>
#include <unordered_map>
#include <unordered_set>

#include "concierge/http.hpp"
#include "concierge/log.hpp"
#include "concierge/telephony.hpp"
#include "rest_client.hpp"
#include "stream_token.hpp"
#include "twilio_config.hpp"
#include "twilio_host.hpp"

namespace concierge::twilio {

class TwilioCall;

// Limits of the media path. Twilio sends 160-byte (20 ms) frames; anything far larger is not Twilio.
inline constexpr std::size_t kMaxInboundPayloadBytes = 1600;  // 200 ms of mu-law
// Bad messages in a row that end a stream: one second of garbage at Twilio's rate is not a glitch.
inline constexpr int kMaxConsecutiveBadMessages = 50;

class TwilioProvider : public TelephonyProvider, public std::enable_shared_from_this<TwilioProvider> {
 public:
  TwilioProvider(std::shared_ptr<TwilioHost> host, std::shared_ptr<Logger> log, TwilioConfig config);

  std::shared_ptr<CallLeg> place_call(const OutboundCall& call, std::shared_ptr<CallEvents> events) override;
  std::string check_destination(std::string_view number) const override;
  std::vector<std::string> http_routes() const override;
  HttpResponse handle_http(const HttpRequest& request) override;
  std::optional<HttpResponse> check_media_stream_upgrade(const HttpRequest& upgrade) override;
  std::shared_ptr<WebSocketHandler> open_media_stream(std::shared_ptr<WebSocketPeer> peer) override;

  // For TwilioCall and the media stream handler.
  const TwilioConfig& config() const { return config_; }
  TwilioHost& host() { return *host_; }
  Logger& log() { return *log_; }
  // Where a stream's outgoing message is built: one buffer for every call of this provider (the loop thread's), so
  // a frame's message is written into memory that stays in cache rather than into each call's own. A message is
  // built and handed to its peer, which copies it, before anything else can use the buffer.
  std::string& message_buffer() { return message_buffer_; }
  std::shared_ptr<TwilioCall> find_call(const std::string& call_id);
  void register_call(const std::string& call_id, const std::shared_ptr<TwilioCall>& call);
  // A call whose create was sent ended here before Twilio named it: keep `events` for what Twilio reports later.
  void ended_without_sid(const std::string& call_id, std::shared_ptr<CallEvents> events, std::string failure);
  // An inbound call's TwiML request (signed by Twilio, no call_id): a one-time token for the stream Twilio opens
  // next, bound to the request's CallSid, valid for stream_token_ttl; returns it. Any earlier one of that CallSid is
  // void.
  std::string issue_inbound_stream_token(const std::string& call_sid, std::string from, std::string to);
  // The numbers of an inbound call, as its signed TwiML request named them (not as the stream claims).
  struct InboundGrant {
    std::string from, to;
  };
  // "" with `grant` filled when `token` is the one issued for `call_sid`, unexpired and unused (it is then spent);
  // otherwise why not.
  std::string redeem_inbound_stream_token(const std::string& call_sid, std::string_view token, InboundGrant& grant);

  // POSTs a form to {api_base_url}/2010-04-01/Accounts/{sid}/{path} through the host's HttpClient; `done` runs on
  // the loop, once.
  void post_to_twilio(std::string path, std::string form_body,
                      std::function<void(const HttpClientResponse&)> done,
                      std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  // The same for a request that ends a call at Twilio (a hang-up, ending a call given up on here): started as a
  // teardown (HttpClient::start_teardown), so it goes out even while creates Twilio is slow to answer fill the
  // host's ordinary share of HTTP requests.
  void post_teardown_to_twilio(std::string path, std::string form_body,
                               std::function<void(const HttpClientResponse&)> done);
  // The answer to a create the call had given up on came after all, with the call's SID: end the call at Twilio
  // and correct its record (as for a late status callback).
  void on_late_create_answer(const std::string& call_id, const std::string& sid, std::string_view twilio_status);

 private:
  // Checks X-Twilio-Signature over https://{public_domain}{target} (or `scheme` for the WebSocket) and the POST
  // parameters. Returns the refusal when the request is not Twilio's.
  std::optional<HttpResponse> refuse_unsigned(const HttpRequest& request, std::string_view scheme,
                                              const std::vector<std::pair<std::string, std::string>>& params);
  HttpResponse handle_twiml(const HttpRequest& request);
  HttpResponse handle_status(const HttpRequest& request);
  HttpResponse handle_amd(const HttpRequest& request);  // AsyncAmdStatusCallback

  std::shared_ptr<TwilioHost> host_;
  std::shared_ptr<Logger> log_;
  TwilioConfig config_;
  std::string message_buffer_;
  // Calls by the host's call id. The host owns each leg; an entry whose leg is gone is dropped on the next sweep.
  std::unordered_map<std::string, std::weak_ptr<TwilioCall>> calls_;
  std::size_t registrations_since_sweep_ = 0;
  // Calls this provider placed that have ended here: Twilio's last status callback may come after the host let
  // the call go, and must get a 2xx (a 404 is logged as error 11200 in the account's debugger). Bounded FIFO.
  // A call that ended before Twilio had named it (its create failed here, e.g. timed out, but went through) keeps
  // its events: what Twilio reports of it later corrects its record (CallEvents::on_late_status).
  struct EndedCall {
    std::shared_ptr<CallEvents> events;  // only for a call that ended here without a SID
    std::string failure;                 // why it ended here ("could not reach Twilio at ...: timed out ...")
    std::string sid;                     // learnt after the end
    bool ending_at_twilio = false;       // end_at_twilio's request is on its way
    std::string ended_how;               // how it ended at Twilio, once known ("the call was ended through ...")
    bool final_reported = false;
    std::optional<CallStatus> reported;  // the last late status reported, and its reason
    std::string reported_reason;
  };
  std::unordered_map<std::string, EndedCall> ended_;
  std::deque<std::string> ended_order_;
  EndedCall& remember_ended(const std::string& call_id);
  bool ended_here(const std::string& call_id) const { return ended_.count(call_id) != 0; }
  // A call that ended here while Twilio still has it (a create that timed out but went through, a late callback):
  // ends it through the REST API, once per SID.
  void end_at_twilio(const std::string& call_id, const std::string& sid, std::string_view twilio_status);
  void on_ended_at_twilio(const std::string& call_id, const std::string& sid, const HttpClientResponse& response,
                          CallStatus asked);
  std::unordered_set<std::string> reconciled_sids_;
  // Twilio reported (a status callback, a TwiML fetch) a call that has ended here. `callback` is the callback's
  // update (nullopt for a TwiML fetch).
  void on_late_report(const std::string& call_id, std::string_view sid, std::string_view twilio_status,
                      const std::optional<CallStatusUpdate>& callback,
                      std::string_view what_now = "ending it through the REST API");
  void report_late(EndedCall& ended, CallStatusUpdate update);
  // Inbound calls whose TwiML was fetched and whose stream has not started yet, by CallSid; expired ones are
  // dropped whenever another is issued.
  struct PendingInbound {
    StreamToken token;
    InboundGrant grant;
    StreamToken::Clock::time_point expires{};
  };
  std::unordered_map<std::string, PendingInbound> pending_inbound_;
};

}  // namespace concierge::twilio
