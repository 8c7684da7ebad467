#include "concierge_fakes/fake_openai_server.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "concierge/base64.hpp"
#include "concierge/mulaw.hpp"
#include "concierge/net/asio.hpp"
#include "concierge_fakes/ws_server.hpp"

// Boost 1.74's coroutine frames come from a recycling allocator whose operator delete GCC 12 cannot pair with its
// operator new (-Wmismatched-new-delete at the end of a coroutine): the same false positive host/src/http_server.cpp
// documents.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace concierge::fakes {

using namespace concierge::net;
using nlohmann::json;
using asio::awaitable;
using asio::use_awaitable;

namespace step {
ScriptStep wait_for(std::string event_type, int timeout_ms) {
  ScriptStep s;
  s.kind = ScriptStep::Kind::wait_for;
  s.text = std::move(event_type);
  s.timeout_ms = timeout_ms;
  return s;
}
ScriptStep wait_for_note(std::string containing, int timeout_ms) {
  ScriptStep s;
  s.kind = ScriptStep::Kind::wait_for_note;
  s.text = std::move(containing);
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
  s.kind = ScriptStep::Kind::drop_connection;
  return s;
}
ScriptStep close(int code, std::string reason) {
  ScriptStep s;
  s.kind = ScriptStep::Kind::close;
  s.ms = code;
  s.text = std::move(reason);
  return s;
}
}  // namespace step

FakeScript restaurant_script(const std::string& confirmation_number, const json& reservation) {
  FakeScript script;
  json confirm = reservation;
  confirm["confirmation_number"] = confirmation_number;
  // Each agent reply arrives at once, faster than real time; the restaurant answers once it has heard all of it.
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
      step::wait_for("conversation.item.create"),
      step::wait_for("response.create"),
      step::agent_says("Wonderful, thank you so much. Goodbye!", 1500),
      step::function_call("end_call", json{{"reason", "confirmed"},
                                           {"summary", "Booked, confirmation " + confirmation_number}}
                                          .dump()),
      step::wait_for("conversation.item.create"),
  };
  return script;
}

FakeScript phone_menu_script(const std::string& confirmation_number, const json& reservation) {
  const FakeScript booking = restaurant_script(confirmation_number, reservation);
  FakeScript script;
  script.steps = {
      step::callee_says("Thank you for calling Demo Restaurant. For reservations, press 1. For our opening hours, "
                        "press 2.",
                        900),
      step::function_call("press_keys", json{{"keys", "1"}}.dump()),
      step::wait_for("conversation.item.create"),  // the tool's output: pressed
      step::wait_for("response.create"),
      step::delay(500),  // the tones play on the line (80 ms on, 80 ms off), then the menu connects
  };
  script.steps.insert(script.steps.end(), booking.steps.begin(), booking.steps.end());
  return script;
}

FakeScript voicemail_script(const std::string& message, int note_timeout_ms) {
  FakeScript script;
  script.steps = {
      step::callee_says("Hi, you've reached Demo Restaurant. We can't take your call right now. Please leave a "
                        "message after the tone.",
                        1500),
      step::wait_for_note("voicemail_message from the data now", note_timeout_ms),
      step::agent_says(message, 1500),
      step::function_call("end_call", json{{"reason", "voicemail_left"}, {"summary", "Left a message."}}.dump()),
      step::wait_for("conversation.item.create"),
  };
  return script;
}

FakeScript person_answers_script(const std::string& confirmation_number, const json& reservation) {
  FakeScript booking = restaurant_script(confirmation_number, reservation);
  // After the person's greeting: the host's note from Twilio's verdict, then the booking as usual.
  booking.steps.insert(booking.steps.begin() + 1, step::wait_for_note("a person answered", 10000));
  return booking;
}

