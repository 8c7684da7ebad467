#include "concierge_fakes/fake_live_server.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "concierge/base64.hpp"
#include "concierge/mulaw.hpp"
#include "concierge/net/asio.hpp"
#include "concierge_fakes/ws_server.hpp"

namespace concierge::fakes::live {

using namespace concierge::net;
using nlohmann::json;
using asio::awaitable;
using asio::use_awaitable;

namespace step {
ScriptStep wait_for(std::string type, int timeout_ms) {
  ScriptStep s;
  s.kind = ScriptStep::Kind::wait_for;
  s.text = std::move(type);
  s.timeout_ms = timeout_ms;
  return s;
}
ScriptStep delay(int ms) {
  ScriptStep s;
  s.kind = ScriptStep::Kind::delay;
  s.ms = ms;
  return s;
}
ScriptStep callee_says(std::string text, int speech_ms) {
  ScriptStep s;
  s.kind = ScriptStep::Kind::callee_says;
  s.text = std::move(text);
  s.ms = speech_ms;
  return s;
}
ScriptStep agent_says(std::string transcript, int audio_ms) {
  ScriptStep s;
  s.kind = ScriptStep::Kind::agent_says;
  s.text = std::move(transcript);
  s.ms = audio_ms;
  return s;
}
ScriptStep agent_says_interrupted(std::string transcript, int audio_ms, BargeIn barge_in) {
  ScriptStep s = agent_says(std::move(transcript), audio_ms);
  s.barge_in = std::move(barge_in);
  return s;
}
ScriptStep function_call(std::string name, std::string arguments) {
  ScriptStep s;
  s.kind = ScriptStep::Kind::function_call;
  s.text = std::move(name);
  s.arguments = std::move(arguments);
  return s;
}
ScriptStep send_error(std::string code, std::string message) {
  ScriptStep s;
  s.kind = ScriptStep::Kind::send_error;
  s.code = std::move(code);
  s.text = std::move(message);
  return s;
}
ScriptStep send_raw(std::string text) {
  ScriptStep s;
  s.kind = ScriptStep::Kind::send_raw;
  s.text = std::move(text);
  return s;
}
ScriptStep drop_connection() {
  ScriptStep s;
  s.kind = ScriptStep::Kind::drop;
  return s;
}
ScriptStep close_session(std::string reason) {
  ScriptStep s;
  s.kind = ScriptStep::Kind::close_session;
  s.text = std::move(reason);
  return s;
}
}  // namespace step

FakeScript restaurant_script(const std::string& confirmation_number, const json& reservation) {
  FakeScript script;
  json confirm = reservation;
  confirm["confirmation_number"] = confirmation_number;
  const auto listen = [](int audio_ms) { return step::delay(audio_ms + 300); };
  script.steps = {
      step::callee_says("Hello, Demo Restaurant, how can I help you?", 400),
      step::agent_says("Hi! I'd like to book a table for " + std::to_string(reservation.value("party_size", 4)) +
                           " people, please.",
                       2000),
      listen(2000),
      step::callee_says("Sure. For which day and time, and under what name?", 400),
      step::agent_says("For " + reservation.value("date", std::string("tomorrow")) + " at " +
                           reservation.value("time", std::string("19:00")) + ", under Alex Morgan.",
                       2500),
      listen(2500),
      step::callee_says("That works. Your confirmation number is " + confirmation_number + ".", 500),
      step::function_call("confirm_reservation", confirm.dump()),
      step::wait_for("response.item.create"),
      step::wait_for("response.create"),
      step::agent_says("Wonderful, thank you so much. Goodbye!", 1500),
      step::function_call("end_call",
                          json{{"reason", "confirmed"}, {"summary", "Booked, confirmation " + confirmation_number}}.dump()),
      step::wait_for("response.item.create"),
  };
  return script;
}

namespace {

constexpr std::array<std::string_view, 23> kVoices{
    "alloy", "ash",    "ballad", "beacon", "bossa",  "cedar",  "cinder", "coral",   "delta",  "echo",   "gleam", "marin",
    "meridian", "quartz", "ripple", "sage", "shida", "shimmer", "stone", "tempo", "verse", "vesper", "willow"};
// SessionConfig and the objects inside it, field by field (live.d.ts). Anything else is unknown_parameter.
const std::set<std::string> kSessionKeys{"model", "audio", "client", "delegation", "input", "instructions",
                                         "safety_identifier", "store", "triggers"};
const std::set<std::string> kAudioKeys{"format", "output"};
const std::set<std::string> kFormatKeys{"type", "rate"};
const std::set<std::string> kOutputKeys{"voice"};
const std::set<std::string> kResponsesDelegationKeys{"type", "responses", "acknowledgement_delay_ms"};
const std::set<std::string> kResponsesKeys{"model", "instructions", "max_output_tokens", "parallel_tool_calls",
                                           "reasoning", "service_tier", "text", "tool_choice", "tools"};
const std::set<std::string> kFunctionToolKeys{"type", "name", "description", "parameters", "strict"};
const std::set<std::string> kClientEventTypes{
    "session.start", "session.update", "session.input_audio.append", "session.input_audio.mute",
    "session.input_audio.unmute", "session.output_audio.fixture.play", "session.instructions.append",
    "session.thinking.append", "session.commentary.append", "decision.create", "decision.item.create",
    "decision.item.delete", "response.item.create", "response.create", "session.close"};

struct ClientError {
  std::string code;
  std::string message;
  std::string param;
};

std::optional<ClientError> unknown_key(const json& object, const std::set<std::string>& allowed,
                                       const std::string& where) {
  if (!object.is_object()) return ClientError{"invalid_type", "Invalid type for '" + where + "': expected an object.", where};
  for (const auto& [key, value] : object.items())
    if (!allowed.count(key)) return ClientError{"unknown_parameter", "Unknown parameter: '" + where + "." + key + "'.",
                                                where + "." + key};
  return std::nullopt;
}

std::optional<ClientError> check_session(const json& s) {
  if (auto e = unknown_key(s, kSessionKeys, "session")) return e;
  if (!s.contains("model") || !s["model"].is_string() || s["model"].get<std::string>().empty())
    return ClientError{"missing_required_parameter", "Missing required parameter: 'session.model'.", "session.model"};
  if (s.contains("instructions") && !s["instructions"].is_string() && !s["instructions"].is_null())
    return ClientError{"invalid_type", "Invalid type for 'session.instructions'.", "session.instructions"};
  if (s.contains("audio")) {
    const json& a = s["audio"];
    if (auto e = unknown_key(a, kAudioKeys, "session.audio")) return e;
    if (a.contains("format")) {
      const json& f = a["format"];
      if (auto e = unknown_key(f, kFormatKeys, "session.audio.format")) return e;
      const std::string type = f.value("type", std::string());
      const int rate = f.contains("rate") && f["rate"].is_number_integer() ? f["rate"].get<int>() : -1;
      if (type == "audio/pcm") {
        if (rate != 16000 && rate != 24000)
          return ClientError{"invalid_value", "Live WebSocket PCM audio supports 16000 or 24000 Hz.",
                             "session.audio.format.rate"};
      } else if (type == "audio/pcmu" || type == "audio/pcma") {
        if (rate != 8000)
          return ClientError{"invalid_value", "G.711 audio uses 8000 Hz.", "session.audio.format.rate"};
      } else {
        return ClientError{"invalid_value", "Invalid value: '" + type + "'. Supported values are: 'audio/pcm', "
                                            "'audio/pcmu', and 'audio/pcma'.", "session.audio.format.type"};
      }
    }
    if (a.contains("output")) {
      const json& o = a["output"];
      if (auto e = unknown_key(o, kOutputKeys, "session.audio.output")) return e;
      if (o.contains("voice") && o["voice"].is_string() &&
          std::find(kVoices.begin(), kVoices.end(), o["voice"].get<std::string>()) == kVoices.end())
        return ClientError{"invalid_value", "Invalid value for 'session.audio.output.voice'.", "session.audio.output.voice"};
    }
  }
  if (s.contains("delegation") && !s["delegation"].is_null()) {
    const json& d = s["delegation"];
    const std::string type = d.is_object() ? d.value("type", std::string()) : std::string();
    if (type == "responses") {
      if (auto e = unknown_key(d, kResponsesDelegationKeys, "session.delegation")) return e;
      if (!d.contains("responses"))
        return ClientError{"missing_required_parameter", "Missing required parameter: 'session.delegation.responses'.",
                           "session.delegation.responses"};
      const json& r = d["responses"];
      if (auto e = unknown_key(r, kResponsesKeys, "session.delegation.responses")) return e;
      if (!r.contains("model") || !r["model"].is_string())
        return ClientError{"missing_required_parameter", "Missing required parameter: 'session.delegation.responses.model'.",
                           "session.delegation.responses.model"};
      if (r.contains("tools")) {
        if (!r["tools"].is_array())
          return ClientError{"invalid_type", "'tools' must be an array.", "session.delegation.responses.tools"};
        for (const auto& tool : r["tools"]) {
          if (tool.value("type", std::string()) != "function") continue;
          if (auto e = unknown_key(tool, kFunctionToolKeys, "session.delegation.responses.tools[]")) return e;
          if (!tool.contains("name") || !tool["name"].is_string())
            return ClientError{"missing_required_parameter", "A function tool needs a name.",
                               "session.delegation.responses.tools[].name"};
        }
      }
    } else if (type != "client" && type != "decisions") {
      return ClientError{"invalid_value", "Invalid value for 'session.delegation.type'.", "session.delegation.type"};
    }
  }
  return std::nullopt;
}

// The agent's "speech": a 440 Hz tone in the session's format, so a test can compare bytes end to end.
struct ToneGenerator {
  double phase = 0;
  std::vector<std::uint8_t> make(bool pcmu, int rate, int ms) {
    const int samples = rate * ms / 1000;
    std::vector<std::uint8_t> out;
    out.reserve(static_cast<std::size_t>(samples) * (pcmu ? 1 : 2));
    for (int i = 0; i < samples; ++i) {
      const auto s = static_cast<std::int16_t>(8000 * std::sin(phase));
      phase += 2 * M_PI * 440.0 / rate;
      if (pcmu) {
        out.push_back(mulaw::encode(s));
      } else {
        out.push_back(static_cast<std::uint8_t>(s & 0xff));
        out.push_back(static_cast<std::uint8_t>((s >> 8) & 0xff));
      }
    }
    return out;
  }
};

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string w; in >> w;) words.push_back(words.empty() ? w : " " + w);
  return words;
}

}  // namespace

