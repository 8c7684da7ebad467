#pragma once
// A fake of the OpenAI Realtime API (GA protocol) on loopback, for tests of the openai-realtime plugin and of whole
// calls through the daemon. It runs its own io_context on its own thread.
//
// What it checks, as the real service does: the upgrade's Authorization (401 with OpenAI's error body otherwise) and
// the absence of the retired "OpenAI-Beta: realtime=v1" header; the GA session.update (the beta shape is refused with
// an `error` event naming the unknown parameter); every client event's shape (malformed JSON, unknown types, bad
// base64, a truncate past the end of the audio, a cancel with no response in flight and function_call_output for an
// unknown call are answered with `error` events). What it plays: a script the test supplies — what the restaurant
// says (speech_started/stopped and the transcription, derived from the script, not from audio), the agent's replies
// (audio deltas in the session's format and their transcripts), a barge-in in the middle of agent audio, function
// calls, errors, and a dropped connection. It records every client event for assertions.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "concierge_fakes/test_pki.hpp"

namespace concierge::fakes {

// The callee talks over the agent: after `after_audio_ms` of the reply's audio has been sent, the fake waits
// `wait_ms` (the callee hears that much), sends speech_started, then `late_deltas` more deltas of the same reply (the
// ones already on the wire when a real server notices), then ends the reply as cancelled.
struct BargeIn {
  int after_audio_ms = 1000;
  int wait_ms = 300;
  int late_deltas = 3;
  std::string callee_text = "Sorry, one moment";  // what the callee says over the agent
};

struct ScriptStep {
  enum class Kind {
    wait_for,         // until the client sends the next event of type `text` (each wait consumes one)
    wait_for_note,    // until the client adds a system message (the host's note of a line event) containing `text`
    delay,            // ms
    callee_says,      // text; speech lasts ms
    agent_says,       // text is the transcript; ms of audio; optional barge_in
    function_call,    // text is the name; arguments is the raw arguments string (may be invalid JSON on purpose)
    send_error,       // code, text is the message
    send_raw,         // text, as is (malformed JSON on purpose)
    drop_connection,  // closes the TCP connection without a WebSocket close
    close,            // a WebSocket close with code `ms` and reason `text`
  };
  Kind kind = Kind::delay;
  std::string text;
  std::string arguments;
  std::string code;
  int ms = 0;
  int timeout_ms = 5000;
  std::optional<BargeIn> barge_in;
};

namespace step {
ScriptStep wait_for(std::string event_type, int timeout_ms = 5000);
ScriptStep wait_for_note(std::string containing, int timeout_ms = 5000);
ScriptStep delay(int ms);
ScriptStep callee_says(std::string text, int speech_ms = 300);
ScriptStep agent_says(std::string transcript, int audio_ms);
ScriptStep agent_says_interrupted(std::string transcript, int audio_ms, BargeIn barge_in);
ScriptStep function_call(std::string name, std::string arguments);
ScriptStep send_error(std::string code, std::string message);
ScriptStep send_raw(std::string text);
ScriptStep drop_connection();
ScriptStep close(int code, std::string reason);
}  // namespace step

struct FakeScript {
  std::vector<ScriptStep> steps;
  int delta_ms = 100;  // audio per delta; all of a reply's deltas are sent at once, faster than real time, as OpenAI does
  // true: the server cancels a reply itself when the callee starts talking (interrupt_response), so a client's
  // response.cancel that follows is answered with response_cancel_not_active. false: the reply stays in flight until
  // the client cancels it (up to 3 s).
  bool server_cancels_on_speech = true;
  // Echo mode, for benchmarks (bench/bench-openai.yaml): once a session is configured, every
  // input_audio_buffer.append is answered at once with a response.output_audio.delta carrying the same base64 audio,
  // inside one response and item opened on the first append and never finished. The steps still play. Appends are
  // then counted (audio_bytes_received) but not recorded one by one, so a long run does not grow the event log.
  bool echo_audio = false;
};

// The restaurant side of a booking, for end-to-end tests: greeting, the agent asks, the restaurant confirms with
// `confirmation_number`, the model calls confirm_reservation with `reservation` (date, time, party_size), says
// goodbye and calls end_call.
FakeScript restaurant_script(const std::string& confirmation_number, const nlohmann::json& reservation);

// A phone menu answers first ("For reservations, press 1. ..."): the model presses 1 with the SDK's press_keys tool
// (answered with function_call_output, then response.create), waits while the tones play, and a person answers;
// the booking then goes on as in restaurant_script.
FakeScript phone_menu_script(const std::string& confirmation_number, const nlohmann::json& reservation);

// Voicemail answers: its greeting, then the model stays silent until the host's note (a system message) tells it
// the greeting has ended ("... voicemail_message from the data now": the agent's note after a beep or Twilio's
// machine_end_*, with a response.create); then it says `message` and calls end_call with voicemail_left. A model
// that is never told stays silent: the script fails at its wait (`note_timeout_ms`).
FakeScript voicemail_script(const std::string& message, int note_timeout_ms = 10000);

// A person answers a call with Twilio's answering-machine detection on: the model hears the host's note that a person
// answered, and books as in restaurant_script; it is never told to leave a message.
FakeScript person_answers_script(const std::string& confirmation_number, const nlohmann::json& reservation);

struct FakeOpenAIOptions {
  std::string api_key = "sk-test-key";
  std::optional<TestPki> tls;  // wss when set
  FakeScript script;
  std::uint16_t port = 0;  // 0: any free port on 127.0.0.1
};

class FakeOpenAIServer {
 public:
  explicit FakeOpenAIServer(FakeOpenAIOptions options);
  ~FakeOpenAIServer();
  FakeOpenAIServer(const FakeOpenAIServer&) = delete;
  FakeOpenAIServer& operator=(const FakeOpenAIServer&) = delete;

  std::uint16_t port() const;
  // ws://127.0.0.1:<port>/v1/realtime, or wss://<host>:<port>/v1/realtime with TLS (host "localhost" by default).
  std::string url(const std::string& tls_host = "localhost") const;

  void set_script(FakeScript script);  // for connections accepted from now on
  void drop_connections();             // every open connection, abruptly (no WebSocket close)

  // What the clients sent. Appends are recorded without their audio ("audio_bytes" instead).
  std::vector<nlohmann::json> client_events(const std::string& type = "") const;
  std::vector<std::string> client_event_types() const;
  std::size_t audio_bytes_received() const;
  std::vector<nlohmann::json> errors_sent() const;  // the `error` events the fake sent
  std::vector<std::string> upgrade_headers(const std::string& lower_case_name) const;  // one per upgrade
  int connections() const;                 // WebSocket sessions accepted
  int upgrades_refused() const;
  std::vector<std::uint8_t> agent_audio_sent() const;  // every delta's audio, late ones included, in order
  std::size_t late_audio_bytes_sent() const;           // of deltas sent after a barge-in's speech_started
  std::optional<nlohmann::json> session() const;       // the effective session after the last accepted update
  bool script_finished() const;
  std::string script_failure() const;  // why the script stopped early ("" when it did not)

  struct Impl;  // the server's state and loop (public only so the connection classes in the .cpp can name it)

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace concierge::fakes