namespace {

constexpr std::array<std::string_view, 10> kVoices{"alloy", "ash",     "ballad", "coral", "echo",
                                                   "sage",  "shimmer", "verse",  "marin", "cedar"};
// Keys of the beta session shape that the GA session.update refuses.
constexpr std::array<std::string_view, 9> kBetaSessionKeys{
    "modalities",    "input_audio_format", "output_audio_format", "input_audio_transcription", "turn_detection",
    "voice",         "temperature",        "max_response_output_tokens", "input_audio_noise_reduction"};
constexpr std::array<std::string_view, 13> kGaSessionKeys{
    "type",  "model",       "instructions", "output_modalities", "audio",   "tools",  "tool_choice",
    "max_output_tokens", "tracing", "truncation", "prompt", "include", "reasoning"};
constexpr std::array<std::string_view, 12> kClientEventTypes{
    "session.update",          "input_audio_buffer.append", "input_audio_buffer.commit",
    "input_audio_buffer.clear", "conversation.item.create",  "conversation.item.retrieve",
    "conversation.item.truncate", "conversation.item.delete", "response.create",
    "response.cancel",          "output_audio_buffer.clear", "transcription_session.update"};

template <std::size_t N>
bool one_of(const std::array<std::string_view, N>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

struct ClientError {
  std::string code;
  std::string message;
  std::string param;
};

// The agent's "speech": a 440 Hz tone in the session's format, so a test can compare bytes end to end.
struct ToneGenerator {
  double phase = 0;
  std::vector<std::uint8_t> make(bool pcmu, int ms) {
    const int rate = pcmu ? 8000 : 24000;
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

}  // namespace

// ---------------------------------------------------------------------------------------------------------------

struct FakeOpenAIServer::Impl : std::enable_shared_from_this<FakeOpenAIServer::Impl> {
  FakeOpenAIOptions options;
  std::unique_ptr<WsServer> server;  // the listener and its loop thread (tests/fakes/ws-server)
  std::atomic<long> ids{0};

  mutable std::mutex mutex;  // guards everything below (read by the test thread)
  FakeScript script;
  std::vector<json> events;
  std::size_t audio_bytes = 0;
  std::vector<json> errors;
  std::map<std::string, std::vector<std::string>> headers;
  int accepted = 0;
  int refused = 0;
  std::vector<std::uint8_t> agent_audio;
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

// One WebSocket session: the script player and the judge of client events (reading and writing are the shared
// server's, tests/fakes/ws-server).
class Connection final : public WsHandler, public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<FakeOpenAIServer::Impl> server, std::shared_ptr<WsConnection> ws, FakeScript script)
      : server_(std::move(server)),
        ws_(std::move(ws)),
        script_(std::move(script)),
        notify_(ws_->io()),
        sleep_(ws_->io()) {}

  void start() {
    auto self = shared_from_this();
    send({{"type", "session.created"},
          {"session",
           {{"type", "realtime"},
            {"object", "realtime.session"},
            {"id", server_->next_id("sess")},
            {"model", "gpt-realtime"},
            {"output_modalities", {"audio"}},
            {"instructions", "Your knowledge cutoff is 2023-10."},
            {"audio",
             {{"input", {{"format", {{"type", "audio/pcm"}, {"rate", 24000}}}, {"turn_detection", nullptr}}},
              {"output", {{"format", {{"type", "audio/pcm"}, {"rate", 24000}}}, {"voice", "alloy"}}}}}}}});
    asio::co_spawn(ws_->io(), play(self), asio::detached);
  }

  void drop() {
    open_ = false;
    ws_->drop();
    notify_.cancel();
    sleep_.cancel();
  }

 private:
  // ---- writing
  void send(json event) {
    if (!open_) return;
    if (!event.contains("event_id")) event["event_id"] = server_->next_id("event");
    if (event["type"] == "error") {
      std::lock_guard lock(server_->mutex);
      server_->errors.push_back(event);
    }
    ws_->send(event.dump());
  }
  void send_raw(std::string text) {
    if (!open_) return;
    ws_->send(std::move(text));
  }
  void send_error(const ClientError& e, const std::string& client_event_id) {
    json error{{"type", "invalid_request_error"},
               {"code", e.code},
               {"message", e.message},
               {"param", e.param.empty() ? json(nullptr) : json(e.param)},
               {"event_id", client_event_id.empty() ? json(nullptr) : json(client_event_id)}};
    send({{"type", "error"}, {"error", error}});
  }

  // ---- reading (the server's read loop calls these)
  void on_text(std::string_view text) override {
    try {
      on_client_text(std::string(text));
    } catch (const std::exception& e) {  // a field of an unexpected type: answer as OpenAI would
      send_error({"invalid_type", std::string("Invalid event: ") + e.what(), ""}, "");
    }
  }

  void on_closed() override {
    open_ = false;
    notify_.cancel();
    sleep_.cancel();
  }

  void on_client_text(const std::string& text) {
    json event = json::parse(text, nullptr, false);
    if (event.is_discarded() || !event.is_object()) {
      record(json{{"type", "<malformed>"}, {"text", text.substr(0, 200)}});
      return send_error({"invalid_json", "We could not parse the JSON body of your request.", ""}, "");
    }
    const std::string event_id = event.value("event_id", std::string());
    if (!event.contains("type") || !event["type"].is_string()) {
      record(event);
      return send_error({"missing_required_parameter", "Missing required parameter: 'type'.", "type"}, event_id);
    }
    const std::string type = event["type"].get<std::string>();
    if (type == "input_audio_buffer.append" && script_.echo_audio) return echo_append(event, event_id);
    if (type == "input_audio_buffer.append") {
      json summary{{"type", type}};
      const auto audio = event.find("audio");
      std::optional<std::string> bytes;
      if (audio != event.end() && audio->is_string()) bytes = base64::decode(audio->get<std::string>());
      summary["audio_bytes"] = bytes ? bytes->size() : 0;
      record(summary);
      if (!bytes) return send_error({"invalid_value", "Invalid 'audio'. Expected base64-encoded audio.", "audio"},
                                    event_id);
      std::lock_guard lock(server_->mutex);
      server_->audio_bytes += bytes->size();
      return;
    }
    record(event);
    if (!one_of(kClientEventTypes, type))
      return send_error({"invalid_value", "Invalid value: '" + type + "'. Supported values are: 'session.update', "
                                          "'input_audio_buffer.append', 'conversation.item.create', "
                                          "'conversation.item.truncate', 'response.create', 'response.cancel', ...",
                         "type"},
                        event_id);
    if (type == "session.update") return on_session_update(event, event_id);
    if (type == "conversation.item.truncate") return on_truncate(event, event_id);
    if (type == "response.cancel") return on_cancel(event, event_id);
    if (type == "conversation.item.create") return on_item_create(event, event_id);
    // response.create and the rest: recorded; the script decides what happens next.
  }

  // Echo mode: the append's audio goes straight back as an agent delta, in the same encoding and format (the client
  // asked for the same format both ways, as the plugin does). The base64 text is validated, then copied as is.
  void echo_append(const json& event, const std::string& event_id) {
    const auto audio = event.find("audio");
    std::optional<std::string> bytes;
    if (audio != event.end() && audio->is_string()) bytes = base64::decode(audio->get<std::string>());
    if (!bytes) {
      record(json{{"type", "input_audio_buffer.append"}, {"audio_bytes", 0}});
      return send_error({"invalid_value", "Invalid 'audio'. Expected base64-encoded audio.", "audio"}, event_id);
    }
    {
      std::lock_guard lock(server_->mutex);
      server_->audio_bytes += bytes->size();
    }
    if (!configured_) return;  // the real service would buffer it; nothing to answer before a session exists
    if (echo_response_.empty()) open_echo_response();
    // Not added to agent_audio_sent(): a benchmark run echoes hundreds of megabytes.
    // Built as text: at hundreds of calls a JSON tree per frame would make the fake, not the daemon, the bottleneck.
    std::string delta;
    delta.reserve(200 + audio->get_ref<const std::string&>().size());
    delta += R"({"type":"response.output_audio.delta","event_id":")";
    delta += server_->next_id("event");
    delta += R"(","response_id":")";
    delta += echo_response_;
    delta += R"(","item_id":")";
    delta += echo_item_;
    delta += R"(","output_index":0,"content_index":0,"delta":")";
    delta += audio->get_ref<const std::string&>();
    delta += R"("})";
    send_raw(std::move(delta));
  }

  // The one response and assistant item every echoed delta belongs to, announced as a real reply is.
  void open_echo_response() {
    echo_response_ = server_->next_id("resp");
    echo_item_ = server_->next_id("item");
    active_response_ = echo_response_;
    ++responses_;
    send({{"type", "response.created"},
          {"response", {{"id", echo_response_}, {"object", "realtime.response"}, {"status", "in_progress"},
                        {"output", json::array()}}}});
    const json message{{"id", echo_item_}, {"object", "realtime.item"}, {"type", "message"}, {"role", "assistant"},
                       {"status", "in_progress"}, {"content", json::array()}};
    send({{"type", "response.output_item.added"}, {"response_id", echo_response_}, {"output_index", 0},
          {"item", message}});
    send({{"type", "conversation.item.added"}, {"previous_item_id", nullptr}, {"item", message}});
    send({{"type", "response.content_part.added"}, {"response_id", echo_response_}, {"item_id", echo_item_},
          {"output_index", 0}, {"content_index", 0}, {"part", {{"type", "audio"}, {"transcript", ""}}}});
  }

  void record(json event) {
    {
      std::lock_guard lock(server_->mutex);
      server_->events.push_back(std::move(event));
    }
    ++received_;
    notify_.cancel();
  }

  std::optional<ClientError> check_format(const json& format, const std::string& where) {
    if (!format.is_object() || !format.contains("type") || !format["type"].is_string())
      return ClientError{"invalid_type", "Invalid type for '" + where + "': expected an object with a type.", where};
    const std::string t = format["type"];
    if (t == "audio/pcm") {
      if (format.contains("rate") && format["rate"] != 24000)
        return ClientError{"invalid_value", "Invalid value for '" + where + ".rate': only 24000 is supported.",
                           where + ".rate"};
      return std::nullopt;
    }
    if (t == "audio/pcmu" || t == "audio/pcma") return std::nullopt;
    return ClientError{"invalid_value",
                       "Invalid value: '" + t + "'. Supported values are: 'audio/pcm', 'audio/pcmu', and 'audio/pcma'.",
                       where + ".type"};
  }

  std::optional<ClientError> check_session(const json& s) {
    if (!s.is_object()) return ClientError{"invalid_type", "Invalid type for 'session': expected an object.", "session"};
    for (const auto& [key, value] : s.items()) {
      if (one_of(kBetaSessionKeys, key) || !one_of(kGaSessionKeys, key))
        return ClientError{"unknown_parameter", "Unknown parameter: 'session." + key + "'.", "session." + key};
    }
    if (!s.contains("type"))
      return ClientError{"missing_required_parameter", "Missing required parameter: 'session.type'.", "session.type"};
    if (s["type"] != "realtime")
      return ClientError{"invalid_value", "Invalid value for 'session.type': expected 'realtime'.", "session.type"};
    if (s.contains("output_modalities")) {
      const json& m = s["output_modalities"];
      if (!m.is_array() || m.size() != 1 || (m[0] != "audio" && m[0] != "text"))
        return ClientError{"invalid_value", "'session.output_modalities' must be [\"audio\"] or [\"text\"].",
                           "session.output_modalities"};
    }
    if (s.contains("audio")) {
      const json& a = s["audio"];
      if (!a.is_object()) return ClientError{"invalid_type", "Invalid type for 'session.audio'.", "session.audio"};
      if (a.contains("input")) {
        const json& in = a["input"];
        if (in.contains("format"))
          if (auto e = check_format(in["format"], "session.audio.input.format")) return e;
        if (in.contains("turn_detection") && !in["turn_detection"].is_null()) {
          const json& td = in["turn_detection"];
          const std::string t = td.value("type", std::string());
          if (t != "server_vad" && t != "semantic_vad")
            return ClientError{"invalid_value", "Invalid value for 'session.audio.input.turn_detection.type'.",
                               "session.audio.input.turn_detection.type"};
          if (t == "semantic_vad" && (td.contains("threshold") || td.contains("silence_duration_ms")))
            return ClientError{"unknown_parameter", "Unknown parameter for semantic_vad.",
                               "session.audio.input.turn_detection"};
        }
        if (in.contains("transcription") && !in["transcription"].is_null() &&
            !(in["transcription"].is_object() && in["transcription"].contains("model")))
          return ClientError{"missing_required_parameter", "Missing 'model' in transcription.",
                             "session.audio.input.transcription.model"};
      }
      if (a.contains("output")) {
        const json& out = a["output"];
        if (out.contains("format"))
          if (auto e = check_format(out["format"], "session.audio.output.format")) return e;
        if (out.contains("voice") && (!out["voice"].is_string() || !one_of(kVoices, out["voice"].get<std::string>())))
          return ClientError{"invalid_value", "Invalid value for 'session.audio.output.voice'.",
                             "session.audio.output.voice"};
      }
    }
    if (s.contains("tools")) {
      if (!s["tools"].is_array()) return ClientError{"invalid_type", "'session.tools' must be an array.", "session.tools"};
      for (const auto& tool : s["tools"]) {
        if (tool.value("type", std::string()) != "function" || !tool.contains("name") || !tool["name"].is_string())
          return ClientError{"invalid_value", "Each tool needs type 'function' and a name.", "session.tools"};
        if (tool.contains("parameters") && !tool["parameters"].is_object())
          return ClientError{"invalid_type", "Tool parameters must be a JSON Schema object.", "session.tools"};
      }
    }
    return std::nullopt;
  }

  void on_session_update(const json& event, const std::string& event_id) {
    if (!event.contains("session"))
      return send_error({"missing_required_parameter", "Missing required parameter: 'session'.", "session"}, event_id);
    if (auto e = check_session(event["session"])) return send_error(*e, event_id);
    session_.merge_patch(event["session"]);
    if (session_.contains("audio") && session_["audio"].contains("output") &&
        session_["audio"]["output"].contains("format"))
      pcmu_ = session_["audio"]["output"]["format"].value("type", std::string()) == "audio/pcmu";
    configured_ = true;
    {
      std::lock_guard lock(server_->mutex);
      server_->session = session_;
    }
    send({{"type", "session.updated"}, {"session", session_}});
    notify_.cancel();
  }

  void on_truncate(const json& event, const std::string& event_id) {
    const std::string item = event.value("item_id", std::string());
    const auto found = item_audio_ms_.find(item);
    if (found == item_audio_ms_.end())
      return send_error({"invalid_value", "Item with item_id '" + item + "' not found or is not an assistant message.",
                         "item_id"},
                        event_id);
    if (!event.contains("content_index") || event["content_index"] != 0)
      return send_error({"invalid_value", "content_index must be 0.", "content_index"}, event_id);
    if (!event.contains("audio_end_ms") || !event["audio_end_ms"].is_number_integer() || event["audio_end_ms"] < 0)
      return send_error({"invalid_value", "audio_end_ms must be a non-negative integer.", "audio_end_ms"}, event_id);
    const int end = event["audio_end_ms"];
    if (end > found->second)
      return send_error({"invalid_value",
                         "Audio content of " + std::to_string(found->second) + "ms is already shorter than " +
                             std::to_string(end) + "ms",
                         "audio_end_ms"},
                        event_id);
    send({{"type", "conversation.item.truncated"}, {"item_id", item}, {"content_index", 0}, {"audio_end_ms", end}});
  }

  void on_cancel(const json& event, const std::string& event_id) {
    if (active_response_.empty())
      return send_error({"response_cancel_not_active", "Cancellation failed: no active response found.", ""},
                        event_id);
    cancel_requested_ = true;
    notify_.cancel();
  }

  void on_item_create(const json& event, const std::string& event_id) {
    if (!event.contains("item") || !event["item"].is_object())
      return send_error({"missing_required_parameter", "Missing required parameter: 'item'.", "item"}, event_id);
    const json& item = event["item"];
    if (item.value("type", std::string()) == "function_call_output") {
      const std::string call = item.value("call_id", std::string());
      if (!calls_.count(call))
        return send_error({"invalid_value", "No function call with call_id '" + call + "' found.", "item.call_id"},
                          event_id);
      if (!item.contains("output") || !item["output"].is_string())
        return send_error({"invalid_type", "Invalid type for 'item.output': expected a string.", "item.output"},
                          event_id);
    }
    if (item.value("type", std::string()) == "message") {
      // A text message the client adds (a system note): a known role, and content parts of input_text with text.
      const std::string role = item.value("role", std::string());
      if (role != "system" && role != "user" && role != "assistant")
        return send_error({"invalid_value", "Invalid value: '" + role + "'. Supported values are: 'system', 'user', "
                           "and 'assistant'.", "item.role"}, event_id);
      const bool parts_ok = item.contains("content") && item["content"].is_array() && !item["content"].empty() &&
                            std::all_of(item["content"].begin(), item["content"].end(), [](const json& part) {
                              return part.is_object() && part.value("type", std::string()) == "input_text" &&
                                     part.contains("text") && part["text"].is_string();
                            });
      if (!parts_ok)
        return send_error({"invalid_value", "Invalid 'item.content': expected input_text parts with text.",
                           "item.content"}, event_id);
    }
    const std::string id = server_->next_id("item");
    json added = item;
    added["id"] = id;
    added["object"] = "realtime.item";
    send({{"type", "conversation.item.added"}, {"item", added}});
    send({{"type", "conversation.item.done"}, {"item", added}});
  }

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

  // System messages the client added (the host's notes of line events) that contain `text`.
  std::size_t notes_containing(const std::string& text) {
    std::lock_guard lock(server_->mutex);
    return static_cast<std::size_t>(std::count_if(server_->events.begin(), server_->events.end(), [&](const json& e) {
      if (e.value("type", "") != "conversation.item.create" || !e.contains("item")) return false;
      const json& item = e["item"];
      if (item.value("type", "") != "message" || item.value("role", "") != "system" || !item.contains("content"))
        return false;
      for (const auto& part : item["content"])
        if (part.is_object() && part.value("text", "").find(text) != std::string::npos) return true;
      return false;
    }));
  }

  std::size_t count_of(const std::string& type) {
    std::lock_guard lock(server_->mutex);
    return static_cast<std::size_t>(std::count_if(server_->events.begin(), server_->events.end(),
                                                  [&](const json& e) { return e.value("type", "") == type; }));
  }

  static awaitable<void> play(std::shared_ptr<Connection> self) {
    try {
      const std::string first_event = "session.update";
      if (!co_await self->wait_until([&] { return self->configured_; }, std::chrono::seconds(10), first_event))
        co_return;
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
      case K::wait_for_note: {
        const std::size_t want = ++consumed_["note: " + s.text];
        ++consumed_["conversation.item.create"];  // the note is an item too: a later wait_for does not count it
        co_return co_await wait_until([&] { return notes_containing(s.text) >= want; },
                                      std::chrono::milliseconds(s.timeout_ms), "a system message with \"" + s.text + "\"");
      }
      case K::delay:
        co_await sleep(s.ms);
        co_return open_;
      case K::callee_says:
        co_await callee_says(s.text, s.ms);
        co_return open_;
      case K::agent_says:
        co_return co_await agent_says(s);
      case K::function_call:
        function_call(s.text, s.arguments);
        co_return open_;
      case K::send_error:
        send({{"type", "error"},
              {"error", {{"type", "invalid_request_error"}, {"code", s.code}, {"message", s.text}, {"param", nullptr},
                         {"event_id", nullptr}}}});
        co_return open_;
      case K::send_raw:
        send_raw(s.text);
        co_return open_;
      case K::drop_connection:
        co_await sleep(20);  // let what was queued reach the client first
        drop();
        co_return false;
      case K::close:
        ws_->close(s.ms, s.text);  // after what is queued, as a server's close frame follows its last event
        open_ = false;
        co_return false;
    }
    co_return false;
  }

  awaitable<void> callee_says(const std::string& text, int speech_ms) {
    const std::string item = server_->next_id("item");
    const int start = input_ms_;
    send({{"type", "input_audio_buffer.speech_started"}, {"audio_start_ms", start}, {"item_id", item}});
    co_await sleep(speech_ms);
    input_ms_ += speech_ms;
    send({{"type", "input_audio_buffer.speech_stopped"}, {"audio_end_ms", input_ms_}, {"item_id", item}});
    send({{"type", "input_audio_buffer.committed"}, {"previous_item_id", nullptr}, {"item_id", item}});
    send({{"type", "conversation.item.input_audio_transcription.completed"},
          {"item_id", item},
          {"content_index", 0},
          {"transcript", text},
          {"usage", {{"type", "duration"}, {"seconds", speech_ms / 1000.0}}}});
  }

  json usage(int input_tokens, int output_tokens) const {
    return {{"total_tokens", input_tokens + output_tokens},
            {"input_tokens", input_tokens},
            {"output_tokens", output_tokens},
            {"input_token_details", {{"text_tokens", input_tokens / 2}, {"audio_tokens", input_tokens - input_tokens / 2},
                                     {"cached_tokens", 0}}},
            {"output_token_details", {{"text_tokens", output_tokens / 4}, {"audio_tokens", output_tokens - output_tokens / 4}}}};
  }

  void send_delta(const std::string& response, const std::string& item, int ms, bool late) {
    const auto audio = tone_.make(pcmu_, ms);
    {
      std::lock_guard lock(server_->mutex);
      server_->agent_audio.insert(server_->agent_audio.end(), audio.begin(), audio.end());
      if (late) server_->late_audio += audio.size();
    }
    item_audio_ms_[item] += ms;
    send({{"type", "response.output_audio.delta"},
          {"response_id", response},
          {"item_id", item},
          {"output_index", 0},
          {"content_index", 0},
          {"delta", base64::encode(std::span<const std::uint8_t>(audio))}});
  }

  awaitable<bool> agent_says(const ScriptStep& s) {
    const std::string response = server_->next_id("resp");
    const std::string item = server_->next_id("item");
    active_response_ = response;
    cancel_requested_ = false;
    ++responses_;
    send({{"type", "response.created"},
          {"response", {{"id", response}, {"object", "realtime.response"}, {"status", "in_progress"},
                        {"output", json::array()}}}});
    const json message{{"id", item}, {"object", "realtime.item"}, {"type", "message"}, {"role", "assistant"},
                       {"status", "in_progress"}, {"content", json::array()}};
    send({{"type", "response.output_item.added"}, {"response_id", response}, {"output_index", 0}, {"item", message}});
    send({{"type", "conversation.item.added"}, {"previous_item_id", nullptr}, {"item", message}});
    send({{"type", "response.content_part.added"}, {"response_id", response}, {"item_id", item}, {"output_index", 0},
          {"content_index", 0}, {"part", {{"type", "audio"}, {"transcript", ""}}}});

    const int delta_ms = std::max(1, script_.delta_ms);
    const int audible = s.barge_in ? std::min(s.barge_in->after_audio_ms, s.ms) : s.ms;
    int sent = 0;
    while (sent < audible) {
      const int n = std::min(delta_ms, audible - sent);
      send_delta(response, item, n, false);
      sent += n;
    }
    std::string status = "completed";
    std::string transcript = s.text;
    if (s.barge_in) {
      const auto& b = *s.barge_in;
      co_await sleep(b.wait_ms);
      if (!open_) co_return false;
      const std::string user_item = server_->next_id("item");
      send({{"type", "input_audio_buffer.speech_started"}, {"audio_start_ms", input_ms_}, {"item_id", user_item}});
      for (int i = 0; i < b.late_deltas && sent < s.ms + 100000; ++i) {
        send_delta(response, item, delta_ms, true);
        sent += delta_ms;
      }
      if (!script_.server_cancels_on_speech) {
        const std::string awaited = "response.cancel";
        co_await wait_until([&] { return cancel_requested_; }, std::chrono::seconds(3), awaited);
        if (!open_) co_return false;
      }
      status = "cancelled";
      transcript = transcript.substr(0, transcript.size() / 2);
      active_response_.clear();
      send({{"type", "response.output_audio.done"}, {"response_id", response}, {"item_id", item},
            {"output_index", 0}, {"content_index", 0}});
      send({{"type", "response.output_audio_transcript.done"}, {"response_id", response}, {"item_id", item},
            {"output_index", 0}, {"content_index", 0}, {"transcript", transcript}});
      send({{"type", "response.done"},
            {"response", {{"id", response}, {"object", "realtime.response"}, {"status", status},
                          {"status_details", {{"type", "cancelled"}, {"reason", "turn_detected"}}},
                          {"usage", usage(150 + responses_, sent / 50)}}}});
      co_await sleep(200);
      input_ms_ += 200;
      send({{"type", "input_audio_buffer.speech_stopped"}, {"audio_end_ms", input_ms_}, {"item_id", user_item}});
      send({{"type", "conversation.item.input_audio_transcription.completed"}, {"item_id", user_item},
            {"content_index", 0}, {"transcript", b.callee_text}});
      co_return open_;
    }
    active_response_.clear();
    send({{"type", "response.output_audio.done"}, {"response_id", response}, {"item_id", item}, {"output_index", 0},
          {"content_index", 0}});
    send({{"type", "response.output_audio_transcript.done"}, {"response_id", response}, {"item_id", item},
          {"output_index", 0}, {"content_index", 0}, {"transcript", transcript}});
    send({{"type", "response.content_part.done"}, {"response_id", response}, {"item_id", item}, {"output_index", 0},
          {"content_index", 0}, {"part", {{"type", "audio"}, {"transcript", transcript}}}});
    json done_item = message;
    done_item["status"] = "completed";
    send({{"type", "response.output_item.done"}, {"response_id", response}, {"output_index", 0}, {"item", done_item}});
    send({{"type", "response.done"},
          {"response", {{"id", response}, {"object", "realtime.response"}, {"status", status},
                        {"output", json::array({done_item})}, {"usage", usage(120 + responses_, sent / 50)}}}});
    co_return open_;
  }

  void function_call(const std::string& name, const std::string& arguments) {
    const std::string response = server_->next_id("resp");
    const std::string item = server_->next_id("item");
    const std::string call = server_->next_id("call");
    calls_.insert(call);
    ++responses_;
    send({{"type", "response.created"},
          {"response", {{"id", response}, {"object", "realtime.response"}, {"status", "in_progress"}}}});
    json fc{{"id", item}, {"object", "realtime.item"}, {"type", "function_call"}, {"status", "in_progress"},
            {"name", name}, {"call_id", call}, {"arguments", ""}};
    send({{"type", "response.output_item.added"}, {"response_id", response}, {"output_index", 0}, {"item", fc}});
    send({{"type", "response.function_call_arguments.delta"}, {"response_id", response}, {"item_id", item},
          {"output_index", 0}, {"call_id", call}, {"delta", arguments}});
    send({{"type", "response.function_call_arguments.done"}, {"response_id", response}, {"item_id", item},
          {"output_index", 0}, {"call_id", call}, {"name", name}, {"arguments", arguments}});
    fc["status"] = "completed";
    fc["arguments"] = arguments;
    send({{"type", "response.output_item.done"}, {"response_id", response}, {"output_index", 0}, {"item", fc}});
    send({{"type", "response.done"},
          {"response", {{"id", response}, {"object", "realtime.response"}, {"status", "completed"},
                        {"output", json::array({fc})}, {"usage", usage(200 + responses_, 20)}}}});
  }

  std::shared_ptr<FakeOpenAIServer::Impl> server_;
  std::shared_ptr<WsConnection> ws_;
  FakeScript script_;
  asio::steady_timer notify_;  // cancelled whenever something a waiting script step may want happens
  asio::steady_timer sleep_;
  bool open_ = true;
  bool configured_ = false;
  bool pcmu_ = false;
  json session_ = json::object();
  std::map<std::string, std::size_t> consumed_;
  std::size_t received_ = 0;
  std::map<std::string, int> item_audio_ms_;
  std::set<std::string> calls_;
  std::string active_response_;
  std::string echo_response_;  // echo mode: the response and item opened on the first append
  std::string echo_item_;
  bool cancel_requested_ = false;
  int input_ms_ = 0;
  int responses_ = 0;
  ToneGenerator tone_;
};

