#include "twilio_provider.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <vector>

#include <nlohmann/json.hpp>

#include "concierge/base64.hpp"
#include "concierge/text.hpp"
#include "media_message.hpp"
#include "signature.hpp"
#include "status_callback.hpp"
#include "stream_token.hpp"
#include "twiml.hpp"

namespace concierge::twilio {
namespace {

using Clock = std::chrono::steady_clock;

// Order of the non-terminal states, so that a late "ringing" callback never moves an answered call backwards
// (Twilio's callbacks can arrive out of order).
int progress_rank(CallStatus status) {
  switch (status) {
    case CallStatus::queued: return 0;
    case CallStatus::dialing: return 1;
    case CallStatus::ringing: return 2;
    case CallStatus::in_progress: return 3;
    default: return 4;
  }
}

// Log lines about bad input from the network are rate-limited: a broken peer must not flood the log.
class RateLimitedLog {
 public:
  bool should_log() {
    ++count_;
    return count_ <= 5 || count_ % 100 == 0;
  }
  std::uint64_t count() const { return count_; }

 private:
  std::uint64_t count_ = 0;
};

// Marks sent and not yet echoed, oldest first. A ring over a vector: steady state allocates nothing.
class PendingMarks {
 public:
  struct Mark {
    std::uint64_t id;
    std::uint64_t played_us_at_end;  // agent audio heard once this mark comes back
  };
  PendingMarks() { ring_.resize(256); }
  void push(Mark mark) {
    if (size_ == ring_.size()) grow();
    ring_[(head_ + size_) % ring_.size()] = mark;
    ++size_;
  }
  // Drops marks up to and including `id`; returns it, or nullopt when it is not pending (cleared, or not ours).
  // Ids are pushed consecutively and popped from the front, so the pending ones are always a run of consecutive
  // numbers: the position of `id` is its distance from the oldest.
  std::optional<Mark> pop_through(std::uint64_t id) {
    if (size_ == 0) return std::nullopt;
    const std::uint64_t oldest = ring_[head_].id;
    if (id < oldest || id - oldest >= size_) return std::nullopt;
    const std::size_t i = static_cast<std::size_t>(id - oldest);
    const Mark mark = ring_[(head_ + i) % ring_.size()];
    head_ = (head_ + i + 1) % ring_.size();
    size_ -= i + 1;
    return mark;
  }
  void clear() { head_ = size_ = 0; }
  std::size_t size() const { return size_; }

 private:
  void grow() {
    std::vector<Mark> bigger(ring_.size() * 2);
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = ring_[(head_ + i) % ring_.size()];
    ring_ = std::move(bigger);
    head_ = 0;
  }
  std::vector<Mark> ring_;
  std::size_t head_ = 0, size_ = 0;
};

std::string json_string_or(const nlohmann::json& object, const char* key, std::string fallback = {}) {
  if (object.is_object()) {
    auto it = object.find(key);
    if (it != object.end() && it->is_string()) return it->get<std::string>();
  }
  return fallback;
}

}  // namespace

// The start of every media or mark message of a stream, kept inside the call beside the fields a frame touches:
// copied for every message, it was the largest copy of a frame when it lived on the heap (perf at 700 calls: 2% of
// the loop, nearly all of it the cold heap line). A stream SID of Twilio's (34 characters) always fits; a longer
// one, from some other peer, goes to the heap.
class MessagePrefix {
 public:
  void set(std::string_view head, std::string_view sid, std::string_view tail) {
    size_ = head.size() + sid.size() + tail.size();
    if (size_ <= kInline) {
      char* out = std::copy(head.begin(), head.end(), inline_.data());
      out = std::copy(sid.begin(), sid.end(), out);
      std::copy(tail.begin(), tail.end(), out);
      heap_.clear();
    } else {
      heap_.assign(head).append(sid).append(tail);
    }
  }
  std::string_view view() const { return size_ <= kInline ? std::string_view(inline_.data(), size_) : heap_; }

 private:
  static constexpr std::size_t kInline = 100;
  std::array<char, kInline> inline_{};
  std::size_t size_ = 0;
  std::string heap_;
};

// ---------------------------------------------------------------------------------------------------------------
// One call: its REST life (create, hang up), its status, and its media stream once Twilio connects it.
class TwilioCall : public CallLeg, public std::enable_shared_from_this<TwilioCall> {
 public:
  TwilioCall(std::shared_ptr<TwilioProvider> provider, std::string call_id, std::shared_ptr<CallEvents> events)
      : events_(std::move(events)),
        provider_(std::move(provider)),
        call_id_(std::move(call_id)),
        give_up_timer_(provider_->host().loop()) {}

  const std::string& call_id() const { return call_id_; }
  const std::string& provider_sid() const { return provider_sid_; }
  bool has_media() const { return peer_ != nullptr; }
  bool finished() const { return terminal_; }
  void set_events(std::shared_ptr<CallEvents> events) { events_ = std::move(events); }

  // ---- REST ----------------------------------------------------------------------------------------------------
  void create(const OutboundCall& call) {
    const TwilioConfig& config = provider_->config();
    const std::string base = "https://" + config.public_domain;
    const std::string encoded_id = url_encode(call_id_);
    FormFields form{{"To", call.to},
                    {"From", config.from_number},
                    {"Url", base + "/twiml?call_id=" + encoded_id},
                    {"Method", "POST"},
                    {"StatusCallback", base + "/twilio/status?call_id=" + encoded_id},
                    {"StatusCallbackMethod", "POST"}};
    for (const auto& event : config.status_callback_events) form.emplace_back("StatusCallbackEvent", event);
    const auto timeout = std::clamp<long long>(std::min(config.ring_timeout, call.ring_timeout).count(), 5, 600);
    form.emplace_back("Timeout", std::to_string(timeout));
    if (!config.machine_detection.empty()) {
      // Asynchronous answering-machine detection: the call connects at once (a person hears no silence while Twilio
      // listens) and the verdict comes later to /twilio/amd. With DetectMessageEnd a machine's verdict
      // (machine_end_beep, _silence, _other) comes when its greeting has ended: the moment a message may start.
      form.emplace_back("MachineDetection", config.machine_detection);
      form.emplace_back("AsyncAmd", "true");
      form.emplace_back("AsyncAmdStatusCallback", base + "/twilio/amd?call_id=" + encoded_id);
      form.emplace_back("AsyncAmdStatusCallbackMethod", "POST");
    }
    if (config.record) form.emplace_back("Record", "true");

    create_in_flight_ = true;
    create_sent_ = true;
    const auto started = Clock::now();
    // The leg lives until Twilio's answer is in, even when the host has let it go (a call hung up while its create
    // was on its way): that answer brings the SID the hang-up needs, and without it Twilio would ring on. Past
    // request_timeout the call is given up on (give_up), but the request waits late_answer_wait longer: a late
    // answer's SID ends at Twilio a call it placed all the same.
    provider_->post_to_twilio("Calls.json", form_encode(form),
                              [self = shared_from_this(), started](const HttpClientResponse& response) {
                                self->on_created(response, started);
                              },
                              std::chrono::duration_cast<std::chrono::milliseconds>(config.request_timeout +
                                                                                    config.late_answer_wait));
    // On the host's loop (EventLoop): cancelled by on_created, or with this call when it goes.
    give_up_timer_.start_after(config.request_timeout, [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->give_up_create();
    });
  }

