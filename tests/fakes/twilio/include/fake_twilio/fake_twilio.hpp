#pragma once
// A loopback fake of Twilio for tests: the REST Calls resource (basic auth, form validation, Twilio-shaped JSON and
// error bodies, the test credentials' magic numbers), then, for each call, what Twilio does: status callbacks, the
// TwiML fetch, the bidirectional Media Stream (connected, start, 20 ms mu-law frames in real time, marks echoed as
// playback reaches them, clear honoured) - every request signed with X-Twilio-Signature, as configured.
//
// It runs on its own io_context thread. Everything it receives is recorded, in order and with times, for assertions.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace concierge::fake_twilio {

enum class SignatureMode { correct, forged, missing };
// What happens to a call after the REST create succeeded.
enum class Scenario { answer, busy, no_answer, failed };

// The callee's side of an answered call, one 20 ms frame at a time (called on the fake's thread).
class CalleeScript {
 public:
  virtual ~CalleeScript() = default;
  // Fills `frame` (160 mu-law bytes) for the 20 ms starting at `media_time`; returns false to hang up instead.
  virtual bool next_frame(std::chrono::milliseconds media_time, std::span<std::uint8_t> frame) = 0;
  // The key the callee presses in the 20 ms starting at `media_time` (Twilio sends it as a Media Streams `dtmf`
  // message), or 0 for none.
  virtual char key_pressed(std::chrono::milliseconds media_time) {
    (void)media_time;
    return 0;
  }
};

// Utterances and pauses in order, then the callee hangs up (or stays on the line until the daemon hangs up).
class SegmentScript : public CalleeScript {
 public:
  SegmentScript& say(std::vector<std::uint8_t> mulaw);
  SegmentScript& pause(std::chrono::milliseconds duration);
  SegmentScript& stay_on_line();
  SegmentScript& press(char key);  // the callee presses a key at this point of the audio (a `dtmf` message)
  bool next_frame(std::chrono::milliseconds media_time, std::span<std::uint8_t> frame) override;
  char key_pressed(std::chrono::milliseconds media_time) override;

 private:
  std::vector<std::uint8_t> audio_;                 // the whole script, silence included
  std::vector<std::pair<std::size_t, char>> keys_;  // where in audio_ (bytes) each key is pressed
  std::size_t position_ = 0;
  bool stay_ = false;
};

// A sine tone in mu-law (for "speech" in tests) and mu-law silence.
std::vector<std::uint8_t> tone_mulaw(double hz, std::chrono::milliseconds duration, double amplitude = 0.3);
inline constexpr std::uint8_t kMulawSilence = 0xFF;

struct CreatedCall {
  std::string sid;
  std::vector<std::pair<std::string, std::string>> form;  // as the REST request sent it
  std::string field(const std::string& name) const;      // first value, "" when absent
  std::vector<std::string> fields(const std::string& name) const;
};

struct FakeTwilioOptions {
  std::string account_sid = "AC00000000000000000000000000000001";
  std::string auth_token = "fake-auth-token";
  std::vector<std::string> from_numbers{"+15005550006"};  // the magic valid From, plus any "purchased" number
  std::string public_domain = "concierge.test";           // the daemon's PUBLIC_DOMAIN
  std::uint16_t daemon_port = 0;  // https://{public_domain} and wss://{public_domain} map to 127.0.0.1:{daemon_port}
  SignatureMode signature = SignatureMode::correct;         // webhooks (TwiML fetch, status callbacks)
  std::optional<SignatureMode> stream_signature;             // the Media Stream handshake; default: as `signature`
  double speed = 1.0;                                 // >1: faster than real time (frames and delays)
  std::chrono::milliseconds ring_time{300};           // from initiated to answered/busy/...
  std::size_t drop_media_after_frames = 0;            // >0: cut the stream's TCP connection (no close frame) then
  bool echo_marks_on_clear = true;                     // Twilio sends back the marks a clear dropped
  std::function<Scenario(const CreatedCall&)> scenario;                          // default: answer
  // A slow Twilio: how long the answer to a create takes (real time, not scaled by `speed`). The call is placed at
  // once all the same (status callbacks, TwiML fetch), as Twilio does when only its answer is late.
  std::function<std::chrono::milliseconds(const CreatedCall&)> create_answer_delay;  // default: none
  // A Twilio slow to place the call: how long after the create its first status callback comes (real time, not
  // scaled by `speed`; default 20 ms). With create_answer_delay longer than the plugin's request timeout, this is
  // the call the daemon gave up on, placed all the same.
  std::function<std::chrono::milliseconds(const CreatedCall&)> placing_delay;  // default: none
  std::function<std::shared_ptr<CalleeScript>(const CreatedCall&)> callee;       // default: 1 s of silence
  // Asynchronous answering-machine detection, for a create that asked for it (MachineDetection, AsyncAmd=true and
  // an AsyncAmdStatusCallback): the verdict (Twilio's AnsweredBy: human, machine_start, machine_end_beep, ...; any
  // bytes, for tests of bad input) is posted to the callback with AccountSid, CallSid and MachineDetectionDuration,
  // signed as every webhook (`signature`), once `amd_after` of the media stream has played. Default verdict: human.
  std::function<std::string(const CreatedCall&)> amd_verdict;
  std::chrono::milliseconds amd_after{1000};
  std::optional<SignatureMode> amd_signature;  // the verdict's signature; default: as `signature`
  // true: each call's final status callback ("completed", "no-answer", ...) waits until the test calls
  // release_final_callbacks(), so a test decides that the daemon sees the end of the media stream first (Twilio
  // gives no order between its stream and its callbacks; the daemon must handle both).
  bool hold_final_callbacks = false;
};