struct FakeLiveServer::Impl : std::enable_shared_from_this<FakeLiveServer::Impl> {
  FakeLiveOptions options;
  std::unique_ptr<WsServer> server;  // the listener and its loop thread (tests/fakes/ws-server)
  std::atomic<long> ids{0};

  mutable std::mutex mutex;  // guards everything below (read by the test thread)
  FakeScript script;
  std::vector<json> events;
  std::vector<json> sent;
  std::size_t audio_bytes = 0;
  std::vector<json> errors;
  std::map<std::string, std::vector<std::string>> headers;
  int accepted = 0;
  int refused = 0;
  std::size_t agent_audio = 0;
  std::size_t late_audio = 0;
  std::optional<json> session;
  bool finished = false;
  std::string failure;

  std::string next_id(const char* prefix) { return std::string(prefix) + "_" + std::to_string(++ids); }

  void start();
  // Destroying the server stops its loop, which destroys the suspended coroutines and their references to this.
  void stop() { server.reset(); }
};

namespace {

class Connection final : public WsHandler, public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<FakeLiveServer::Impl> server, std::shared_ptr<WsConnection> ws, FakeScript script)
      : server_(std::move(server)), ws_(std::move(ws)), script_(std::move(script)), notify_(ws_->io()),
        sleep_(ws_->io()) {}

  void start() {
    auto self = shared_from_this();
    // GPT-Live says nothing until the client has sent session.start.
    asio::co_spawn(ws_->io(), play(self), asio::detached);
  }

  void drop() {
    open_ = false;
    ws_->drop();
    notify_.cancel();
    sleep_.cancel();
  }

 private:
  void send(json event, std::size_t audio_bytes = 0) {
    if (!open_) return;
    // Every server event has an event_id except the primary WebSocket's audio deltas (OutputAudioDeltaEvent).
    if (!event.contains("event_id") && event["type"] != "session.output_audio.delta")
      event["event_id"] = server_->next_id("event");
    {
      std::lock_guard lock(server_->mutex);
      if (event["type"] == "error") server_->errors.push_back(event);
      json summary = event;
      if (audio_bytes) summary["delta"] = "<" + std::to_string(audio_bytes) + " bytes>";
      server_->sent.push_back(std::move(summary));
    }
    ws_->send(event.dump());
  }
  void send_raw(std::string text) {
    if (!open_) return;
    ws_->send(std::move(text));
  }
  void send_error(const ClientError& e, const std::string& client_event_id) {
    json error{{"type", "invalid_request_error"}, {"code", e.code}, {"message", e.message}};
    if (!e.param.empty()) error["param"] = e.param;
    if (!client_event_id.empty()) error["client_event_id"] = client_event_id;
    json event{{"type", "error"}, {"error", error}};
    if (!client_event_id.empty()) event["client_event_id"] = client_event_id;
    send(std::move(event));
  }

  // ---- reading (the server's read loop calls these)
  void on_text(std::string_view text) override {
    try {
      on_client_text(std::string(text));
    } catch (const std::exception& e) {
      send_error({"invalid_type", std::string("Invalid event: ") + e.what(), ""}, "");
    }
  }

  void on_closed() override {
    open_ = false;
    notify_.cancel();
    sleep_.cancel();
  }

  void record(json event) {
    {
      std::lock_guard lock(server_->mutex);
      server_->events.push_back(std::move(event));
    }
    notify_.cancel();
  }

  int input_ms() const { return static_cast<int>(input_bytes_ * 1000 / std::max<std::size_t>(1, bytes_per_second_)); }

  void on_client_text(const std::string& text) {
    json event = json::parse(text, nullptr, false);
    if (event.is_discarded() || !event.is_object()) {
      record(json{{"type", "<malformed>"}, {"text", text.substr(0, 200)}});
      return send_error({"invalid_json", "We could not parse the JSON body of your request.", ""}, "");
    }
    const std::string event_id = event.contains("event_id") && event["event_id"].is_string() ? event["event_id"].get<std::string>() : "";
    if (!event.contains("type") || !event["type"].is_string()) {
      record(event);
      return send_error({"missing_required_parameter", "Missing required parameter: 'type'.", "type"}, event_id);
    }
    const std::string type = event["type"].get<std::string>();
    if (type == "session.input_audio.append") {
      std::optional<std::string> bytes;
      if (event.contains("audio") && event["audio"].is_string()) bytes = base64::decode(event["audio"].get<std::string>());
      // Recorded as sent, every field kept (the conformance test types it), the audio cut to its first 8 characters.
      const bool echo = script_.echo_audio && started_ && bytes;
      if (!echo) {
        json summary = event;
        if (bytes) summary["audio"] = event["audio"].get<std::string>().substr(0, 8);
        record(summary);
      }
      if (!started_) return send_error({"session_not_started", "Send session.start and wait for session.started first.", ""}, event_id);
      if (!bytes) return send_error({"invalid_value", "Invalid 'audio'. Expected base64-encoded audio.", "audio"}, event_id);
      input_bytes_ += bytes->size();
      {
        std::lock_guard lock(server_->mutex);
        server_->audio_bytes += bytes->size();
        if (echo) server_->agent_audio += bytes->size();
      }
      // Echo mode: the same audio straight back, as the primary WebSocket sends a delta (type and delta only).
      if (echo && open_) ws_->send(R"({"type":"session.output_audio.delta","delta":")" + event["audio"].get<std::string>() + "\"}");
      return;
    }
    record(event);
    if (!kClientEventTypes.count(type))
      return send_error({"invalid_value", "Invalid value: '" + type + "'. Supported values are: 'session.start', "
                                          "'session.input_audio.append', 'response.item.create', 'response.create', "
                                          "'session.close', ...", "type"}, event_id);
    if (type == "session.start") return on_session_start(event, event_id);
    if (!started_)
      return send_error({"session_not_started", "Send session.start and wait for session.started first.", ""}, event_id);
    if (type == "response.item.create") return on_item_create(event, event_id);
    if (type == "session.instructions.append" || type == "session.thinking.append" ||
        type == "session.commentary.append")
      return on_context_append(event, type, event_id);
    if (type == "response.create") return;  // the script continues the delegated response
    if (type == "session.close") return close_with("close_requested");
  }

  void on_session_start(const json& event, const std::string& event_id) {
    if (start_seen_) return send_error({"session_already_started", "session.start may be sent once.", ""}, event_id);
    start_seen_ = true;
    if (!event.contains("session"))
      return send_error({"missing_required_parameter", "Missing required parameter: 'session'.", "session"}, event_id);
    if (auto e = check_session(event["session"])) return send_error(*e, event_id);
    session_ = event["session"];
    const json format = session_.contains("audio") && session_["audio"].contains("format")
                            ? session_["audio"]["format"] : json{{"type", "audio/pcm"}, {"rate", 24000}};
    pcmu_ = format.value("type", std::string()) != "audio/pcm";
    rate_ = format.value("rate", 24000);
    bytes_per_second_ = static_cast<std::size_t>(rate_) * (pcmu_ ? 1 : 2);
    json resolved = session_;
    resolved["id"] = server_->next_id("live_sess");
    resolved["status"] = "active";
    resolved["expires_at"] = 4102444800;  // 2100-01-01: far from any clock the tests run under
    resolved["audio"]["format"] = format;
    if (!resolved["audio"].contains("output")) resolved["audio"]["output"] = {{"voice", "marin"}};
    {
      std::lock_guard lock(server_->mutex);
      server_->session = session_;
    }
    started_ = true;
    json started{{"type", "session.started"}, {"session", resolved}};
    if (!event_id.empty()) started["client_event_id"] = event_id;
    send(std::move(started));
    notify_.cancel();
  }

  void on_item_create(const json& event, const std::string& event_id) {
    if (!event.contains("item") || !event["item"].is_object())
      return send_error({"missing_required_parameter", "Missing required parameter: 'item'.", "item"}, event_id);
    const json& item = event["item"];
    if (item.value("type", std::string()) == "function_call_output") {
      const std::string call = item.value("call_id", std::string());
      if (!calls_.count(call))
        return send_error({"invalid_value", "No function call with call_id '" + call + "' found.", "item.call_id"}, event_id);
      if (!item.contains("output") || !item["output"].is_string())
        return send_error({"invalid_type", "Invalid type for 'item.output': expected a string.", "item.output"}, event_id);
    }
  }

  // InstructionsAppendEvent, ThinkingAppendEvent, CommentaryAppendEvent: content (a plain string, at most 500
  // tokens: ~4 bytes a token here) and delegation_id (required, nullable; null only with a Responses delegation),
  // acknowledged on the session timeline by the matching *.appended event.
  void on_context_append(const json& event, const std::string& type, const std::string& event_id) {
    static const std::set<std::string> kKeys{"type", "content", "delegation_id", "event_id"};
    if (auto e = unknown_key(event, kKeys, type)) return send_error(*e, event_id);
    if (!event.contains("content") || !event["content"].is_string())
      return send_error({"invalid_type", "Invalid type for 'content': expected a string.", "content"}, event_id);
    if (event["content"].get_ref<const std::string&>().size() > 2000)
      return send_error({"string_above_max_length", "'content' is limited to 500 tokens.", "content"}, event_id);
    if (!event.contains("delegation_id"))
      return send_error({"missing_required_parameter", "Missing required parameter: 'delegation_id'.",
                         "delegation_id"}, event_id);
    if (!event["delegation_id"].is_null())
      return send_error({"invalid_value", "Non-null delegation_id is not accepted with Responses delegation.",
                         "delegation_id"}, event_id);
    const std::string appended = type.substr(0, type.size() - std::string("append").size()) + "appended";
    json ack{{"type", appended}, {"start_ms", input_ms()}, {"end_ms", input_ms()}};
    if (!event_id.empty()) ack["client_event_id"] = event_id;
    send(std::move(ack));
  }

  void close_with(const std::string& reason) {
    json closed{{"type", "session.closed"}, {"reason", reason}, {"session", session_},
                {"usage", {{"seconds", usage_seconds()}}}};
    closed["session"]["id"] = "live_sess";
    closed["session"]["status"] = "active";
    closed["session"]["expires_at"] = 4102444800;
    send(std::move(closed));
    // session.closed goes out first, then a normal WebSocket close (WsConnection::close waits for the queue).
    ws_->close();
    open_ = false;
  }

  double usage_seconds() const { return input_ms() / 1000.0 + static_cast<double>(output_ms_) / 1000.0; }

  // ---- the script
  awaitable<bool> wait_until(std::function<bool()> ready, std::chrono::milliseconds timeout, const std::string& what) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!ready()) {
      if (!open_) co_return false;
      if (std::chrono::steady_clock::now() >= deadline) {
        fail("timed out waiting for " + what);
        co_return false;
      }
      notify_.expires_at(deadline);
      beast::error_code ec;
      co_await notify_.async_wait(asio::redirect_error(use_awaitable, ec));
    }
    co_return true;
  }

  awaitable<void> sleep(int ms) {
    sleep_.expires_after(std::chrono::milliseconds(ms));
    beast::error_code ec;
    co_await sleep_.async_wait(asio::redirect_error(use_awaitable, ec));
  }

  void fail(const std::string& why) {
    std::lock_guard lock(server_->mutex);
    if (server_->failure.empty()) server_->failure = why;
  }

  std::size_t count_of(const std::string& type) {
    std::lock_guard lock(server_->mutex);
    return static_cast<std::size_t>(std::count_if(server_->events.begin(), server_->events.end(),
                                                  [&](const json& e) { return e.value("type", "") == type; }));
  }

  static awaitable<void> play(std::shared_ptr<Connection> self) {
    try {
      const std::string first = "session.start";
      if (!co_await self->wait_until([&] { return self->started_; }, std::chrono::seconds(10), first)) co_return;
      for (const auto& s : self->script_.steps) {
        if (!self->open_) co_return;
        if (!co_await self->run_step(s)) co_return;
      }
      std::lock_guard lock(self->server_->mutex);
      self->server_->finished = true;
    } catch (const std::exception& e) {
      self->fail(std::string("the script threw: ") + e.what());
    }
  }

  awaitable<bool> run_step(const ScriptStep& s) {
    using K = ScriptStep::Kind;
    switch (s.kind) {
      case K::wait_for: {
        const std::size_t want = ++consumed_[s.text];
        co_return co_await wait_until([&] { return count_of(s.text) >= want; }, std::chrono::milliseconds(s.timeout_ms),
                                      s.text);
      }
      case K::delay:
        co_await sleep(s.ms);
        co_return open_;
      case K::callee_says:
        co_return co_await callee_says(s.text, s.ms) && open_;
      case K::agent_says:
        co_return co_await agent_says(s);
      case K::function_call:
        function_call(s.text, s.arguments);
        co_return open_;
      case K::send_error:
        send({{"type", "error"}, {"error", {{"type", "server_error"}, {"code", s.code}, {"message", s.text}}}});
        co_return open_;
      case K::send_raw:
        send_raw(s.text);
        co_return open_;
      case K::drop:
        co_await sleep(20);
        drop();
        co_return false;
      case K::close_session:
        close_with(s.text);
        co_await sleep(100);
        co_return false;
    }
    co_return false;
  }

  // The callee's words, one delta per word spread over the speech, placed on the session timeline where the audio
  // received so far says "now" is.
  awaitable<bool> callee_says(const std::string& text, int speech_ms) {
    if (const auto& heard = server_->options.callee_heard_the_agent) {
      // Client events (the callee audio's appends every 20 ms) wake the wait to look again.
      if (!co_await wait_until([&] { return heard(); }, std::chrono::seconds(10), "the callee to hear the agent"))
        co_return false;
    }
    const auto words = words_of(text);
    const int per_word = std::max(1, speech_ms / std::max<int>(1, static_cast<int>(words.size())));
    int start = std::max(input_ms(), last_end_ms_);
    for (const auto& w : words) {
      co_await sleep(per_word);
      if (!open_) co_return false;
      const int end = std::max(start + per_word, input_ms());
      send({{"type", "session.input_transcript.delta"}, {"delta", w}, {"start_ms", start}, {"end_ms", end}});
      start = end;
      last_end_ms_ = end;
    }
    co_return true;
  }

  void send_delta(int ms, bool late) {
    const auto audio = tone_.make(pcmu_, rate_, ms);
    std::string b64 = base64::encode(audio);
    {
      std::lock_guard lock(server_->mutex);
      server_->agent_audio += audio.size();
      if (late) server_->late_audio += audio.size();
    }
    output_ms_ += ms;
    // As the primary WebSocket sends it: type and delta only (no start_ms/end_ms).
    send({{"type", "session.output_audio.delta"}, {"delta", std::move(b64)}}, audio.size());
  }

  awaitable<bool> agent_says(const ScriptStep& s) {
    const int delta_ms = std::max(1, script_.delta_ms);
    const int audible = s.barge_in ? std::min(s.barge_in->after_audio_ms, s.ms) : s.ms;
    const auto words = words_of(s.text);
    const std::size_t words_heard =
        s.barge_in ? words.size() * static_cast<std::size_t>(audible) / static_cast<std::size_t>(std::max(1, s.ms))
                   : words.size();
    int sent = 0;
    std::size_t word = 0;
    const int base = output_ms_;
    while (sent < audible) {
      const int n = std::min(delta_ms, audible - sent);
      send_delta(n, false);
      sent += n;
      // The transcript runs alongside the audio it belongs to.
      const std::size_t due = std::min(words_heard, words.size() * static_cast<std::size_t>(sent) /
                                                        static_cast<std::size_t>(std::max(1, s.ms)) + 1);
      for (; word < due; ++word)
        send({{"type", "session.output_transcript.delta"}, {"delta", words[word]}, {"start_ms", base + sent - n},
              {"end_ms", base + sent}});
    }
    for (; !s.barge_in && word < words.size(); ++word)
      send({{"type", "session.output_transcript.delta"}, {"delta", words[word]}, {"start_ms", base + sent},
            {"end_ms", base + sent}});
    if (s.barge_in) {
      const auto& b = *s.barge_in;
      co_await sleep(b.wait_ms);
      if (!open_) co_return false;
      const int start = std::max(input_ms(), last_end_ms_);
      const auto callee = words_of(b.callee_text);
      send({{"type", "session.input_transcript.delta"}, {"delta", callee.empty() ? std::string() : callee[0]},
            {"start_ms", start}, {"end_ms", start + 150}});
      for (int i = 0; i < b.late_deltas; ++i) send_delta(delta_ms, true);
      int at = start + 150;
      for (std::size_t i = 1; i < callee.size(); ++i) {
        co_await sleep(120);
        if (!open_) co_return false;
        send({{"type", "session.input_transcript.delta"}, {"delta", callee[i]}, {"start_ms", at}, {"end_ms", at + 120}});
        at += 120;
      }
      last_end_ms_ = at;
    }
    send({{"type", "session.usage.updated"}, {"usage", {{"seconds", usage_seconds()}}}});
    co_return open_;
  }

  // A tool call as a Responses delegation reports it: the delegation, then the nested Responses stream.
  void function_call(const std::string& name, const std::string& arguments) {
    const std::string delegation = server_->next_id("deleg");
    const std::string response = server_->next_id("resp");
    const std::string item = server_->next_id("fc");
    const std::string call = server_->next_id("call");
    calls_.insert(call);
    int seq = 0;
    send({{"type", "session.delegation.created"},
          {"delegation", {{"id", delegation}, {"target", "responses"}, {"type", "delegation"}, {"response_id", response}}},
          {"offset_ms", input_ms()}});
    auto nested = [&](json event) {
      event["sequence_number"] = seq++;
      send({{"type", "response.event"}, {"delegation_id", delegation}, {"event", std::move(event)}});
    };
    nested({{"type", "response.created"}, {"response", {{"id", response}, {"object", "response"}, {"status", "in_progress"}}}});
    json fc{{"id", item}, {"type", "function_call"}, {"status", "in_progress"}, {"name", name}, {"call_id", call},
            {"arguments", ""}};
    nested({{"type", "response.output_item.added"}, {"output_index", 0}, {"item", fc}});
    nested({{"type", "response.function_call_arguments.delta"}, {"item_id", item}, {"output_index", 0}, {"delta", arguments}});
    nested({{"type", "response.function_call_arguments.done"}, {"item_id", item}, {"output_index", 0}, {"name", name},
            {"arguments", arguments}});
    fc["status"] = "completed";
    fc["arguments"] = arguments;
    nested({{"type", "response.output_item.done"}, {"output_index", 0}, {"item", fc}});
    nested({{"type", "response.completed"},
            {"response", {{"id", response}, {"object", "response"}, {"status", "completed"},
                          {"usage", {{"input_tokens", 220}, {"output_tokens", 20}, {"total_tokens", 240}}}}}});
  }

  std::shared_ptr<FakeLiveServer::Impl> server_;
  std::shared_ptr<WsConnection> ws_;
  FakeScript script_;
  asio::steady_timer notify_;
  asio::steady_timer sleep_;
  bool open_ = true;
  bool start_seen_ = false;
  bool started_ = false;
  bool pcmu_ = false;
  int rate_ = 24000;
  std::size_t bytes_per_second_ = 48000;
  std::size_t input_bytes_ = 0;
  int output_ms_ = 0;
  int last_end_ms_ = 0;
  json session_ = json::object();
  std::map<std::string, std::size_t> consumed_;
  std::set<std::string> calls_;
  ToneGenerator tone_;
};