  // request_timeout passed with no answer to the create.
  void give_up_create() {
    if (!create_in_flight_ || gave_up_) return;
    gave_up_ = true;
    // Hung up meanwhile: the call is over here already, and only a late answer's SID can end it at Twilio.
    if (hangup_requested_) return;
    const auto seconds = provider_->config().request_timeout.count();
    HttpClientResponse none;
    none.timed_out = true;
    none.error = "no answer to the create within " + std::to_string(seconds) + " s";
    on_no_create_answer(none);
  }

  // No answer to the create (it timed out, or the connection broke).
  void on_no_create_answer(const HttpClientResponse& response) {
    if (!provider_sid_.empty()) {
      // Twilio's signed callbacks have already shown the call: it was placed. Failing it here would leave a ghost
      // at Twilio and a false reason on record.
      provider_->log().warning("call " + call_id_ + ": Twilio's answer to the create did not come (" +
                               describe_failure(response, provider_->config().api_base_url) +
                               "), but its callbacks show the call as " + provider_sid_ + ": carrying on");
      if (hangup_requested_ && !terminal_) send_hangup();
      release_events_when_done();
      return;
    }
    CallStatusUpdate update;
    update.status = CallStatus::failed;
    update.reason = describe_failure(response, provider_->config().api_base_url);
    provider_->log().warning("call " + call_id_ + " could not be placed: " + update.reason);
    report_status(update);
  }

  void on_created(const HttpClientResponse& response, Clock::time_point started) {
    create_in_flight_ = false;
    give_up_timer_.cancel();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    const auto json = nlohmann::json::parse(response.body, nullptr, false);
    const std::string sid = json_string_or(json, "sid");
    if (gave_up_) {
      // The call was given up on at request_timeout; this is the answer coming after all.
      const bool accepted = (response.status == 201 || response.status == 200) && !sid.empty();
      provider_->log().warning("call " + call_id_ + ": Twilio answered the create " + std::to_string(ms) +
                               " ms after it was sent, past the " +
                               std::to_string(provider_->config().request_timeout.count()) + " s timeout" +
                               (accepted ? ", as " + sid : ": " + describe_failure(response,
                                                                                  provider_->config().api_base_url)));
      if (accepted && !terminal_ && hangup_requested_ && provider_sid_.empty()) {
        // Hung up here while the create was on its way: the hang-up was waiting for this SID.
        provider_sid_ = sid;
        if (events_) events_->on_provider_call_id(sid);
        send_hangup();
      } else if (accepted && terminal_ && provider_sid_.empty()) {
        provider_->on_late_create_answer(call_id_, sid, json_string_or(json, "status", "queued"));
      } else if (accepted && hangup_requested_ && !terminal_) {
        send_hangup();
      }
      release_events_when_done();
      return;
    }
    if ((response.status == 201 || response.status == 200) && !sid.empty()) {
      provider_sid_ = sid;
      provider_->log().info("call " + call_id_ + ": Twilio accepted it as " + sid + " in " + std::to_string(ms) +
                            " ms");
      if (events_) events_->on_provider_call_id(sid);
      CallStatusUpdate update;
      update.status = map_call_status(json_string_or(json, "status", "queued")).value_or(CallStatus::dialing);
      report_status(update);
      if (hangup_requested_ && !terminal_) send_hangup();
      return;
    }
    if (response.status == 0 && !provider_sid_.empty()) {
      on_no_create_answer(response);
      return;
    }
    CallStatusUpdate update;
    update.status = CallStatus::failed;
    update.reason = describe_failure(response, provider_->config().api_base_url);
    provider_->log().warning("call " + call_id_ + " could not be placed: " + update.reason);
    report_status(update);
  }

  // A signed webhook (status callback, TwiML fetch) named the call's CallSid before the create's answer did.
  void learn_sid(std::string_view sid) {
    if (!provider_sid_.empty() || sid.empty() || terminal_) return;
    provider_sid_ = std::string(sid);
    if (events_) events_->on_provider_call_id(provider_sid_);
    // Hung up while the create was on its way: the SID is all the hang-up was waiting for.
    if (hangup_requested_) send_hangup();
  }

  void hang_up() override {
    if (hangup_requested_ || terminal_) return;
    hangup_requested_ = true;
    close_media("the call was hung up");
    if (!provider_sid_.empty()) send_hangup();
    // Otherwise the create request is still on its way (on_created sends the hang-up once the SID is known) or it
    // never got that far, and there is nothing at Twilio to end.
  }

  void send_hangup() {
    if (hangup_sent_) return;  // once: the SID may come from a callback first and from the create's answer later
    hangup_sent_ = true;
    provider_->post_teardown_to_twilio("Calls/" + url_encode(provider_sid_) + ".json",
                                       form_encode({{"Status", "completed"}}),
                                       [weak = weak_from_this()](const HttpClientResponse& response) {
                                         if (auto self = weak.lock()) self->on_hung_up(response);
                                       });
  }

  void on_hung_up(const HttpClientResponse& response) {
    CallStatusUpdate update;
    update.status = CallStatus::completed;
    if (response.status == 200 || response.status == 201) {
      const auto json = nlohmann::json::parse(response.body, nullptr, false);
      if (auto status = map_call_status(json_string_or(json, "status")); status && is_terminal(*status))
        update.status = *status;
      const std::string duration = json_string_or(json, "duration");
      int seconds = 0;
      if (!duration.empty() && std::from_chars(duration.data(), duration.data() + duration.size(), seconds).ec ==
                                   std::errc())
        update.duration_seconds = seconds;
      update.reason = "hung up";
    } else {
      update.reason = "hung up here; Twilio did not confirm: " +
                      describe_failure(response, provider_->config().api_base_url);
      provider_->log().warning("call " + call_id_ + ": " + update.reason);
    }
    report_status(update);
  }

