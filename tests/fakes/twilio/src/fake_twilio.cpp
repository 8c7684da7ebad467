#include "fake_twilio/fake_twilio.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "concierge/base64.hpp"
#include "concierge/dtmf.hpp"
#include "concierge/http.hpp"
#include "concierge/mulaw.hpp"
#include "concierge/net/asio.hpp"

namespace concierge::fake_twilio {
namespace {
using namespace concierge::net;
using boost::asio::awaitable;
using boost::asio::use_awaitable;
using Form = std::vector<std::pair<std::string, std::string>>;
using Clock = std::chrono::steady_clock;

std::string random_sid(const char* prefix) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string sid = prefix;
  for (int i = 0; i < 32; ++i) sid += kHex[rng() % 16];
  return sid;
}

std::string encode_form(const Form& form) {
  std::string body;
  for (const auto& [k, v] : form) body += (body.empty() ? "" : "&") + url_encode(k) + "=" + url_encode(v);
  return body;
}

std::string xml_unescape(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out += text[i];
      continue;
    }
    const auto semi = text.find(';', i);
    const std::string_view entity = text.substr(i, semi == std::string_view::npos ? 1 : semi - i + 1);
    if (entity == "&amp;") out += '&';
    else if (entity == "&lt;") out += '<';
    else if (entity == "&gt;") out += '>';
    else if (entity == "&quot;") out += '"';
    else if (entity == "&apos;") out += '\'';
    else { out += '&'; continue; }
    i = semi;
  }
  return out;
}

// The attribute `name` of the first `<tag ...>` at or after `from`.
std::optional<std::string> attribute(const std::string& xml, std::size_t tag_start, const std::string& name) {
  const auto tag_end = xml.find('>', tag_start);
  const auto at = xml.find(" " + name + "=\"", tag_start);
  if (at == std::string::npos || at > tag_end) return std::nullopt;
  const auto value_start = at + name.size() + 3;
  const auto value_end = xml.find('"', value_start);
  if (value_end == std::string::npos) return std::nullopt;
  return xml_unescape(std::string_view(xml).substr(value_start, value_end - value_start));
}

nlohmann::json twilio_error(int code, const std::string& message, int status) {
  return {{"code", code},
          {"message", message},
          {"more_info", "https://www.twilio.com/docs/errors/" + std::to_string(code)},
          {"status", status}};
}

struct PlaybackItem {
  std::size_t bytes = 0;  // agent audio still to play, or 0 for a mark
  std::string mark;
};

}  // namespace

struct FakeCall {
  CreatedCall created;
  std::string stream_sid = random_sid("MZ");
  Scenario scenario = Scenario::answer;
  bool hangup_requested = false;
  bool answered = false;
  bool ended = false;
  std::size_t media_frames = 0;
  std::deque<PlaybackItem> playback;
  std::vector<std::string> echo_now;  // marks to send back at the next tick (a clear dropped them)
  std::shared_ptr<websocket::stream<beast::tcp_stream>> ws;
  bool ws_closed = false;
  CallStats stats;  // guarded by State::mutex
};

struct FakeTwilio::State : std::enable_shared_from_this<FakeTwilio::State> {
  explicit State(FakeTwilioOptions o) : options(std::move(o)), acceptor(io) {}

  FakeTwilioOptions options;
  asio::io_context io;
  tcp::acceptor acceptor;
  std::thread thread;
  Clock::time_point started = Clock::now();
  std::atomic<std::uint16_t> daemon_port{0};
  std::atomic<int> signature_mode{0};

  mutable std::mutex mutex;  // records and call stats (read by the test thread)
  std::vector<Record> records;
  std::map<std::string, std::shared_ptr<FakeCall>> calls;  // io thread only
  // FakeTwilioOptions::hold_final_callbacks: a timer that never expires by itself, cancelled to wake the waiters.
  asio::steady_timer final_callbacks_gate{io, asio::steady_timer::time_point::max()};
  bool final_callbacks_released = false;  // io thread only

  void record(const std::string& sid, std::string kind, std::string detail) {
    std::lock_guard lock(mutex);
    records.push_back({Clock::now() - started, sid, std::move(kind), std::move(detail)});
  }
  template <class F>
  void update_stats(FakeCall& call, F&& f) {
    std::lock_guard lock(mutex);
    f(call.stats);
  }