std::pair<int, json> check_upgrade(const UpgradeRequest& request, const std::string& api_key) {
  const std::string& target = request.target;
  if (!request.is_websocket_upgrade || target.substr(0, target.find('?')) != "/v1/live/sessions")
    return {404, {{"message", "Not found: " + target}, {"type", "invalid_request_error"}, {"code", nullptr}}};
  if (request.header("authorization").value_or("") != "Bearer " + api_key)
    return {401,
            {{"message", "Incorrect API key provided. You can find your API key at "
                         "https://platform.openai.com/account/api-keys."},
             {"type", "invalid_request_error"}, {"code", "invalid_api_key"}, {"param", nullptr}}};
  if (target.find('?') != std::string::npos)
    return {400,
            {{"message", "GPT-Live sessions take no query parameters; put the model in session.start."},
             {"type", "invalid_request_error"}, {"code", "unknown_parameter"}, {"param", nullptr}}};
  return {101, json()};
}
}  // namespace

void FakeLiveServer::Impl::start() {
  script = options.script;
  WsServerOptions o;
  o.tls = options.tls;
  o.port = options.port;
  // Both callbacks run on the server's loop thread; `this` outlives the server (stop() destroys it first).
  o.judge_upgrade = [this](const UpgradeRequest& request) {
    {
      std::lock_guard lock(mutex);
      for (const auto& [name, value] : request.headers) headers[name].push_back(value);
      if (!request.header("authorization")) headers["authorization"].push_back("");
    }
    const auto [status, error] = check_upgrade(request, options.api_key);
    if (status == 101) return UpgradeVerdict::accept();
    std::lock_guard lock(mutex);
    ++refused;
    return UpgradeVerdict{status, json{{"error", error}}.dump()};
  };
  o.accept = [this](std::shared_ptr<WsConnection> ws) -> std::shared_ptr<WsHandler> {
    FakeScript copy;
    {
      std::lock_guard lock(mutex);
      ++accepted;
      copy = script;
    }
    auto connection = std::make_shared<Connection>(shared_from_this(), std::move(ws), std::move(copy));
    connection->start();
    return connection;
  };
  server = std::make_unique<WsServer>(std::move(o));
}