  // ---- status -------------------------------------------------------------------------------------------------
  // Machine detection's verdict arrives with the TwiML request or a status callback; it rides on every later update.
  // The TwiML fetch (signed by Twilio) names the call's CallSid; its stream must carry the same one. Returns the
  // fresh stream token the TwiML hands to the stream.
  const std::string& issue_stream_token(std::string_view call_sid) {
    if (!call_sid.empty()) twiml_call_sid_ = std::string(call_sid);
    return stream_token_.issue(Clock::now(), provider_->config().stream_token_ttl);
  }

  void note_answered_by(std::string_view answered_by) {
    if (!answered_by.empty()) answered_by_ = truncate_utf8(answered_by, 64);
  }

  // Twilio's asynchronous answering-machine verdict (AnsweredBy on /twilio/amd), for the host: reported as the call's
  // current status carrying the verdict, once per new verdict, while the call is up. A verdict that comes before
  // the media stream is held until the stream starts, so that the voice session it concerns exists when the host
  // tells it.
  void report_answered_by(std::string_view answered_by) {
    if (terminal_ || answered_by.empty() || answered_by == reported_verdict_) return;
    note_answered_by(answered_by);
    if (!media_started_) return;  // attach_media reports it
    report_verdict_now();
  }

  void report_status(const CallStatusUpdate& reported) {
    if (terminal_) return;
    note_answered_by(reported.answered_by);
    CallStatusUpdate update = reported;
    // A verdict held until the media stream starts (report_answered_by) does not ride on the updates before it.
    if (update.answered_by.empty()) update.answered_by = is_terminal(update.status) ? answered_by_ : reported_verdict_;
    if (!is_terminal(update.status) && progress_rank(update.status) <= progress_rank(last_status_)) return;
    last_status_ = update.status;
    if (is_terminal(update.status)) terminal_ = true;
    if (!update.answered_by.empty()) reported_verdict_ = update.answered_by;
    if (events_) events_->on_status(update);
    // Ended before Twilio named the call, though the create went out: Twilio may have it all the same (a create
    // that timed out here), and what it reports later must correct the record.
    if (terminal_ && create_sent_ && provider_sid_.empty() && events_)
      provider_->ended_without_sid(call_id_, events_, update.reason);
    if (terminal_) close_media("the call ended");
    release_events_when_done();
  }

  // ---- media --------------------------------------------------------------------------------------------------
  // A media stream for this call started. Returns the reason when it cannot be taken.
  // An outbound call's stream is taken only with its one-time token and the callSid Twilio named when it fetched
  // the TwiML (or the REST create returned); an inbound call, created for this very stream, has neither.
  std::optional<std::string> attach_media(std::shared_ptr<WebSocketPeer> peer, std::string stream_sid,
                                          std::string_view twilio_call_sid, std::optional<std::string_view> token) {
    if (terminal_) return "the call has already ended";
    if (peer_) return "the call already has a media stream";
    if (token) {
      const std::string expected_sid = !twiml_call_sid_.empty() ? twiml_call_sid_ : provider_sid_;
      if (!stream_token_.issued()) return std::string(StreamToken::kNotIssued);
      if (twilio_call_sid.empty()) return std::string("the start message has no callSid");
      if (expected_sid.empty()) return std::string("the call's CallSid is not known yet, so the stream cannot be checked");
      if (twilio_call_sid != expected_sid)
        return "the stream's callSid " + std::string(twilio_call_sid) + " is not this call's " + expected_sid;
      if (std::string problem = stream_token_.redeem(*token, Clock::now()); !problem.empty()) return problem;
    } else if (!provider_sid_.empty() && !twilio_call_sid.empty() && twilio_call_sid != provider_sid_) {
      return "the stream's callSid " + std::string(twilio_call_sid) + " is not this call's " + provider_sid_;
    }
    if (provider_sid_.empty() && !twilio_call_sid.empty()) {
      provider_sid_ = std::string(twilio_call_sid);
      if (events_) events_->on_provider_call_id(provider_sid_);
    }
    peer_ = std::move(peer);
    stream_sid_ = std::move(stream_sid);
    // What every media and mark message of this stream starts with, built once: a frame then appends its payload.
    media_prefix_.set(R"({"event":"media","streamSid":")", stream_sid_, R"(","media":{"payload":")");
    mark_prefix_.set(R"({"event":"mark","streamSid":")", stream_sid_, R"(","mark":{"name":")");
    pending_marks_.clear();
    sent_us_ = heard_us_ = 0;
    // A media stream means the callee answered, whether or not the status callback has arrived yet (Twilio's test
    // credentials send none).
    CallStatusUpdate answered;
    answered.status = CallStatus::in_progress;
    report_status(answered);
    if (events_) events_->on_media_started(AudioFormat::mulaw_8k());
    media_started_ = true;
    // An answering-machine verdict that came before the stream (held by report_answered_by).
    if (!answered_by_.empty() && answered_by_ != reported_verdict_ && !terminal_) report_verdict_now();
    return std::nullopt;
  }

  void on_inbound_media(const MediaMessageView& media, std::string& error) {
    if (!media.track.empty() && media.track != "inbound") return;  // not the callee's side
    if (media.payload.size() > base64::encoded_size(kMaxInboundPayloadBytes)) {
      error = "media payload of " + std::to_string(media.payload.size()) + " base64 characters is too large";
      return;
    }
    const auto bytes = base64::decode(media.payload, std::span<std::uint8_t>(inbound_.data(), inbound_.size()));
    if (!bytes) {
      error = "media payload is not valid base64";
      return;
    }
    if (*bytes == 0) {
      error = "media payload is empty";
      return;
    }
    std::uint64_t timestamp_us = 0;
    if (!media.timestamp.empty() && !parse_timestamp_ms(media.timestamp, timestamp_us)) {
      error = "media timestamp is not a number of milliseconds";
      return;
    }
    if (!events_ || !peer_) return;
    AudioFrame frame{AudioFormat::mulaw_8k(), std::span<const std::uint8_t>(inbound_.data(), *bytes), timestamp_us};
    events_->on_audio(frame);
  }