struct Record {
  std::chrono::steady_clock::duration at;  // since the fake started
  std::string call_sid;                    // "" for REST requests that created nothing
  std::string kind;
  std::string detail;
};
// Kinds: rest.create (detail: form body), rest.answered (a create's answer written; detail: the HTTP status),
// rest.error (code), rest.update (form body), twiml (status + body),
// ws.refused (HTTP status), ws.open, ws.sent.start, media.in (bytes), mark.in (name), mark.echo (name), clear.in,
// dtmf.sent (the callee's key, as a `dtmf` message), dtmf.heard (a key in the agent's audio: in-band DTMF, heard by
// the SDK's detector as a phone menu would), amd.sent (AnsweredBy, as the callback
// is sent), amd (AnsweredBy + " -> " + HTTP status of the callback),
// ws.unexpected (message), ws.dropped, ws.closed, status (CallStatus + " -> " + HTTP status), call.end (reason).

struct CallStats {
  std::string sid;
  std::size_t frames_sent = 0;           // callee frames sent to the daemon
  std::size_t agent_bytes_received = 0;  // mu-law bytes in media messages from the daemon
  std::size_t agent_bytes_played = 0;
  std::size_t agent_bytes_dropped = 0;   // by clear
  std::vector<std::string> marks_echoed;
  std::string keys_heard;                // in-band DTMF in the agent's audio, in order
  std::size_t clears = 0;
  bool media_connected = false;
  bool ended = false;
};

class FakeTwilio {
 public:
  explicit FakeTwilio(FakeTwilioOptions options);
  ~FakeTwilio();
  FakeTwilio(const FakeTwilio&) = delete;
  FakeTwilio& operator=(const FakeTwilio&) = delete;

  std::string base_url() const;  // http://127.0.0.1:{port}: the plugin's api_base_url
  std::uint16_t port() const;
  void set_daemon_port(std::uint16_t port);
  void set_signature_mode(SignatureMode mode);

  std::vector<Record> records() const;
  std::vector<Record> records_of(const std::string& kind) const;
  std::vector<CallStats> calls() const;
  // A call to the daemon's number, as Twilio runs it: the signed TwiML fetch (POST https://{public_domain}/twiml,
  // Direction=inbound, no call_id) and the media stream its <Stream> names, with its <Parameter>s. With
  // fetch_twiml false, a stranger who saw one handshake's signature (it is the same for every stream) opens
  // wss://{public_domain}/media-stream directly: correctly signed, but with no TwiML and so no stream token.
  // Returns the call's SID; records as for placed calls.
  std::string call_in(const std::string& from, const std::string& to, bool fetch_twiml = true);
  // Waits (polling) until `done` holds or the timeout passes; returns whether it held.
  bool wait_for(const std::function<bool(const FakeTwilio&)>& done, std::chrono::milliseconds timeout) const;
  // Lets the final status callbacks held by FakeTwilioOptions::hold_final_callbacks go (and every later one).
  void release_final_callbacks();
  void stop();

  // The signature Twilio puts on a request to `url` with these POST parameters.
  static std::string sign(const std::string& auth_token, const std::string& url,
                          const std::vector<std::pair<std::string, std::string>>& params);

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace concierge::fake_twilio