FakeLiveServer::FakeLiveServer(FakeLiveOptions options) : impl_(std::make_shared<Impl>()) {
  impl_->options = std::move(options);
  impl_->start();
}
FakeLiveServer::~FakeLiveServer() { impl_->stop(); }
std::uint16_t FakeLiveServer::port() const { return impl_->server->port(); }
std::string FakeLiveServer::url(const std::string& tls_host) const {
  if (impl_->options.tls) return "wss://" + tls_host + ":" + std::to_string(impl_->server->port()) + "/v1/live/sessions";
  return "ws://127.0.0.1:" + std::to_string(impl_->server->port()) + "/v1/live/sessions";
}
void FakeLiveServer::set_script(FakeScript script) {
  std::lock_guard lock(impl_->mutex);
  impl_->script = std::move(script);
}
std::vector<json> FakeLiveServer::client_events(const std::string& type) const {
  std::lock_guard lock(impl_->mutex);
  std::vector<json> out;
  for (const auto& e : impl_->events)
    if (type.empty() || e.value("type", "") == type) out.push_back(e);
  return out;
}
std::vector<std::string> FakeLiveServer::client_event_types() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<std::string> out;
  for (const auto& e : impl_->events) out.push_back(e.value("type", ""));
  return out;
}
std::vector<json> FakeLiveServer::server_events() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->sent;
}
std::size_t FakeLiveServer::audio_bytes_received() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->audio_bytes;
}
std::vector<json> FakeLiveServer::errors_sent() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->errors;
}
std::vector<std::string> FakeLiveServer::upgrade_headers(const std::string& name) const {
  std::lock_guard lock(impl_->mutex);
  const auto it = impl_->headers.find(name);
  return it == impl_->headers.end() ? std::vector<std::string>{} : it->second;
}
int FakeLiveServer::connections() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->accepted;
}
int FakeLiveServer::upgrades_refused() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->refused;
}
std::size_t FakeLiveServer::agent_audio_bytes_sent() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->agent_audio;
}
std::size_t FakeLiveServer::late_audio_bytes_sent() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->late_audio;
}
std::optional<json> FakeLiveServer::session() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->session;
}
bool FakeLiveServer::script_finished() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->finished;
}
std::string FakeLiveServer::script_failure() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->failure;
}

}  // namespace concierge::fakes::live