  void on_mark(std::string_view name) {
    std::uint64_t id = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), id);
    if (ec != std::errc() || end != name.data() + name.size()) return;  // not one of ours
    const auto mark = pending_marks_.pop_through(id);
    if (!mark) return;  // cleared before it was played
    heard_us_ = mark->played_us_at_end;
    if (events_) events_->on_playback_progress(std::chrono::microseconds(heard_us_));
  }

  void on_dtmf(char digit) {
    if (events_) events_->on_dtmf(digit);
  }

  void send_audio(const AudioFrame& frame) override {
    if (!peer_ || terminal_ || frame.bytes.empty()) return;
    // The peer (over the C boundary, the SDK's layer object) is touched only after the payload is encoded: start
    // fetching it now (measured: its cache miss was most of what the C boundary added to a frame on a busy machine).
    __builtin_prefetch(peer_.get());
    if (frame.format != AudioFormat::mulaw_8k()) {
      if (format_errors_.should_log())
        provider_->log().error("call " + call_id_ + ": dropped agent audio in " + frame.format.to_string() +
                               "; the Twilio line carries mulaw/8000");
      return;
    }
    // {"event":"media","streamSid":"...","media":{"payload":"<base64>"}}, built in a buffer reused for every frame.
    static constexpr std::string_view kClose = R"("}})";
    std::string& message = provider_->message_buffer();
    message.assign(media_prefix_.view());
    const std::size_t at = message.size();
    message.resize(at + base64::encoded_size(frame.bytes.size()));
    base64::encode(frame.bytes, std::span<char>(message.data() + at, message.size() - at));
    message.append(kClose);
    peer_->send_text(message);

    // One mark per chunk: when Twilio echoes it, the callee has heard everything up to its end.
    sent_us_ += static_cast<std::uint64_t>(frame.duration().count());
    const std::uint64_t id = ++last_mark_id_;
    message.assign(mark_prefix_.view());
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, id);
    message.append(digits, end);
    message.append(kClose);
    peer_->send_text(message);
    pending_marks_.push({id, sent_us_});
  }

  void clear_audio() override {
    if (!peer_ || terminal_) return;
    std::string& message = provider_->message_buffer();
    message.assign(R"({"event":"clear","streamSid":")");
    message += stream_sid_;
    message += R"("})";
    peer_->send_text(message);
    // The callee never hears what was queued: marks echoed for it are ignored and new audio counts from what was
    // actually heard.
    pending_marks_.clear();
    sent_us_ = heard_us_;
  }

  // The stream ended from Twilio's side (stop, or the socket closed).
  void media_ended(std::string_view reason) {
    if (!peer_) return;
    peer_.reset();
    pending_marks_.clear();
    if (events_) events_->on_media_stopped(reason);
    release_events_when_done();
  }

  // The stream is ended from our side (hang-up, call over, persistent garbage).
  void close_media(std::string_view reason) {
    if (!peer_) return;
    auto peer = std::move(peer_);
    peer_.reset();
    pending_marks_.clear();
    if (peer->is_open()) peer->close(reason);
    if (events_) events_->on_media_stopped(reason);
  }

  // The media stream failed for good (garbage from the peer): the call cannot go on.
  void fail_from_media(const std::string& reason) {
    close_media(reason);
    CallStatusUpdate update;
    update.status = CallStatus::failed;
    update.reason = reason;
    const bool had_sid = !provider_sid_.empty();
    report_status(update);
    // Twilio would keep the line open with nobody on our side: end it there too.
    if (had_sid && !hangup_requested_) {
      hangup_requested_ = true;
      send_hangup();
    }
  }

 private:
  void report_verdict_now() {
    reported_verdict_ = answered_by_;
    CallStatusUpdate update;
    update.status = CallStatus::in_progress;  // a verdict comes only for an answered call
    update.answered_by = answered_by_;
    if (events_) events_->on_status(update);
  }

  // The host's events object may hold this leg; dropping it once the call is completely over breaks that cycle.
  void release_events_when_done() {
    if (terminal_ && !peer_ && !create_in_flight_) events_.reset();
  }

  // First and together, what every frame reads and writes, message prefixes included: with hundreds of calls on the
  // loop a call is cold when its next frame comes, and these are then adjacent lines (the 1.6 KiB inbound buffer
  // used to sit between them).
  std::shared_ptr<CallEvents> events_;
  std::shared_ptr<WebSocketPeer> peer_;
  std::shared_ptr<TwilioProvider> provider_;
  bool terminal_ = false;
  std::uint64_t last_mark_id_ = 0;
  std::uint64_t sent_us_ = 0;   // agent audio sent since the stream started (less what a clear dropped)
  std::uint64_t heard_us_ = 0;  // agent audio Twilio has played to the callee
  PendingMarks pending_marks_;
  MessagePrefix media_prefix_, mark_prefix_;  // of every media and mark message of the stream (attach_media)

  std::string call_id_;
  std::string provider_sid_;
  std::string twiml_call_sid_;  // CallSid of the signed TwiML fetch
  StreamToken stream_token_;
  CallStatus last_status_ = CallStatus::queued;
  std::string answered_by_;
  std::string reported_verdict_;  // the answering-machine verdict last reported through report_answered_by
  bool media_started_ = false;
  bool create_in_flight_ = false;
  bool create_sent_ = false;
  bool gave_up_ = false;  // request_timeout passed before the create's answer
  LoopTimer give_up_timer_;  // request_timeout after the create was sent (give_up_create)
  bool hangup_requested_ = false;
  bool hangup_sent_ = false;
  std::string stream_sid_;
  std::array<std::uint8_t, kMaxInboundPayloadBytes + 3> inbound_{};
  RateLimitedLog format_errors_;
};

// ---------------------------------------------------------------------------------------------------------------
// One Media Streams WebSocket, from Twilio's connected message to its stop.
class MediaStreamHandler : public WebSocketHandler {
 public:
  MediaStreamHandler(std::shared_ptr<TwilioProvider> provider, std::shared_ptr<WebSocketPeer> peer)
      : provider_(std::move(provider)), peer_(std::move(peer)) {}

  void on_text(std::string_view message) override {
    if (closed_) return;
    MediaMessageView view;
    std::string error;
    switch (scan_media_message(message, view)) {
      case ScanResult::media:
        if (!call_) error = "media before the start message";
        else call_->on_inbound_media(view, error);
        break;
      case ScanResult::mark:
        if (call_) call_->on_mark(view.mark_name);
        else error = "mark before the start message";
        break;
      case ScanResult::other: handle_control(message, error); break;
      case ScanResult::malformed: error = "not a Media Streams message (malformed JSON or missing fields)"; break;
    }
    if (error.empty()) {
      consecutive_bad_ = 0;
      return;
    }
    note_bad_message(error, message);
  }

  void on_closed(std::string_view reason) override {
    closed_ = true;
    if (call_) call_->media_ended("the media stream closed" + (reason.empty() ? "" : ": " + std::string(reason)));
    call_.reset();
    peer_.reset();
  }