// Whether an upgrade request may become a Realtime session: ok, or the status and OpenAI-style error body.
std::pair<int, json> check_upgrade(const UpgradeRequest& request, const std::string& api_key) {
  const std::string& target = request.target;
  const std::string authorization = request.header("authorization").value_or("");
  if (!request.is_websocket_upgrade || !target.starts_with("/v1/realtime"))
    return {404,
            {{"message", "Not found: " + target}, {"type", "invalid_request_error"}, {"code", nullptr}}};
  if (authorization != "Bearer " + api_key)
    return {401,
            {{"message", "Incorrect API key provided. You can find your API key at "
                         "https://platform.openai.com/account/api-keys."},
             {"type", "invalid_request_error"},
             {"code", "invalid_api_key"},
             {"param", nullptr}}};
  if (request.header("openai-beta"))
    return {400,
            {{"message", "The OpenAI-Beta: realtime=v1 header selects the retired beta interface; the GA Realtime "
                         "API does not accept it."},
             {"type", "invalid_request_error"},
             {"code", "beta_api_shape_disabled"},
             {"param", nullptr}}};
  if (target.find("model=") == std::string::npos)
    return {400,
            {{"message", "Missing required parameter: 'model'."},
             {"type", "invalid_request_error"},
             {"code", "missing_required_parameter"},
             {"param", "model"}}};
  return {101, json()};
}
}  // namespace