  Clock::duration scaled(Clock::duration d) const {
    return std::chrono::duration_cast<Clock::duration>(d / options.speed);
  }

  awaitable<void> sleep(Clock::duration d) {
    asio::steady_timer timer(io, scaled(d));
    co_await timer.async_wait(use_awaitable);
  }

  std::optional<std::string> signature_for(const std::string& url, const Form& params,
                                           std::optional<SignatureMode> mode = std::nullopt) const {
    switch (mode.value_or(static_cast<SignatureMode>(signature_mode.load()))) {
      case SignatureMode::correct: return FakeTwilio::sign(options.auth_token, url, params);
      case SignatureMode::forged: return FakeTwilio::sign(options.auth_token + "-forged", url, params);
      case SignatureMode::missing: return std::nullopt;
    }
    return std::nullopt;
  }

  // "https://{public_domain}/path?q" -> "/path?q", or nullopt for a URL that is not the daemon's.
  std::optional<std::string> daemon_target(const std::string& url, const std::string& scheme) const {
    const std::string prefix = scheme + "://" + options.public_domain;
    if (url.rfind(prefix, 0) != 0) return std::nullopt;
    std::string rest = url.substr(prefix.size());
    if (rest.empty()) rest = "/";
    if (rest.front() != '/') return std::nullopt;
    return rest;
  }