 private:
  void handle_control(std::string_view message, std::string& error) {
    const auto json = nlohmann::json::parse(message, nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
      error = "malformed JSON";
      return;
    }
    const std::string event = json_string_or(json, "event");
    if (event == "connected") {
      if (json_string_or(json, "protocol") != "Call")
        provider_->log().warning("media stream: unexpected protocol in connected message: " + json.dump());
    } else if (event == "start") {
      handle_start(json, error);
    } else if (event == "media" || event == "mark") {
      // Shapes the scanner leaves to the full parser (escaped strings): rare, so read them here.
      if (!call_) {
        error = event + " before the start message";
        return;
      }
      const auto& body = json.contains(event) ? json[event] : nlohmann::json();
      if (event == "mark") {
        call_->on_mark(json_string_or(body, "name"));
        return;
      }
      const std::string payload = json_string_or(body, "payload");
      const std::string track = json_string_or(body, "track");
      const std::string timestamp = json_string_or(body, "timestamp");
      if (payload.empty()) {
        error = "media message without a payload";
        return;
      }
      MediaMessageView view{{}, track, timestamp, payload, {}};
      call_->on_inbound_media(view, error);
    } else if (event == "dtmf") {
      const std::string digit = json.contains("dtmf") ? json_string_or(json["dtmf"], "digit") : "";
      static constexpr std::string_view kKeys = "0123456789*#ABCD";
      if (digit.size() != 1 || !call_) error = "dtmf message without a digit (or before start)";
      else if (kKeys.find(digit[0]) == std::string_view::npos) error = "dtmf message with a digit that is no key";
      else call_->on_dtmf(digit[0]);
    } else if (event == "stop") {
      if (call_) call_->media_ended("Twilio stopped the media stream");
      call_.reset();
    } else {
      error = "unknown event \"" + event + "\"";
    }
  }

  void handle_start(const nlohmann::json& json, std::string& error) {
    if (call_) {
      error = "a second start message";
      return;
    }
    const auto& start = json.contains("start") ? json["start"] : nlohmann::json();
    const std::string stream_sid = json_string_or(start, "streamSid", json_string_or(json, "streamSid"));
    const std::string call_sid = json_string_or(start, "callSid");
    const auto& custom = start.is_object() && start.contains("customParameters") ? start["customParameters"]
                                                                                 : nlohmann::json();
    const std::string call_id = json_string_or(custom, "call_id");
    if (stream_sid.empty()) return refuse("the start message has no streamSid");
    if (start.contains("mediaFormat")) {
      const auto& format = start["mediaFormat"];
      const bool mulaw = json_string_or(format, "encoding") == "audio/x-mulaw";
      const bool rate = format.value("sampleRate", 0) == 8000;
      const bool mono = format.value("channels", 1) == 1;
      if (!mulaw || !rate || !mono) return refuse("unsupported media format " + format.dump());
    }

    std::shared_ptr<TwilioCall> call = call_id.empty() ? nullptr : provider_->find_call(call_id);
    std::optional<std::string_view> token;
    const std::string given_token = json_string_or(custom, "stream_token");
    if (call) {
      token = given_token;  // a call we placed: its TwiML's token is required
    } else {
      if (!provider_->config().inbound_streams)
        return refuse(call_id.empty() ? "the start message carries no call_id parameter"
                                      : "unknown call_id \"" + call_id + "\"");
      TwilioProvider::InboundGrant numbers{json_string_or(custom, "from"), json_string_or(custom, "to")};
      if (provider_->config().inbound_stream_tokens) {
        // The numbers then come from the signed TwiML request, not from the stream's own parameters.
        if (std::string problem = provider_->redeem_inbound_stream_token(call_sid, given_token, numbers);
            !problem.empty())
          return refuse("inbound stream: " + problem);
      }
      call = accept_inbound(call_id, call_sid, numbers);
      if (!call) return refuse("the host did not accept the inbound call");
    }
    if (auto reason = call->attach_media(peer_, stream_sid, call_sid, token))
      return refuse("call " + call->call_id() + ": " + *reason);
    call_ = std::move(call);
    provider_->log().info("call " + call_->call_id() + ": media stream " + stream_sid + " started");
  }

  std::shared_ptr<TwilioCall> accept_inbound(const std::string& call_id, const std::string& call_sid,
                                             const TwilioProvider::InboundGrant& numbers) {
    const std::string id = !call_id.empty() ? call_id : "inbound-" + (call_sid.empty() ? stream_id() : call_sid);
    auto call = std::make_shared<TwilioCall>(provider_, id, nullptr);
    auto events = provider_->host().accept_inbound_call(numbers.from, numbers.to, call_sid, call);
    if (!events) return nullptr;
    call->set_events(std::move(events));
    provider_->register_call(id, call);
    return call;
  }

  std::string stream_id() const { return std::to_string(reinterpret_cast<std::uintptr_t>(this)); }

  void refuse(const std::string& reason) {
    provider_->log().warning("media stream refused: " + reason);
    closed_ = true;
    if (peer_ && peer_->is_open()) peer_->close(reason);
  }

  void note_bad_message(const std::string& error, std::string_view message) {
    ++consecutive_bad_;
    if (bad_log_.should_log())
      provider_->log().warning("media stream" + (call_ ? " of call " + call_->call_id() : std::string()) + ": " +
                               error + " (" + std::to_string(bad_log_.count()) + " bad messages so far; starts with " +
                               std::string(message.substr(0, 80)) + ")");
    if (consecutive_bad_ < kMaxConsecutiveBadMessages) return;
    const std::string reason = "the Twilio media stream sent " + std::to_string(consecutive_bad_) +
                               " bad messages in a row (last: " + error + ")";
    closed_ = true;
    if (call_) {
      auto call = std::move(call_);
      call->fail_from_media(reason);
    } else if (peer_ && peer_->is_open()) {
      peer_->close(reason);
    }
  }

  std::shared_ptr<TwilioProvider> provider_;
  std::shared_ptr<WebSocketPeer> peer_;
  std::shared_ptr<TwilioCall> call_;
  bool closed_ = false;
  int consecutive_bad_ = 0;
  RateLimitedLog bad_log_;
};

// ---------------------------------------------------------------------------------------------------------------
TwilioProvider::TwilioProvider(std::shared_ptr<TwilioHost> host, std::shared_ptr<Logger> log, TwilioConfig config)
    : host_(std::move(host)), log_(std::move(log)), config_(std::move(config)) {
  message_buffer_.reserve(4096);
  if (!config_.validate_signatures)
    log_->warning("validate_signatures is off: anyone who can reach /twiml, /twilio/status and /media-stream can "
                  "pose as Twilio. Use this only on a private network.");
}

std::shared_ptr<TwilioCall> TwilioProvider::find_call(const std::string& call_id) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return nullptr;
  auto call = it->second.lock();
  if (!call) {
    remember_ended(it->first);
    calls_.erase(it);
  }
  return call;
}

