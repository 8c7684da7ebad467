#pragma once
// A fake of OpenAI's GPT-Live primary WebSocket (wss://api.openai.com/v1/live/sessions) on loopback, built from the
// guides and the SDK's types (openai 7.x, resources/live/live.d.ts). It runs its own io_context on its own thread.
//
// What it checks, as the real service does: the upgrade's path (no query parameters) and Authorization (401 with
// OpenAI's error body otherwise); that session.start comes first and that its session object has only the fields
// SessionConfig defines (an unknown field is an `error` naming it, as the strict session object is); that nothing but
// session.start arrives before session.started; every later client event's type and shape (malformed JSON, unknown
// types, bad base64 and a function_call_output for an unknown call are answered with `error`). What it plays: a
// script — the callee's words as session.input_transcript.delta with start_ms/end_ms on the session timeline (the
// timeline runs with the callee audio received), the agent's replies as session.output_audio.delta (a tone in the
// session's format) and session.output_transcript.delta, a callee talking over a reply, tool calls through the
// Responses delegation (response.event carrying the nested Responses stream), errors, session.closed with each
// reason, and a dropped socket. It records every client event for assertions.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "concierge_fakes/test_pki.hpp"

namespace concierge::fakes::live {

// The callee talks over the agent: after `after_audio_ms` of the reply's audio has gone out, the fake waits `wait_ms`
// (the callee hears that much), sends the callee's words, then `late_deltas` more deltas of the same reply (already
// on the wire when a real server notices) and stops the reply.
struct BargeIn {
  int after_audio_ms = 1000;
  int wait_ms = 300;
  int late_deltas = 3;
  std::string callee_text = "Sorry, one moment";
};

struct ScriptStep {
  enum class Kind { wait_for, delay, callee_says, agent_says, function_call, send_error, send_raw, drop, close_session };
  Kind kind = Kind::delay;
  std::string text;
  std::string arguments;
  std::string code;
  int ms = 0;
  int timeout_ms = 5000;
  std::optional<BargeIn> barge_in;
};

namespace step {
ScriptStep wait_for(std::string client_event_type, int timeout_ms = 5000);  // each wait consumes one such event
ScriptStep delay(int ms);
ScriptStep callee_says(std::string text, int speech_ms = 400);
ScriptStep agent_says(std::string transcript, int audio_ms);
ScriptStep agent_says_interrupted(std::string transcript, int audio_ms, BargeIn barge_in);
ScriptStep function_call(std::string name, std::string arguments);  // arguments raw (may be invalid on purpose)
ScriptStep send_error(std::string code, std::string message);
ScriptStep send_raw(std::string text);
ScriptStep drop_connection();                   // closes TCP without a WebSocket close or session.closed
ScriptStep close_session(std::string reason);   // session.closed with this reason, then a WebSocket close
}  // namespace step

struct FakeScript {
  std::vector<ScriptStep> steps;
  int delta_ms = 100;  // audio per delta; a reply's deltas go out at once, faster than real time
  // Echo mode, for benchmarks (bench/bench-openai-live.yaml): once the session has started, every
  // session.input_audio.append is answered at once with a session.output_audio.delta carrying the same base64 audio
  // (the session's one format both ways). The steps still play. Appends are then counted (audio_bytes_received) but
  // not recorded one by one, and the echoed deltas are not kept in server_events(), so a long run does not grow.
  bool echo_audio = false;
};

// The restaurant side of a booking: greeting, the agent asks, the restaurant confirms with `confirmation_number`,
// the backend calls confirm_reservation with `reservation` (date, time, party_size), the agent says goodbye and the
// backend calls end_call.
FakeScript restaurant_script(const std::string& confirmation_number, const nlohmann::json& reservation);

struct FakeLiveOptions {
  std::string api_key = "sk-test-key";
  std::optional<TestPki> tls;  // wss when set
  FakeScript script;
  std::uint16_t port = 0;
  // Set by a rig that has the line too (tests/e2e/live_rig.hpp): whether the callee has heard, or the line dropped,
  // all the agent audio sent so far. A callee_says step first waits for it (up to 10 s, else the script fails), as a
  // person answers what they heard: the script's delays run from when a reply was sent, and under load the line can
  // still be playing it then, which the plugin rightly takes for a barge-in. Called on the fake's thread, often.
  std::function<bool()> callee_heard_the_agent;
};

class FakeLiveServer {
 public:
  explicit FakeLiveServer(FakeLiveOptions options);
  ~FakeLiveServer();
  FakeLiveServer(const FakeLiveServer&) = delete;
  FakeLiveServer& operator=(const FakeLiveServer&) = delete;

  std::uint16_t port() const;
  // ws://127.0.0.1:<port>/v1/live/sessions, or wss://<host>:<port>/v1/live/sessions with TLS.
  std::string url(const std::string& tls_host = "localhost") const;
  void set_script(FakeScript script);  // for connections accepted from now on

  // What the clients sent, in order, as sent; an append's audio is cut to its first 8 characters.
  std::vector<nlohmann::json> client_events(const std::string& type = "") const;
  std::vector<std::string> client_event_types() const;
  std::vector<nlohmann::json> server_events() const;  // every event the fake sent, audio deltas without their audio
  std::size_t audio_bytes_received() const;
  std::vector<nlohmann::json> errors_sent() const;
  std::vector<std::string> upgrade_headers(const std::string& lower_case_name) const;
  int connections() const;
  int upgrades_refused() const;
  std::size_t agent_audio_bytes_sent() const;
  std::size_t late_audio_bytes_sent() const;  // of deltas sent after the callee started talking over a reply
  std::optional<nlohmann::json> session() const;  // the session.start session last accepted
  bool script_finished() const;
  std::string script_failure() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace concierge::fakes::live