  // A signed form POST to the daemon, as Twilio sends webhooks. Returns the status and body (status 0: no answer).
  awaitable<std::pair<int, std::string>> post_to_daemon(std::string url, Form form,
                                                        std::optional<SignatureMode> mode = std::nullopt) {
    auto target = daemon_target(url, "https");
    if (!target) co_return std::pair<int, std::string>{0, "not the daemon's URL: " + url};
    try {
      beast::tcp_stream stream(io);
      stream.expires_after(std::chrono::seconds(10));
      co_await stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), daemon_port.load()),
                                    use_awaitable);
      http::request<http::string_body> request{http::verb::post, *target, 11};
      request.set(http::field::host, options.public_domain);
      request.set(http::field::user_agent, "TwilioProxy/1.1");
      request.set(http::field::content_type, "application/x-www-form-urlencoded");
      if (auto signature = signature_for(url, form, mode)) request.set("X-Twilio-Signature", *signature);
      request.body() = encode_form(form);
      request.prepare_payload();
      co_await http::async_write(stream, request, use_awaitable);
      beast::flat_buffer buffer;
      http::response<http::string_body> response;
      co_await http::async_read(stream, buffer, response, use_awaitable);
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      co_return std::pair<int, std::string>{static_cast<int>(response.result_int()), response.body()};
    } catch (const std::exception& error) {
      co_return std::pair<int, std::string>{0, error.what()};
    }
  }

  Form webhook_form(const FakeCall& call, const std::string& status) const {
    return {{"AccountSid", options.account_sid}, {"ApiVersion", "2010-04-01"},
            {"CallSid", call.created.sid},       {"CallStatus", status},
            {"Direction", "outbound-api"},       {"From", call.created.field("From")},
            {"To", call.created.field("To")}};
  }

  // A status callback, if the create request asked for this event.
  awaitable<void> status_callback(FakeCall& call, const std::string& event, const std::string& status, Form extra = {}) {
    const std::string url = call.created.field("StatusCallback");
    const auto events = call.created.fields("StatusCallbackEvent");
    const bool wanted = event == "completed" ? true : std::find(events.begin(), events.end(), event) != events.end();
    if (url.empty() || !wanted) co_return;
    Form form = webhook_form(call, status);
    form.emplace_back("CallbackSource", "call-progress-events");
    for (auto& field : extra) form.push_back(std::move(field));
    auto [code, body] = co_await post_to_daemon(url, form);
    record(call.created.sid, "status", status + " -> " + std::to_string(code));
  }

  int media_seconds(const FakeCall& call) const { return static_cast<int>((call.media_frames * 20 + 999) / 1000); }

  awaitable<void> end_call(std::shared_ptr<FakeCall> call, std::string reason, std::string final_status = "completed") {
    if (call->ended) co_return;
    call->ended = true;
    update_stats(*call, [](CallStats& s) { s.ended = true; });
    record(call->created.sid, "call.end", reason);
    Form extra;
    if (final_status == "completed") extra.emplace_back("CallDuration", std::to_string(media_seconds(*call)));
    while (options.hold_final_callbacks && !final_callbacks_released) {
      beast::error_code woken;
      co_await final_callbacks_gate.async_wait(asio::redirect_error(use_awaitable, woken));
    }
    co_await status_callback(*call, "completed", final_status, std::move(extra));
  }

  // ---- a call, as Twilio runs it ---------------------------------------------------------------------------------
  awaitable<void> run_call(std::shared_ptr<FakeCall> call) {
    if (options.placing_delay) {
      asio::steady_timer timer(io, options.placing_delay(call->created));
      co_await timer.async_wait(use_awaitable);
    } else {
      co_await sleep(std::chrono::milliseconds(20));
    }
    co_await status_callback(*call, "initiated", "initiated");
    co_await sleep(options.ring_time / 3);
    co_await status_callback(*call, "ringing", "ringing");
    co_await sleep(options.ring_time * 2 / 3);
    if (call->hangup_requested) co_return co_await end_call(call, "canceled while ringing", "canceled");
    switch (call->scenario) {
      case Scenario::busy: co_return co_await end_call(call, "busy", "busy");
      case Scenario::no_answer: co_return co_await end_call(call, "no answer", "no-answer");
      case Scenario::failed: co_return co_await end_call(call, "failed", "failed");
      case Scenario::answer: break;
    }
    call->answered = true;
    co_await status_callback(*call, "answered", "in-progress");

    // The TwiML fetch.
    auto [status, twiml] = co_await post_to_daemon(call->created.field("Url"), webhook_form(*call, "in-progress"));
    record(call->created.sid, "twiml", std::to_string(status) + " " + twiml);
    if (status != 200) co_return co_await end_call(call, "TwiML fetch answered " + std::to_string(status));
    const auto stream_tag = twiml.find("<Stream");
    if (twiml.find("<Connect>") == std::string::npos || stream_tag == std::string::npos)
      co_return co_await end_call(call, "TwiML without <Connect><Stream>");
    const auto stream_url = attribute(twiml, stream_tag, "url");
    Form parameters;
    for (auto at = twiml.find("<Parameter", stream_tag); at != std::string::npos; at = twiml.find("<Parameter", at + 1)) {
      auto name = attribute(twiml, at, "name");
      auto value = attribute(twiml, at, "value");
      if (name && value) parameters.emplace_back(*name, *value);
    }
    if (!stream_url) co_return co_await end_call(call, "<Stream> without url");
    co_await run_media_stream(call, *stream_url, parameters);
    if (!call->ended) co_await end_call(call, call->hangup_requested ? "hung up via REST" : "media stream over");
  }

  // A call to the daemon's number (FakeTwilio::call_in).
  awaitable<void> run_inbound(std::shared_ptr<FakeCall> call, bool fetch_twiml) {
    const std::string sid = call->created.sid;
    std::string stream_url = "wss://" + options.public_domain + "/media-stream";
    Form parameters;
    if (fetch_twiml) {
      const Form form{{"AccountSid", options.account_sid}, {"ApiVersion", "2010-04-01"},
                      {"CallSid", sid},                    {"CallStatus", "ringing"},
                      {"Direction", "inbound"},            {"From", call->created.field("From")},
                      {"To", call->created.field("To")}};
      auto [status, twiml] = co_await post_to_daemon("https://" + options.public_domain + "/twiml", form);
      record(sid, "twiml", std::to_string(status) + " " + twiml);
      if (status != 200) co_return co_await end_call(call, "TwiML fetch answered " + std::to_string(status));
      const auto stream_tag = twiml.find("<Stream");
      if (twiml.find("<Connect>") == std::string::npos || stream_tag == std::string::npos)
        co_return co_await end_call(call, "TwiML without <Connect><Stream>");
      const auto url = attribute(twiml, stream_tag, "url");
      if (!url) co_return co_await end_call(call, "<Stream> without url");
      stream_url = *url;
      for (auto at = twiml.find("<Parameter", stream_tag); at != std::string::npos;
           at = twiml.find("<Parameter", at + 1)) {
        auto name = attribute(twiml, at, "name");
        auto value = attribute(twiml, at, "value");
        if (name && value) parameters.emplace_back(*name, *value);
      }
    }
    co_await run_media_stream(call, stream_url, parameters);
    if (!call->ended) co_await end_call(call, call->hangup_requested ? "hung up via REST" : "media stream over");
  }

  awaitable<void> run_media_stream(std::shared_ptr<FakeCall> call, std::string url, Form parameters) {
    auto target = daemon_target(url, "wss");
    if (!target) {
      record(call->created.sid, "ws.refused", "not the daemon's wss URL: " + url);
      co_return;
    }
    call->ws = std::make_shared<websocket::stream<beast::tcp_stream>>(io);
    auto& ws = *call->ws;
    try {
      beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(10));
      co_await beast::get_lowest_layer(ws).async_connect(
          tcp::endpoint(asio::ip::make_address("127.0.0.1"), daemon_port.load()), use_awaitable);
      beast::get_lowest_layer(ws).expires_never();
      ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
      const auto signature = signature_for(url, {}, options.stream_signature);
      ws.set_option(websocket::stream_base::decorator([signature](websocket::request_type& request) {
        request.set(http::field::user_agent, "Twilio.TmeWs/1.0");
        if (signature) request.set("X-Twilio-Signature", *signature);
      }));
      websocket::response_type response;
      co_await ws.async_handshake(response, options.public_domain, *target, use_awaitable);
    } catch (const std::exception& error) {
      record(call->created.sid, "ws.refused", error.what());
      co_return;
    }
    record(call->created.sid, "ws.open", url);
    update_stats(*call, [](CallStats& s) { s.media_connected = true; });
    ws.text(true);

    int sequence = 1;
    try {
      {
        nlohmann::json message = {{"event", "connected"}, {"protocol", "Call"}, {"version", "1.0.0"}};
        co_await send_json(ws, std::move(message));
      }
      nlohmann::json custom = nlohmann::json::object();
      for (const auto& [k, v] : parameters) custom[k] = v;
      {
        nlohmann::json message = {{"event", "start"},
                     {"sequenceNumber", std::to_string(++sequence)},
                     {"start",
                      {{"accountSid", options.account_sid},
                       {"streamSid", call->stream_sid},
                       {"callSid", call->created.sid},
                       {"tracks", {"inbound"}},
                       {"mediaFormat", {{"encoding", "audio/x-mulaw"}, {"sampleRate", 8000}, {"channels", 1}}},
                       {"customParameters", custom}}},
                     {"streamSid", call->stream_sid}};
        co_await send_json(ws, std::move(message));
      }
      record(call->created.sid, "ws.sent.start", custom.dump());
    } catch (const std::exception& error) {
      record(call->created.sid, "ws.closed", error.what());
      co_return;
    }

    asio::co_spawn(io, read_agent_side(call), asio::detached);
    std::shared_ptr<CalleeScript> script =
        options.callee ? options.callee(call->created) : std::make_shared<SegmentScript>(
                                                             std::move(SegmentScript().pause(std::chrono::seconds(1))));
    std::vector<std::uint8_t> frame(160);
    std::string payload(base64::encoded_size(160), '\0');
    const auto period = scaled(std::chrono::milliseconds(20));
    auto next = Clock::now();
    asio::steady_timer timer(io);
    std::string end_reason = "callee hung up";
    bool amd_sent = false;
    try {
      while (true) {
        if (call->ws_closed) { end_reason = "the daemon closed the media stream"; break; }
        if (call->hangup_requested) { end_reason = "hung up via REST"; break; }
        if (options.drop_media_after_frames && call->media_frames == options.drop_media_after_frames) {
          // A network failure: the socket goes away without a close frame or a stop message.
          record(call->created.sid, "ws.dropped", std::to_string(call->media_frames));
          beast::get_lowest_layer(ws).close();
          call->ws_closed = true;
          end_reason = "connection dropped";
          break;
        }
        const auto media_time = std::chrono::milliseconds(call->media_frames * 20);
        if (!script->next_frame(media_time, frame)) break;
        base64::encode(frame, std::span<char>(payload.data(), payload.size()));
        ++call->media_frames;
        {
        nlohmann::json message = {{"event", "media"},
                       {"sequenceNumber", std::to_string(++sequence)},
                       {"media",
                        {{"track", "inbound"},
                         {"chunk", std::to_string(call->media_frames)},
                         {"timestamp", std::to_string(media_time.count())},
                         {"payload", payload}}},
                       {"streamSid", call->stream_sid}};
        co_await send_json(ws, std::move(message));
      }
        update_stats(*call, [](CallStats& s) { ++s.frames_sent; });
        if (const char key = script->key_pressed(media_time)) {
          nlohmann::json message = {{"event", "dtmf"},
                                    {"streamSid", call->stream_sid},
                                    {"sequenceNumber", std::to_string(++sequence)},
                                    {"dtmf", {{"track", "inbound_track"}, {"digit", std::string(1, key)}}}};
          co_await send_json(ws, std::move(message));
          record(call->created.sid, "dtmf.sent", std::string(1, key));
        }
        if (!amd_sent && media_time >= options.amd_after && asked_for_async_amd(call->created)) {
          amd_sent = true;
          asio::co_spawn(io, send_amd_verdict(call, media_time), asio::detached);
        }
        co_await play_one_frame(*call, ws, sequence);
        next += period;
        timer.expires_at(next);
        co_await timer.async_wait(use_awaitable);
      }
      if (!call->ws_closed) {
        {
        nlohmann::json message = {{"event", "stop"},
                       {"sequenceNumber", std::to_string(++sequence)},
                       {"stop", {{"accountSid", options.account_sid}, {"callSid", call->created.sid}}},
                       {"streamSid", call->stream_sid}};
        co_await send_json(ws, std::move(message));
      }
        co_await ws.async_close(websocket::close_code::normal, use_awaitable);
      }
    } catch (const std::exception& error) {
      end_reason = std::string("media stream error: ") + error.what();
    }
    record(call->created.sid, "ws.closed", end_reason);
  }

  static bool asked_for_async_amd(const CreatedCall& created) {
    const std::string mode = created.field("MachineDetection");
    const std::string method = created.field("AsyncAmdStatusCallbackMethod");
    return (mode == "Enable" || mode == "DetectMessageEnd") && created.field("AsyncAmd") == "true" &&
           !created.field("AsyncAmdStatusCallback").empty() && (method.empty() || method == "POST");
  }

  // The asynchronous answering-machine detection's verdict, to AsyncAmdStatusCallback, signed like every webhook.
  awaitable<void> send_amd_verdict(std::shared_ptr<FakeCall> call, std::chrono::milliseconds took) {
    const std::string verdict = options.amd_verdict ? options.amd_verdict(call->created) : "human";
    const Form form{{"AccountSid", options.account_sid}, {"CallSid", call->created.sid}, {"AnsweredBy", verdict},
                    {"MachineDetectionDuration", std::to_string(took.count())}};
    record(call->created.sid, "amd.sent", verdict);
    auto [code, body] =
        co_await post_to_daemon(call->created.field("AsyncAmdStatusCallback"), form, options.amd_signature);
    record(call->created.sid, "amd", verdict + " -> " + std::to_string(code));
  }

  awaitable<void> send_json(websocket::stream<beast::tcp_stream>& ws, nlohmann::json message) {
    const std::string text = message.dump();
    co_await ws.async_write(asio::buffer(text), use_awaitable);
  }

  awaitable<void> echo_mark(FakeCall& call, websocket::stream<beast::tcp_stream>& ws, int& sequence,
                            std::string name) {
    nlohmann::json message{{"event", "mark"},
                           {"sequenceNumber", std::to_string(++sequence)},
                           {"streamSid", call.stream_sid},
                           {"mark", {{"name", name}}}};
    co_await send_json(ws, std::move(message));
    record(call.created.sid, "mark.echo", name);
    update_stats(call, [&](CallStats& s) { s.marks_echoed.push_back(name); });
  }

  // 20 ms of playback of what the daemon sent: audio is consumed, marks are echoed once the audio before them played.
  awaitable<void> play_one_frame(FakeCall& call, websocket::stream<beast::tcp_stream>& ws, int& sequence) {
    std::vector<std::string> names;
    names.swap(call.echo_now);
    for (std::size_t i = 0; i < names.size(); ++i) co_await echo_mark(call, ws, sequence, names[i]);
    std::size_t budget = 160;
    while (!call.playback.empty()) {
      PlaybackItem& item = call.playback.front();
      if (item.bytes == 0) {
        std::string name = item.mark;
        call.playback.pop_front();
        co_await echo_mark(call, ws, sequence, std::move(name));
        continue;
      }
      if (budget == 0) break;
      const std::size_t played = std::min(budget, item.bytes);
      item.bytes -= played;
      budget -= played;
      update_stats(call, [&](CallStats& s) { s.agent_bytes_played += played; });
      if (item.bytes == 0) call.playback.pop_front();
    }
  }

  awaitable<void> read_agent_side(std::shared_ptr<FakeCall> call) {
    auto ws = call->ws;
    beast::flat_buffer buffer;
    // The agent's audio goes through the SDK's keypad detector, as a phone menu hears keys (in-band DTMF: Media
    // Streams have no message for keys sent to the line).
    dtmf::Detector keys(8000);
    std::vector<std::int16_t> samples;
    try {
      while (true) {
        buffer.clear();
        co_await ws->async_read(buffer, use_awaitable);
        const std::string text = beast::buffers_to_string(buffer.data());
        const auto json = nlohmann::json::parse(text, nullptr, false);
        const std::string event = json.is_object() ? json.value("event", "") : "";
        if (!json.is_object() || json.value("streamSid", "") != call->stream_sid) {
          record(call->created.sid, "ws.unexpected", text.substr(0, 300));
          continue;
        }
        if (event == "media") {
          const auto bytes = base64::decode(json["media"].value("payload", ""));
          if (!bytes) {
            record(call->created.sid, "ws.unexpected", "bad base64: " + text.substr(0, 300));
            continue;
          }
          call->playback.push_back({bytes->size(), {}});
          update_stats(*call, [&](CallStats& s) { s.agent_bytes_received += bytes->size(); });
          record(call->created.sid, "media.in", std::to_string(bytes->size()));
          const std::span<const std::uint8_t> audio(reinterpret_cast<const std::uint8_t*>(bytes->data()),
                                                    bytes->size());
          for (std::size_t at = 0; at < audio.size(); at += 8000) {  // the detector takes a second at most
            const auto part = audio.subspan(at, std::min<std::size_t>(8000, audio.size() - at));
            samples.resize(part.size());
            mulaw::decode(part, samples);
            for (const char key : keys.process(samples)) {
              update_stats(*call, [&](CallStats& s) { s.keys_heard += key; });
              record(call->created.sid, "dtmf.heard", std::string(1, key));
            }
          }
        } else if (event == "mark") {
          const std::string name = json["mark"].value("name", "");
          call->playback.push_back({0, name});
          record(call->created.sid, "mark.in", name);
        } else if (event == "clear") {
          std::size_t dropped = 0;
          for (auto& item : call->playback) {
            dropped += item.bytes;
            if (item.bytes == 0 && options.echo_marks_on_clear) call->echo_now.push_back(item.mark);
          }
          call->playback.clear();
          update_stats(*call, [&](CallStats& s) {
            ++s.clears;
            s.agent_bytes_dropped += dropped;
          });
          record(call->created.sid, "clear.in", std::to_string(dropped));
        } else {
          // Twilio accepts only media, mark and clear from the server.
          record(call->created.sid, "ws.unexpected", text.substr(0, 300));
        }
      }
    } catch (const std::exception& error) {
      call->ws_closed = true;
    }
  }

  // ---- the REST API -----------------------------------------------------------------------------------------------
  // `answer_delay` and `created_sid` are set for a create whose answer is to be held back (options.create_answer_delay).
  http::response<http::string_body> handle_rest(const http::request<http::string_body>& request,
                                                std::chrono::milliseconds& answer_delay, std::string& created_sid) {
    auto reply = [&](int status, const nlohmann::json& body) {
      http::response<http::string_body> response{static_cast<http::status>(status), request.version()};
      response.set(http::field::content_type, "application/json");
      response.body() = body.dump();
      response.prepare_payload();
      response.keep_alive(request.keep_alive());
      return response;
    };
    const std::string target(request.target());
    const std::string prefix = "/2010-04-01/Accounts/" + options.account_sid + "/Calls";
    // Authentication first, as Twilio does: a wrong SID or token is a 401 whatever the path.
    const std::string expected_auth =
        "Basic " + base64::encode(std::span<const std::uint8_t>(
                       reinterpret_cast<const std::uint8_t*>((options.account_sid + ":" + options.auth_token).data()),
                       options.account_sid.size() + 1 + options.auth_token.size()));
    if (request[http::field::authorization] != expected_auth || target.rfind("/2010-04-01/Accounts/" + options.account_sid + "/", 0) != 0) {
      record("", "rest.error", "20003");
      auto body = twilio_error(20003, "Authenticate", 401);
      body["detail"] = "Your AccountSid or AuthToken was incorrect.";
      return reply(401, body);
    }
    if (request.method() != http::verb::post || target.rfind(prefix, 0) != 0) {
      record("", "rest.error", "20404");
      return reply(404, twilio_error(20404, "The requested resource " + target + " was not found", 404));
    }
    Form form = parse_form(request.body());
    auto field = [&](const char* name) {
      for (const auto& [k, v] : form)
        if (k == name) return v;
      return std::string();
    };
    if (target == prefix + ".json") {
      auto response = create_call(form, field("To"), field("From"), field("Url"), reply);
      if (response.result() == http::status::created) {
        created_sid = nlohmann::json::parse(response.body()).value("sid", "");
        if (options.create_answer_delay) answer_delay = options.create_answer_delay(calls.at(created_sid)->created);
      }
      return response;
    }
    // Calls/{CallSid}.json: update (hang up).
    const std::string sid = target.substr(prefix.size() + 1, target.size() - prefix.size() - 1 - 5);
    auto it = calls.find(sid);
    if (it == calls.end() || target.size() < prefix.size() + 6 || target.substr(target.size() - 5) != ".json") {
      record("", "rest.error", "20404");
      return reply(404, twilio_error(20404, "The requested resource " + target + " was not found", 404));
    }
    record(sid, "rest.update", request.body());
    const std::string status = field("Status");
    if (status != "completed" && status != "canceled") {
      record(sid, "rest.error", "21218");
      return reply(400, twilio_error(21218, "Invalid Status: " + status, 400));
    }
    auto& call = *it->second;
    call.hangup_requested = true;
    const std::string now_status = call.ended ? "completed" : (call.answered ? "completed" : "canceled");
    return reply(200, {{"sid", sid}, {"status", now_status}, {"duration", std::to_string(media_seconds(call))}});
  }

  template <class Reply>
  http::response<http::string_body> create_call(const Form& form, const std::string& to, const std::string& from,
                                                 const std::string& url, Reply& reply) {
    auto fail = [&](int code, const std::string& message) {
      record("", "rest.error", std::to_string(code));
      return reply(400, twilio_error(code, message, 400));
    };
    if (to.empty()) return fail(21201, "No 'To' number is specified");
    if (from.empty()) return fail(21213, "No 'From' number is specified");
    if (url.empty()) return fail(21205, "Url is not a valid URL: ");
    if (std::find(options.from_numbers.begin(), options.from_numbers.end(), from) == options.from_numbers.end()) {
      if (from == "+15005550001") return fail(21212, "The 'From' number " + from + " is not a valid phone number");
      return fail(21210, "The source phone number provided, " + from + ", is not yet verified for your account");
    }
    if (to == "+15005550001") return fail(21217, "Phone number does not appear to be valid");
    if (to == "+15005550002") return fail(21214, "'To' phone number cannot be reached");
    if (to == "+15005550003")
      return fail(21215, "Account not authorized to call " + to + ". Perhaps you need to enable some international "
                         "permissions");
    if (to == "+15005550004") return fail(21216, "Account not allowed to call " + to);
    if (to.size() < 3 || to.front() != '+') return fail(21211, "Invalid 'To' Phone Number: " + to);
    auto call = std::make_shared<FakeCall>();
    call->created = {random_sid("CA"), form};
    call->stats.sid = call->created.sid;
    call->scenario = options.scenario ? options.scenario(call->created) : Scenario::answer;
    calls[call->created.sid] = call;
    {
      std::lock_guard lock(mutex);
      records.push_back({Clock::now() - started, call->created.sid, "rest.create", encode_form(form)});
    }
    asio::co_spawn(io, run_call(call), asio::detached);
    return reply(201, {{"sid", call->created.sid},
                       {"account_sid", options.account_sid},
                       {"to", to},
                       {"from", from},
                       {"status", "queued"},
                       {"direction", "outbound-api"},
                       {"api_version", "2010-04-01"},
                       {"uri", "/2010-04-01/Accounts/" + options.account_sid + "/Calls/" + call->created.sid + ".json"}});
  }

  awaitable<void> serve(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    try {
      while (true) {
        http::request<http::string_body> request;
        stream.expires_after(std::chrono::seconds(30));
        co_await http::async_read(stream, buffer, request, use_awaitable);
        std::chrono::milliseconds answer_delay{0};
        std::string created_sid;
        auto response = handle_rest(request, answer_delay, created_sid);
        const bool keep = response.keep_alive();
        if (answer_delay.count() > 0) {
          asio::steady_timer timer(io, answer_delay);
          co_await timer.async_wait(use_awaitable);
        }
        co_await http::async_write(stream, response, use_awaitable);
        if (!created_sid.empty()) record(created_sid, "rest.answered", std::to_string(response.result_int()));
        if (!keep) break;
      }
    } catch (const std::exception&) {
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  awaitable<void> accept_loop() {
    while (acceptor.is_open()) {
      try {
        tcp::socket socket = co_await acceptor.async_accept(use_awaitable);
        asio::co_spawn(io, serve(std::move(socket)), asio::detached);
      } catch (const std::exception&) {
        co_return;
      }
    }
  }
};

FakeTwilio::FakeTwilio(FakeTwilioOptions options) : state_(std::make_shared<State>(std::move(options))) {
  state_->daemon_port = state_->options.daemon_port;
  state_->signature_mode = static_cast<int>(state_->options.signature);
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  state_->acceptor.open(endpoint.protocol());
  state_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  state_->acceptor.bind(endpoint);
  state_->acceptor.listen();
  asio::co_spawn(state_->io, state_->accept_loop(), asio::detached);
  state_->thread = std::thread([state = state_] {
    auto guard = asio::make_work_guard(state->io);
    state->io.run();
  });
}

FakeTwilio::~FakeTwilio() { stop(); }

void FakeTwilio::stop() {
  if (!state_->thread.joinable()) return;
  asio::post(state_->io, [state = state_] {
    beast::error_code ignored;
    state->acceptor.close(ignored);
    for (auto& [sid, call] : state->calls)
      if (call->ws) beast::get_lowest_layer(*call->ws).close();
    state->io.stop();
  });
  state_->thread.join();
}

void FakeTwilio::release_final_callbacks() {
  asio::post(state_->io, [state = state_] {
    state->final_callbacks_released = true;
    state->final_callbacks_gate.cancel();
  });
}

std::string FakeTwilio::base_url() const { return "http://127.0.0.1:" + std::to_string(port()); }
std::uint16_t FakeTwilio::port() const { return state_->acceptor.local_endpoint().port(); }
void FakeTwilio::set_daemon_port(std::uint16_t port) { state_->daemon_port = port; }
void FakeTwilio::set_signature_mode(SignatureMode mode) { state_->signature_mode = static_cast<int>(mode); }

std::vector<Record> FakeTwilio::records() const {
  std::lock_guard lock(state_->mutex);
  return state_->records;
}

std::vector<Record> FakeTwilio::records_of(const std::string& kind) const {
  std::vector<Record> out;
  std::lock_guard lock(state_->mutex);
  for (const auto& record : state_->records)
    if (record.kind == kind) out.push_back(record);
  return out;
}

std::string FakeTwilio::call_in(const std::string& from, const std::string& to, bool fetch_twiml) {
  auto call = std::make_shared<FakeCall>();
  call->created = {random_sid("CA"), {{"From", from}, {"To", to}}};
  call->stats.sid = call->created.sid;
  call->answered = true;
  asio::post(state_->io, [state = state_, call, fetch_twiml] {
    state->calls[call->created.sid] = call;
    asio::co_spawn(state->io, state->run_inbound(call, fetch_twiml), asio::detached);
  });
  return call->created.sid;
}

std::vector<CallStats> FakeTwilio::calls() const {
  // Stats are copied under the lock; the map itself belongs to the io thread, so read it there.
  std::promise<std::vector<CallStats>> promise;
  auto future = promise.get_future();
  if (!state_->thread.joinable()) return {};
  asio::post(state_->io, [&] {
    std::vector<CallStats> out;
    std::lock_guard lock(state_->mutex);
    for (const auto& [sid, call] : state_->calls) out.push_back(call->stats);
    promise.set_value(std::move(out));
  });
  return future.get();
}

bool FakeTwilio::wait_for(const std::function<bool(const FakeTwilio&)>& done, std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (done(*this)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done(*this);
}

std::string FakeTwilio::sign(const std::string& auth_token, const std::string& url, const Form& params) {
  Form sorted = params;
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string data = url;
  for (const auto& [name, value] : sorted) data += name + value;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha1(), auth_token.data(), static_cast<int>(auth_token.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &size);
  return base64::encode(std::span<const std::uint8_t>(digest, size));
}

}  // namespace concierge::fake_twilio