TwilioProvider::EndedCall& TwilioProvider::remember_ended(const std::string& call_id) {
  constexpr std::size_t kRemembered = 4096;
  auto [it, inserted] = ended_.try_emplace(call_id);
  if (inserted) {
    ended_order_.push_back(call_id);
    if (ended_order_.size() > kRemembered) {
      const std::string oldest = std::move(ended_order_.front());
      ended_order_.pop_front();
      ended_.erase(oldest);  // never `call_id`: it was just pushed at the back
    }
  }
  return ended_.at(call_id);
}

void TwilioProvider::ended_without_sid(const std::string& call_id, std::shared_ptr<CallEvents> events,
                                       std::string failure) {
  EndedCall& ended = remember_ended(call_id);
  ended.events = std::move(events);
  ended.failure = std::move(failure);
}

namespace {
// The record's words for a call Twilio placed after it had ended here.
std::string placed_late(const std::string& failure, std::string_view what_then) {
  return (failure.empty() ? std::string("Twilio placed the call after the daemon had given up on it")
                          : "Twilio placed the call after the create had failed here (" + failure + ")") +
         "; " + std::string(what_then);
}
constexpr std::string_view kEndedThroughRest = "the call was ended through the REST API";
}  // namespace

void TwilioProvider::report_late(EndedCall& ended, CallStatusUpdate update) {
  if (!ended.events) return;
  if (ended.final_reported && !is_terminal(update.status)) return;  // over at Twilio: an older word changes nothing
  if (ended.reported == update.status && ended.reported_reason == update.reason) return;
  // Twilio's callbacks (and a late answer's "queued") can arrive out of order: never report a call going back.
  if (!is_terminal(update.status) && ended.reported && progress_rank(update.status) < progress_rank(*ended.reported))
    return;
  ended.reported = update.status;
  ended.reported_reason = update.reason;
  if (is_terminal(update.status)) ended.final_reported = true;
  ended.events->on_late_status(update);
}

void TwilioProvider::on_late_report(const std::string& call_id, std::string_view sid, std::string_view twilio_status,
                                    const std::optional<CallStatusUpdate>& callback, std::string_view what_now) {
  const auto mapped = map_call_status(twilio_status);
  auto it = ended_.find(call_id);
  if (sid.empty() || !mapped || it == ended_.end()) {
    log_->debug("report of call " + call_id + ", which has already ended here: acknowledged");
    return;
  }
  EndedCall& ended = it->second;
  if (!ended.events) {
    // It ended here with its SID known: the record is right; only make sure Twilio ends the call too.
    if (!is_terminal(*mapped)) end_at_twilio(call_id, std::string(sid), twilio_status);
    return;
  }
  if (!ended.sid.empty() && ended.sid != sid) {
    log_->warning("report of call " + call_id + " names CallSid " + std::string(sid) + ", not its " + ended.sid +
                  " - ignored");
    return;
  }
  if (ended.sid.empty()) {
    ended.sid = std::string(sid);
    ended.events->on_provider_call_id(ended.sid);  // the record gets the SID it never had
  }
  if (!is_terminal(*mapped)) {
    end_at_twilio(call_id, ended.sid, twilio_status);
    CallStatusUpdate update;
    update.status = *mapped;
    update.reason = placed_late(ended.failure, what_now);
    report_late(ended, std::move(update));
    return;
  }
  CallStatusUpdate update = callback.value_or(CallStatusUpdate{});
  update.status = *mapped;
  update.reason = placed_late(ended.failure, !ended.ended_how.empty()
                                                 ? ended.ended_how
                                                 : "Twilio reports it " + std::string(twilio_status) +
                                                       (update.reason.empty() ? "" : " (" + update.reason + ")"));
  report_late(ended, std::move(update));
}

void TwilioProvider::end_at_twilio(const std::string& call_id, const std::string& sid,
                                   std::string_view twilio_status) {
  if (!reconciled_sids_.insert(sid).second) return;
  if (reconciled_sids_.size() > 4096) reconciled_sids_.clear();  // a bound; a repeat costs one more request
  if (auto it = ended_.find(call_id); it != ended_.end()) it->second.ending_at_twilio = true;
  // Twilio ends a queued or ringing call with Status=canceled, an answered one with Status=completed.
  const bool answered = twilio_status == "in-progress" || twilio_status == "answered";
  log_->warning("call " + call_id + " ended here but Twilio reports it " + std::string(twilio_status) + " as " + sid +
                ": ending it there");
  const CallStatus asked = answered ? CallStatus::completed : CallStatus::canceled;
  post_teardown_to_twilio("Calls/" + url_encode(sid) + ".json",
                          form_encode({{"Status", answered ? "completed" : "canceled"}}),
                          [weak = weak_from_this(), call_id, sid, asked](const HttpClientResponse& response) {
                            if (auto self = weak.lock()) self->on_ended_at_twilio(call_id, sid, response, asked);
                          });
}

void TwilioProvider::on_ended_at_twilio(const std::string& call_id, const std::string& sid,
                                        const HttpClientResponse& response, CallStatus asked) {
  auto it = ended_.find(call_id);
  if (it != ended_.end()) it->second.ending_at_twilio = false;
  EndedCall* ended = it == ended_.end() || !it->second.events ? nullptr : &it->second;
  if (response.status != 200 && response.status != 201) {
    const std::string failure = describe_failure(response, config_.api_base_url);
    log_->warning("call " + call_id + ": Twilio did not end " + sid + ": " + failure +
                  " (sent again on Twilio's next report of it)");
    // Not ended there: Twilio's next callback tries again, or the call would ring on with nobody here.
    reconciled_sids_.erase(sid);
    if (ended && ended->reported) {
      CallStatusUpdate update;
      update.status = *ended->reported;
      update.reason = placed_late(ended->failure, "ending it through the REST API failed: " + failure);
      report_late(*ended, std::move(update));
    }
    return;
  }
  log_->info("call " + call_id + ": Twilio ended " + sid);
  if (!ended || ended->final_reported) return;  // Twilio's final callback came first: it is the last word
  // Twilio's answer is the call as it is now: canceled (it was still ringing) or completed, with its duration.
  const auto json = nlohmann::json::parse(response.body, nullptr, false);
  CallStatusUpdate update;
  update.status = asked;
  if (auto status = map_call_status(json_string_or(json, "status")); status && is_terminal(*status))
    update.status = *status;
  const std::string duration = json_string_or(json, "duration");
  int seconds = 0;
  if (!duration.empty() &&
      std::from_chars(duration.data(), duration.data() + duration.size(), seconds).ec == std::errc())
    update.duration_seconds = seconds;
  ended->ended_how = std::string(kEndedThroughRest);
  update.reason = placed_late(ended->failure, kEndedThroughRest);
  report_late(*ended, std::move(update));
}