void FakeOpenAIServer::Impl::start() {
  script = options.script;
  WsServerOptions o;
  o.tls = options.tls;
  o.port = options.port;
  // Both callbacks run on the server's loop thread; `this` outlives the server (stop() destroys it first).
  o.judge_upgrade = [this](const UpgradeRequest& request) {
    {
      std::lock_guard lock(mutex);
      for (const auto& [name, value] : request.headers) headers[name].push_back(value);
      // One entry per upgrade even when the header is absent, so a test can tell "absent" from "not asked".
      if (!request.header("authorization")) headers["authorization"].push_back("");
      if (!request.header("openai-beta")) headers["openai-beta"].push_back("");
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

// ---------------------------------------------------------------------------------------------------------------

FakeOpenAIServer::FakeOpenAIServer(FakeOpenAIOptions options) : impl_(std::make_shared<Impl>()) {
  impl_->options = std::move(options);
  impl_->start();
}

FakeOpenAIServer::~FakeOpenAIServer() { impl_->stop(); }

std::uint16_t FakeOpenAIServer::port() const { return impl_->server->port(); }

std::string FakeOpenAIServer::url(const std::string& tls_host) const {
  if (impl_->options.tls) return "wss://" + tls_host + ":" + std::to_string(impl_->server->port()) + "/v1/realtime";
  return "ws://127.0.0.1:" + std::to_string(impl_->server->port()) + "/v1/realtime";
}

void FakeOpenAIServer::set_script(FakeScript script) {
  std::lock_guard lock(impl_->mutex);
  impl_->script = std::move(script);
}

void FakeOpenAIServer::drop_connections() { impl_->server->drop_connections(); }

std::vector<json> FakeOpenAIServer::client_events(const std::string& type) const {
  std::lock_guard lock(impl_->mutex);
  std::vector<json> out;
  for (const auto& e : impl_->events)
    if (type.empty() || e.value("type", "") == type) out.push_back(e);
  return out;
}

std::vector<std::string> FakeOpenAIServer::client_event_types() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<std::string> out;
  for (const auto& e : impl_->events) out.push_back(e.value("type", ""));
  return out;
}

std::size_t FakeOpenAIServer::audio_bytes_received() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->audio_bytes;
}

std::vector<json> FakeOpenAIServer::errors_sent() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->errors;
}

std::vector<std::string> FakeOpenAIServer::upgrade_headers(const std::string& lower_case_name) const {
  std::lock_guard lock(impl_->mutex);
  const auto it = impl_->headers.find(lower_case_name);
  return it == impl_->headers.end() ? std::vector<std::string>{} : it->second;
}

int FakeOpenAIServer::connections() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->accepted;
}

int FakeOpenAIServer::upgrades_refused() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->refused;
}

std::vector<std::uint8_t> FakeOpenAIServer::agent_audio_sent() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->agent_audio;
}

std::size_t FakeOpenAIServer::late_audio_bytes_sent() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->late_audio;
}

std::optional<json> FakeOpenAIServer::session() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->session;
}

bool FakeOpenAIServer::script_finished() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->finished;
}

std::string FakeOpenAIServer::script_failure() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->failure;
}

}  // namespace concierge::fakes