void TwilioProvider::register_call(const std::string& call_id, const std::shared_ptr<TwilioCall>& call) {
  if (++registrations_since_sweep_ >= 64) {
    registrations_since_sweep_ = 0;
    std::erase_if(calls_, [this](const auto& entry) {
      if (!entry.second.expired()) return false;
      remember_ended(entry.first);
      return true;
    });
  }
  calls_[call_id] = call;
}

void TwilioProvider::post_to_twilio(std::string path, std::string form_body,
                                    std::function<void(const HttpClientResponse&)> done,
                                    std::optional<std::chrono::milliseconds> timeout) {
  // The host's client runs every request concurrently on the loop: a create Twilio is slow to answer holds up no
  // hang-up of another call.
  host_->http().start(
      twilio_form_post(config_, path, std::move(form_body), timeout.value_or(config_.request_timeout)),
      std::move(done));
}

void TwilioProvider::post_teardown_to_twilio(std::string path, std::string form_body,
                                             std::function<void(const HttpClientResponse&)> done) {
  host_->http().start_teardown(twilio_form_post(config_, path, std::move(form_body), config_.request_timeout),
                               std::move(done));
}

void TwilioProvider::on_late_create_answer(const std::string& call_id, const std::string& sid,
                                           std::string_view twilio_status) {
  on_late_report(call_id, sid, twilio_status, std::nullopt);
}

std::shared_ptr<CallLeg> TwilioProvider::place_call(const OutboundCall& call, std::shared_ptr<CallEvents> events) {
  auto leg = std::make_shared<TwilioCall>(shared_from_this(), call.call_id, events);
  std::string refusal = config_.destinations.refusal(call.to);
  if (!refusal.empty())
    log_->warning("call " + call.call_id + " not placed: " + refusal);
  else if (find_call(call.call_id))
    refusal = "a call with id " + call.call_id + " is already running";
  if (!refusal.empty()) {
    // Reported from the loop, after the host has the leg in hand.
    host_->loop().post([leg, refusal] {
      CallStatusUpdate update;
      update.status = CallStatus::failed;
      update.reason = refusal;
      leg->report_status(update);
    });
    return leg;
  }
  register_call(call.call_id, leg);
  leg->create(call);
  return leg;
}

std::string TwilioProvider::check_destination(std::string_view number) const {
  return config_.destinations.refusal(number);
}

std::vector<std::string> TwilioProvider::http_routes() const { return {"/twiml", "/twilio/status", "/twilio/amd"}; }

std::optional<HttpResponse> TwilioProvider::refuse_unsigned(
    const HttpRequest& request, std::string_view scheme,
    const std::vector<std::pair<std::string, std::string>>& params) {
  if (!config_.validate_signatures) return std::nullopt;
  const std::string_view signature = request.header("x-twilio-signature");
  const std::string url = std::string(scheme) + "://" + config_.public_domain + request.target;
  bool valid = signature_matches(config_.auth_token, signature, url, params);
  // Twilio's documentation does not say which scheme it signs a WebSocket handshake with; the https form of the
  // same URL is accepted too. Both need the auth token, and the paths of our webhooks differ, so this lets no
  // other signed request through.
  if (!valid && scheme == "wss")
    valid = signature_matches(config_.auth_token, signature,
                              "https://" + config_.public_domain + request.target, params);
  if (valid) return std::nullopt;
  log_->warning(std::string(signature.empty() ? "missing" : "invalid") + " X-Twilio-Signature on " + request.method +
                " " + request.target + " from " + request.remote_address +
                " - refused (check that PUBLIC_DOMAIN is the host name Twilio calls and that the auth token is "
                "right)");
  return HttpResponse::json_error(403, "invalid Twilio signature");
}

HttpResponse TwilioProvider::handle_http(const HttpRequest& request) {
  if (request.path == "/twiml") return handle_twiml(request);
  if (request.path == "/twilio/status") return handle_status(request);
  if (request.path == "/twilio/amd") return handle_amd(request);
  return HttpResponse::json_error(404, "not found");
}

HttpResponse TwilioProvider::handle_twiml(const HttpRequest& request) {
  if (request.method != "POST" && request.method != "GET") return HttpResponse::json_error(405, "use POST or GET");
  const auto form = request.method == "POST" ? request.form() : FormFields{};
  if (auto refusal = refuse_unsigned(request, "https", form)) return *refusal;
  auto it = request.query.find("call_id");
  HttpResponse response;
  response.content_type = "text/xml";
  if (it == request.query.end() || it->second.empty()) {
    if (!config_.inbound_streams) return HttpResponse::json_error(404, "no call_id in the TwiML request");
    // A call to our number: stream it with its numbers and a one-time stream token bound to its CallSid; the host
    // decides whether to take it when the stream starts.
    FormFields params;
    std::string from, to, call_sid;
    for (const auto& [name, value] : form) {
      if (name == "From") from = value;
      if (name == "To") to = value;
      if (name == "CallSid") call_sid = value;
    }
    params.emplace_back("from", from);
    params.emplace_back("to", to);
    if (config_.inbound_stream_tokens) {
      if (call_sid.empty()) return HttpResponse::json_error(400, "an inbound call's TwiML request needs its CallSid");
      params.emplace_back("stream_token", issue_inbound_stream_token(call_sid, from, to));
    }
    response.body = connect_stream_twiml(config_.public_domain, params);
    return response;
  }
  auto call = find_call(it->second);
  if (!call && !ended_here(it->second)) return HttpResponse::json_error(404, "unknown call_id");
  if (!call || call->finished()) {
    // Twilio placed a call the daemon has given up on (typically: the create timed out here but reached Twilio)
    // and the callee answered: end it, silently, instead of a 404 the callee would hear as an application error.
    std::string sid;
    for (const auto& [name, value] : form)
      if (name == "CallSid") sid = value;
    log_->warning("TwiML requested for call " + it->second + (sid.empty() ? "" : " (" + sid + ")") +
                  ", which has already ended here: answered <Hangup/>");
    // The callee has answered: the record learns the SID, and that the call is up at Twilio (and being ended).
    if (call && call->finished() && !call->provider_sid().empty()) sid.clear();  // the record has it right
    if (auto ended = ended_.find(it->second); ended != ended_.end() && ended->second.ended_how.empty())
      ended->second.ended_how = "the callee answered and the call was ended (<Hangup/>)";
    on_late_report(it->second, sid, "in-progress", std::nullopt, "the callee answered; ending the call (<Hangup/>)");
    response.body = hangup_twiml();
    return response;
  }
  std::string_view call_sid;
  for (const auto& [name, value] : form) {
    if (name == "AnsweredBy") call->note_answered_by(value);
    if (name == "CallSid") call_sid = value;
  }
  if (!call->provider_sid().empty() && !call_sid.empty() && call_sid != call->provider_sid()) {
    log_->warning("TwiML request for call " + call->call_id() + " names CallSid " + std::string(call_sid) +
                  ", not its " + call->provider_sid() + " - refused");
    return HttpResponse::json_error(409, "CallSid does not match the call");
  }
  call->learn_sid(call_sid);
  const std::string& token = call->issue_stream_token(call_sid);
  response.body =
      connect_stream_twiml(config_.public_domain, {{"call_id", call->call_id()}, {"stream_token", token}});
  return response;
}

std::string TwilioProvider::issue_inbound_stream_token(const std::string& call_sid, std::string from, std::string to) {
  const auto now = StreamToken::Clock::now();
  for (auto it = pending_inbound_.begin(); it != pending_inbound_.end();)
    it = it->second.expires < now ? pending_inbound_.erase(it) : std::next(it);
  PendingInbound& pending = pending_inbound_[call_sid];
  pending.grant = {std::move(from), std::move(to)};
  pending.expires = now + config_.stream_token_ttl;
  return pending.token.issue(now, config_.stream_token_ttl);
}

std::string TwilioProvider::redeem_inbound_stream_token(const std::string& call_sid, std::string_view token,
                                                        InboundGrant& grant) {
  if (call_sid.empty()) return "the start message has no callSid";
  auto it = pending_inbound_.find(call_sid);
  if (it == pending_inbound_.end())
    return "no stream token was issued for callSid " + call_sid +
           " (its TwiML was not fetched, or its stream started already)";
  if (std::string problem = it->second.token.redeem(token, StreamToken::Clock::now()); !problem.empty())
    return problem;
  grant = std::move(it->second.grant);
  pending_inbound_.erase(it);
  return "";
}

HttpResponse TwilioProvider::handle_status(const HttpRequest& request) {
  if (request.method != "POST") return HttpResponse::json_error(405, "use POST");
  const auto form = request.form();
  if (auto refusal = refuse_unsigned(request, "https", form)) return *refusal;
  auto it = request.query.find("call_id");
  auto call = it == request.query.end() ? nullptr : find_call(it->second);
  if (it != request.query.end() &&
      ((call && call->finished() && call->provider_sid().empty()) || (!call && ended_here(it->second)))) {
    // Twilio still reports a call that has ended here. If it is not over there, the daemon gave up on it too early
    // (a create that timed out here but went through): end it at Twilio now that its SID is known, and correct the
    // record of a call that ended before Twilio had named it.
    std::string sid, status;
    for (const auto& [name, value] : form) {
      if (name == "CallSid") sid = value;
      if (name == "CallStatus") status = value;
    }
    on_late_report(it->second, sid, status, status_from_callback(form));
    return HttpResponse{204, "text/plain", "", {}};
  }
  if (!call) return HttpResponse::json_error(404, "unknown call_id");
  const auto update = status_from_callback(form);
  if (!update) return HttpResponse::json_error(400, "missing or unknown CallStatus");
  std::string_view sid;
  for (const auto& [name, value] : form)
    if (name == "CallSid") sid = value;
  if (!call->provider_sid().empty() && !sid.empty() && sid != call->provider_sid()) {
    log_->warning("status callback for call " + call->call_id() + " names CallSid " + std::string(sid) +
                  ", not its " + call->provider_sid() + " - ignored");
    return HttpResponse::json_error(409, "CallSid does not match the call");
  }
  call->learn_sid(sid);
  call->report_status(*update);
  return HttpResponse{204, "text/plain", "", {}};
}

// The asynchronous answering-machine detection's callback (AsyncAmdStatusCallback), signed like every webhook:
// AccountSid, CallSid, AnsweredBy (human, machine_start, machine_end_beep, machine_end_silence, machine_end_other,
// fax, unknown) and MachineDetectionDuration. The verdict goes to the host, which tells the agent.
HttpResponse TwilioProvider::handle_amd(const HttpRequest& request) {
  if (request.method != "POST") return HttpResponse::json_error(405, "use POST");
  const auto form = request.form();
  if (auto refusal = refuse_unsigned(request, "https", form)) return *refusal;
  std::string_view sid, answered_by;
  for (const auto& [name, value] : form) {
    if (name == "CallSid") sid = value;
    if (name == "AnsweredBy") answered_by = value;
  }
  if (answered_by.empty()) return HttpResponse::json_error(400, "missing AnsweredBy");
  // Twilio's verdicts are lower-case words with underscores; anything else (bytes such as %FF) is not one, and
  // goes no further than this answer.
  const bool a_word = answered_by.size() <= 32 && std::all_of(answered_by.begin(), answered_by.end(), [](char c) {
                        return (c >= 'a' && c <= 'z') || c == '_';
                      });
  if (!a_word) {
    log_->warning("answering-machine callback with an AnsweredBy that is not a verdict (" +
                  truncate_utf8(answered_by, 40) + ") - refused");
    return HttpResponse::json_error(400, "AnsweredBy is not one of Twilio's verdicts");
  }
  auto it = request.query.find("call_id");
  auto call = it == request.query.end() ? nullptr : find_call(it->second);
  if (it != request.query.end() && ((call && call->finished()) || (!call && ended_here(it->second)))) {
    // The call has ended here; Twilio still gets a 2xx (a 404 is error 11200 in the account's debugger).
    log_->info("answering-machine verdict " + std::string(answered_by) + " for call " + it->second +
               ", which has already ended here");
    return HttpResponse{204, "text/plain", "", {}};
  }
  if (!call) return HttpResponse::json_error(404, "unknown call_id");
  if (!call->provider_sid().empty() && !sid.empty() && sid != call->provider_sid()) {
    log_->warning("answering-machine verdict for call " + call->call_id() + " names CallSid " + std::string(sid) +
                  ", not its " + call->provider_sid() + " - ignored");
    return HttpResponse::json_error(409, "CallSid does not match the call");
  }
  call->learn_sid(sid);
  log_->info("call " + call->call_id() + ": Twilio's answering-machine detection says " + std::string(answered_by));
  call->report_answered_by(answered_by);
  return HttpResponse{204, "text/plain", "", {}};
}

std::optional<HttpResponse> TwilioProvider::check_media_stream_upgrade(const HttpRequest& upgrade) {
  if (upgrade.path != "/media-stream") return HttpResponse::json_error(404, "not found");
  return refuse_unsigned(upgrade, "wss", {});
}

std::shared_ptr<WebSocketHandler> TwilioProvider::open_media_stream(std::shared_ptr<WebSocketPeer> peer) {
  return std::make_shared<MediaStreamHandler>(shared_from_this(), std::move(peer));
}

}  // namespace concierge::twilio
