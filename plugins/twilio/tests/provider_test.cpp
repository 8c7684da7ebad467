// The provider's webhooks and media stream handler driven directly, on the test thread standing in for the loop:
// signatures, routing, and every way a media stream can go wrong.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "concierge/base64.hpp"
#include "concierge/net/asio.hpp"
#include "signature.hpp"
#include "stream_token.hpp"
#include "services_host.hpp"
#include "twilio_provider.hpp"

namespace concierge::twilio {
namespace {
using namespace std::chrono_literals;

// Keeps the requests the plugin starts and never answers them (the fake-Twilio tests answer them over sockets).
class PendingHttp : public HttpClient {
 public:
  HttpRequestId start(HttpClientRequest request, Completion) override {
    requests.push_back(std::move(request));
    return requests.size();
  }
  void cancel(HttpRequestId) override {}
  std::size_t in_flight() const override { return requests.size(); }
  std::vector<HttpClientRequest> requests;
};

class TestHost : public HostServices {
 public:
  boost::asio::io_context& io() override { return io_; }
  void run_blocking(std::function<void()>) override { ADD_FAILURE() << "the plugin blocked a worker"; }
  HttpClient& http() override { return rest; }
  std::string public_domain() const override { return "abc.ngrok.io"; }
  std::shared_ptr<CallEvents> accept_inbound_call(const InboundCall& call) override {
    inbound.push_back(call);
    return inbound_events;
  }
  PendingHttp rest;  // REST requests, never answered here
  std::vector<InboundCall> inbound;
  std::shared_ptr<CallEvents> inbound_events;

 private:
  boost::asio::io_context io_;
};

class Log : public Logger {
 public:
  void write(LogLevel level, std::string_view m) override { lines.push_back(std::string(to_string(level)) + " " + std::string(m)); }
  bool enabled(LogLevel) const override { return true; }
  bool contains(std::string_view text) const {
    for (const auto& l : lines)
      if (l.find(text) != std::string::npos) return true;
    return false;
  }
  std::string text() const {
    std::string all;
    for (const auto& l : lines) all += l + "\n";
    return all;
  }
  std::vector<std::string> lines;
};

class Events : public CallEvents {
 public:
  void on_provider_call_id(std::string_view id) override { sid = id; }
  void on_status(const CallStatusUpdate& u) override { statuses.push_back(u); }
  void on_media_started(AudioFormat) override { started = true; }
  void on_audio(const AudioFrame& f) override {
    frames.emplace_back(f.bytes.begin(), f.bytes.end());
    timestamps.push_back(f.timestamp_us);
  }
  void on_playback_progress(std::chrono::microseconds p) override { progress.push_back(p.count()); }
  void on_dtmf(char d) override { dtmf += d; }
  void on_media_stopped(std::string_view r) override { stopped.emplace_back(r); }
  void on_simulated_callee_text(std::string_view) override {}
  std::string sid, dtmf;
  std::vector<CallStatusUpdate> statuses;
  bool started = false;
  std::vector<std::vector<std::uint8_t>> frames;
  std::vector<std::uint64_t> timestamps;
  std::vector<std::int64_t> progress;
  std::vector<std::string> stopped;
};

class Peer : public WebSocketPeer {
 public:
  void send_text(std::string_view m) override { sent.emplace_back(m); }
  void close(std::string_view r) override {
    open = false;
    close_reason = r;
  }
  bool is_open() const override { return open; }
  const HttpRequest& upgrade_request() const override { return upgrade; }
  std::vector<std::string> sent;
  bool open = true;
  std::string close_reason;
  HttpRequest upgrade;
};

std::string start_message(const std::string& call_id, const std::string& call_sid = "CA1",
                          const std::string& stream_token = "", const std::string& stream_sid = "MZ1") {
  nlohmann::json custom = nlohmann::json::object();
  if (!call_id.empty()) custom["call_id"] = call_id;
  if (!stream_token.empty()) custom["stream_token"] = stream_token;
  return nlohmann::json{{"event", "start"},
                        {"sequenceNumber", "1"},
                        {"start",
                         {{"streamSid", stream_sid},
                          {"callSid", call_sid},
                          {"accountSid", "AC1"},
                          {"tracks", {"inbound"}},
                          {"mediaFormat", {{"encoding", "audio/x-mulaw"}, {"sampleRate", 8000}, {"channels", 1}}},
                          {"customParameters", custom}}},
                        {"streamSid", stream_sid}}
      .dump();
}

std::string media_message(const std::string& payload, int timestamp_ms) {
  return R"({"event":"media","sequenceNumber":"2","media":{"track":"inbound","chunk":"1","timestamp":")" +
         std::to_string(timestamp_ms) + R"(","payload":")" + payload + R"("},"streamSid":"MZ1"})";
}

class ProviderTest : public ::testing::Test {
 protected:
  void SetUp() override { make(); }
  void make(bool inbound = false, bool validate = true, bool inbound_tokens = true) {
    TwilioConfig config;
    config.inbound_stream_tokens = inbound_tokens;
    config.account_sid = "AC1";
    config.auth_token = "token";
    config.from_number = "+15005550006";
    config.public_domain = "abc.ngrok.io";
    config.inbound_streams = inbound;
    config.validate_signatures = validate;
    provider = std::make_shared<TwilioProvider>(twilio_host_over(host), log, config);
  }
  std::shared_ptr<CallLeg> place(const std::string& id, std::shared_ptr<Events> e) {
    return provider->place_call(OutboundCall{id, "+12125550100", "Demo", 30s}, e);
  }
  HttpRequest signed_request(std::string method, std::string target, std::vector<std::pair<std::string, std::string>> form,
                             std::string scheme = "https") {
    HttpRequest r;
    r.method = std::move(method);
    r.target = target;
    const auto q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = parse_query(target.substr(q + 1));
    r.body = form_encode(form);
    r.headers.emplace_back("x-twilio-signature",
                           compute_signature("token", scheme + "://abc.ngrok.io" + target, form));
    return r;
  }

  // Twilio's TwiML fetch for a call; returns the stream token the TwiML hands to the stream ("" if none).
  std::string fetch_stream_token(const std::string& call_id, const std::string& call_sid = "CA1") {
    const auto twiml = provider->handle_http(
        signed_request("POST", "/twiml?call_id=" + call_id, {{"CallSid", call_sid}, {"CallStatus", "in-progress"}}));
    const std::string marker = "<Parameter name=\"stream_token\" value=\"";
    const auto at = twiml.body.find(marker);
    if (at == std::string::npos) return "";
    return twiml.body.substr(at + marker.size(), twiml.body.find('"', at + marker.size()) - at - marker.size());
  }

  // Twilio's TwiML fetch for a call to our number (no call_id): returns the stream token it hands the stream.
  std::string fetch_inbound_stream_token(const std::string& call_sid, const std::string& from = "+12125550199") {
    const auto twiml = provider->handle_http(signed_request(
        "POST", "/twiml", {{"CallSid", call_sid}, {"From", from}, {"To", "+15005550006"}, {"Direction", "inbound"}}));
    EXPECT_EQ(twiml.status, 200) << twiml.body;
    const std::string marker = "<Parameter name=\"stream_token\" value=\"";
    const auto at = twiml.body.find(marker);
    if (at == std::string::npos) return "";
    return twiml.body.substr(at + marker.size(), twiml.body.find('"', at + marker.size()) - at - marker.size());
  }
  // A start message for an inbound stream: no call_id, the caller's numbers as the stream claims them.
  static std::string inbound_start(const std::string& call_sid, const std::string& token,
                                   const std::string& claimed_from = "+12125550199") {
    auto json = nlohmann::json::parse(start_message("", call_sid, token));
    json["start"]["customParameters"]["from"] = claimed_from;
    return json.dump();
  }

  TestHost host;
  std::shared_ptr<Log> log = std::make_shared<Log>();
  std::shared_ptr<TwilioProvider> provider;
};

TEST_F(ProviderTest, PlaceCallStartsARequestAndReturnsAtOnce) {
  auto events = std::make_shared<Events>();
  auto leg = place("c1", events);
  ASSERT_EQ(host.rest.requests.size(), 1u);  // started on the host's client; nothing waited for it here
  const auto& create = host.rest.requests[0];
  EXPECT_EQ(create.method, "POST");
  EXPECT_NE(create.url.find("/Calls.json"), std::string::npos);
  EXPECT_FALSE(create.username.empty());
  EXPECT_NE(create.body.find("To=%2B"), std::string::npos);
  EXPECT_TRUE(events->statuses.empty());
}

TEST_F(ProviderTest, BadNumberFailsWithoutCallingTwilio) {
  auto events = std::make_shared<Events>();
  auto leg = provider->place_call(OutboundCall{"c1", "555-1234", "Demo", 30s}, events);
  EXPECT_TRUE(host.rest.requests.empty());
  host.io().run();
  ASSERT_EQ(events->statuses.size(), 1u);
  EXPECT_EQ(events->statuses[0].status, CallStatus::failed);
  EXPECT_NE(events->statuses[0].reason.find("E.164"), std::string::npos);
}

TEST_F(ProviderTest, TwimlNeedsTheSignatureAndAKnownCall) {
  auto events = std::make_shared<Events>();
  auto leg = place("c 1&<x>", events);
  const FormFields form{{"CallSid", "CA1"}, {"CallStatus", "in-progress"}};
  auto ok = provider->handle_http(signed_request("POST", "/twiml?call_id=c%201%26%3Cx%3E", form));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.content_type, "text/xml");
  EXPECT_NE(ok.body.find("<Stream url=\"wss://abc.ngrok.io/media-stream\"><Parameter name=\"call_id\" "
                         "value=\"c 1&amp;&lt;x&gt;\"/>"),
            std::string::npos)
      << ok.body;

  auto forged = signed_request("POST", "/twiml?call_id=c%201%26%3Cx%3E", form);
  forged.body = form_encode({{"CallSid", "CA2"}, {"CallStatus", "in-progress"}});  // body changed after signing
  EXPECT_EQ(provider->handle_http(forged).status, 403);
  auto missing = signed_request("POST", "/twiml?call_id=c%201%26%3Cx%3E", form);
  missing.headers.clear();
  EXPECT_EQ(provider->handle_http(missing).status, 403);
  EXPECT_TRUE(log->contains("missing X-Twilio-Signature on POST /twiml"));
  EXPECT_EQ(provider->handle_http(signed_request("POST", "/twiml?call_id=nope", form)).status, 404);
  EXPECT_EQ(provider->handle_http(signed_request("GET", "/twiml?call_id=c%201%26%3Cx%3E", {})).status, 200);
  EXPECT_EQ(provider->handle_http(signed_request("DELETE", "/twiml?call_id=c%201%26%3Cx%3E", {})).status, 405);
}

TEST_F(ProviderTest, AnsweredByFromTheTwimlRequestRidesOnLaterUpdates) {
  auto events = std::make_shared<Events>();
  auto leg = place("c1", events);
  EXPECT_EQ(provider->handle_http(signed_request("POST", "/twiml?call_id=c1",
                                                 {{"CallSid", "CA1"}, {"AnsweredBy", "machine_start"}}))
                .status,
            200);
  EXPECT_EQ(provider->handle_http(signed_request("POST", "/twilio/status?call_id=c1",
                                                 {{"CallSid", "CA1"}, {"CallStatus", "completed"}}))
                .status,
            204);
  ASSERT_EQ(events->statuses.size(), 1u);
  EXPECT_EQ(events->statuses[0].answered_by, "machine_start");
}

// machine_detection on: the create asks for Twilio's asynchronous detection, its verdict to a signed route of ours.
TEST_F(ProviderTest, MachineDetectionAsksTwilioForTheAsynchronousVerdictOnTwilioAmd) {
  {
    auto events = std::make_shared<Events>();
    auto leg = place("off", events);
    ASSERT_EQ(host.rest.requests.size(), 1u);
    EXPECT_EQ(host.rest.requests[0].body.find("MachineDetection"), std::string::npos) << host.rest.requests[0].body;
    EXPECT_EQ(host.rest.requests[0].body.find("AsyncAmd"), std::string::npos);
  }
  for (const char* mode : {"DetectMessageEnd", "Enable"}) {
    TwilioConfig config;
    config.account_sid = "AC1";
    config.auth_token = "token";
    config.from_number = "+15005550006";
    config.public_domain = "abc.ngrok.io";
    config.machine_detection = mode;
    provider = std::make_shared<TwilioProvider>(twilio_host_over(host), log, config);
    auto events = std::make_shared<Events>();
    host.rest.requests.clear();
    auto leg = place("c1", events);
    ASSERT_EQ(host.rest.requests.size(), 1u);
    const auto form = parse_query(host.rest.requests[0].body);
    EXPECT_EQ(form.at("MachineDetection"), mode);
    EXPECT_EQ(form.at("AsyncAmd"), "true");
    EXPECT_EQ(form.at("AsyncAmdStatusCallback"), "https://abc.ngrok.io/twilio/amd?call_id=c1");
    EXPECT_EQ(form.at("AsyncAmdStatusCallbackMethod"), "POST");
  }
  const auto routes = provider->http_routes();
  EXPECT_NE(std::find(routes.begin(), routes.end(), "/twilio/amd"), routes.end());
}

TEST_F(ProviderTest, SignatureOverTheUrlWithTheDefaultPortIsAccepted) {
  auto events = std::make_shared<Events>();
  auto leg = place("c1", events);
  const FormFields form{{"CallSid", "CA1"}};
  HttpRequest request = signed_request("POST", "/twiml?call_id=c1", form);
  request.headers = {{"x-twilio-signature", compute_signature("token", "https://abc.ngrok.io:443/twiml?call_id=c1", form)}};
  EXPECT_EQ(provider->handle_http(request).status, 200);
}

TEST_F(ProviderTest, StatusCallbacksMoveTheCallForwardOnly) {
  auto events = std::make_shared<Events>();
  auto leg = place("c1", events);
  auto post = [&](const char* status, FormFields extra = {}) {
    FormFields form{{"CallSid", "CA9"}, {"CallStatus", status}};
    for (auto& f : extra) form.push_back(f);
    return provider->handle_http(signed_request("POST", "/twilio/status?call_id=c1", form)).status;
  };
  EXPECT_EQ(post("ringing"), 204);
  EXPECT_EQ(post("in-progress"), 204);
  EXPECT_EQ(post("ringing"), 204);  // late and out of order: ignored
  EXPECT_EQ(post("exploded"), 400);
  EXPECT_EQ(post("completed", {{"CallDuration", "12"}, {"AnsweredBy", "human"}}), 204);
  EXPECT_EQ(post("failed"), 204);  // after the end: ignored
  ASSERT_EQ(events->statuses.size(), 3u);
  EXPECT_EQ(events->statuses[0].status, CallStatus::ringing);
  EXPECT_EQ(events->statuses[1].status, CallStatus::in_progress);
  EXPECT_EQ(events->statuses[2].status, CallStatus::completed);
  EXPECT_EQ(events->statuses[2].duration_seconds, 12);
  EXPECT_EQ(events->statuses[2].answered_by, "human");
  EXPECT_EQ(provider->handle_http(signed_request("POST", "/twilio/status?call_id=other", {{"CallStatus", "busy"}})).status,
            404);
}

TEST_F(ProviderTest, WebSocketUpgradeIsSignedOverTheWssUrl) {
  HttpRequest upgrade = signed_request("GET", "/media-stream", {}, "wss");
  EXPECT_FALSE(provider->check_media_stream_upgrade(upgrade).has_value());
  upgrade.headers = {{"x-twilio-signature", compute_signature("token", "wss://abc.ngrok.io:443/media-stream", {})}};
  EXPECT_FALSE(provider->check_media_stream_upgrade(upgrade).has_value());
  upgrade.headers = {{"x-twilio-signature", compute_signature("other", "wss://abc.ngrok.io/media-stream", {})}};
  ASSERT_TRUE(provider->check_media_stream_upgrade(upgrade).has_value());
  EXPECT_EQ(provider->check_media_stream_upgrade(upgrade)->status, 403);
  upgrade.headers.clear();
  EXPECT_EQ(provider->check_media_stream_upgrade(upgrade)->status, 403);
}

TEST_F(ProviderTest, ValidationOffAcceptsUnsignedRequestsAndWarnsAtStartup) {
  make(false, false);
  EXPECT_TRUE(log->contains("validate_signatures is off"));
  HttpRequest upgrade;
  upgrade.method = "GET";
  upgrade.target = upgrade.path = "/media-stream";
  EXPECT_FALSE(provider->check_media_stream_upgrade(upgrade).has_value());
}

class MediaStreamTest : public ProviderTest {
 protected:
  void SetUp() override {
    ProviderTest::SetUp();
    leg = place("c1", events);
    handler = provider->open_media_stream(peer);
    handler->on_text(R"({"event":"connected","protocol":"Call","version":"1.0.0"})");
    token = fetch_stream_token("c1");
    handler->on_text(start_message("c1", "CA1", token));
  }
  std::string token;
  std::shared_ptr<Events> events = std::make_shared<Events>();
  std::shared_ptr<Peer> peer = std::make_shared<Peer>();
  std::shared_ptr<CallLeg> leg;
  std::shared_ptr<WebSocketHandler> handler;
};

TEST_F(MediaStreamTest, StartAnswersTheCallAndMediaBecomesFrames) {
  EXPECT_TRUE(events->started);
  EXPECT_EQ(events->sid, "CA1");
  ASSERT_EQ(events->statuses.size(), 1u);
  EXPECT_EQ(events->statuses[0].status, CallStatus::in_progress);
  std::vector<std::uint8_t> audio(160);
  for (int i = 0; i < 160; ++i) audio[i] = static_cast<std::uint8_t>(i);
  handler->on_text(media_message(base64::encode(audio), 40));
  ASSERT_EQ(events->frames.size(), 1u);
  EXPECT_EQ(events->frames[0], audio);
  EXPECT_EQ(events->timestamps[0], 40'000u);
  handler->on_text(R"({"event":"dtmf","streamSid":"MZ1","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"7"}})");
  EXPECT_EQ(events->dtmf, "7");
  handler->on_text(R"({"event":"stop","sequenceNumber":"6","stop":{"accountSid":"AC1","callSid":"CA1"},"streamSid":"MZ1"})");
  ASSERT_EQ(events->stopped.size(), 1u);
  EXPECT_EQ(events->stopped[0], "Twilio stopped the media stream");
}

TEST_F(MediaStreamTest, OutgoingAudioIsMediaThenOneMarkPerChunk) {
  std::vector<std::uint8_t> audio(160, 0xAB);
  leg->send_audio({AudioFormat::mulaw_8k(), audio, 0});
  leg->send_audio({AudioFormat::mulaw_8k(), audio, 0});
  ASSERT_EQ(peer->sent.size(), 4u);
  EXPECT_EQ(peer->sent[0], R"({"event":"media","streamSid":"MZ1","media":{"payload":")" + base64::encode(audio) + R"("}})");
  EXPECT_EQ(peer->sent[1], R"({"event":"mark","streamSid":"MZ1","mark":{"name":"1"}})");
  EXPECT_EQ(peer->sent[3], R"({"event":"mark","streamSid":"MZ1","mark":{"name":"2"}})");
  for (const auto& m : peer->sent) EXPECT_FALSE(nlohmann::json::parse(m).is_discarded());
  handler->on_text(R"({"event":"mark","sequenceNumber":"9","streamSid":"MZ1","mark":{"name":"2"}})");
  ASSERT_EQ(events->progress.size(), 1u);
  EXPECT_EQ(events->progress[0], 40'000);  // mark 2 covers both chunks
  handler->on_text(R"({"event":"mark","sequenceNumber":"9","streamSid":"MZ1","mark":{"name":"1"}})");  // stale
  EXPECT_EQ(events->progress.size(), 1u);
  handler->on_text(R"({"event":"mark","sequenceNumber":"9","streamSid":"MZ1","mark":{"name":"999"}})");  // not ours
  handler->on_text(R"({"event":"mark","sequenceNumber":"9","streamSid":"MZ1","mark":{"name":"x"}})");
  EXPECT_EQ(events->progress.size(), 1u);
  // pcm16 is not the line format: dropped with a log line, nothing sent.
  std::vector<std::uint8_t> pcm(320);
  leg->send_audio({AudioFormat::pcm16_at(8000), pcm, 0});
  EXPECT_EQ(peer->sent.size(), 4u);
  EXPECT_TRUE(log->contains("dropped agent audio in pcm16/8000"));
  leg->clear_audio();
  EXPECT_EQ(peer->sent.back(), R"({"event":"clear","streamSid":"MZ1"})");
}

// The message prefixes are kept inside the call when the stream SID is Twilio's 34 characters (as above) and on the
// heap when a peer sends a longer one: both ways, every message names the stream.
TEST_F(ProviderTest, OutgoingMessagesNameAStreamSidOfAnyLength) {
  for (const std::string& sid : {std::string("MZ18ad3ab5a668481ce02b83e7395059f0"), "MZ" + std::string(200, '7')}) {
    auto events = std::make_shared<Events>();
    auto peer = std::make_shared<Peer>();
    const std::string call_id = "c" + std::to_string(sid.size());
    auto leg = place(call_id, events);
    auto handler = provider->open_media_stream(peer);
    handler->on_text(R"({"event":"connected","protocol":"Call","version":"1.0.0"})");
    const std::string call_sid = "CA" + std::to_string(sid.size());
    handler->on_text(start_message(call_id, call_sid, fetch_stream_token(call_id, call_sid), sid));
    ASSERT_TRUE(events->started) << sid.size();
    std::vector<std::uint8_t> audio(160, 0x5A);
    leg->send_audio({AudioFormat::mulaw_8k(), audio, 0});
    ASSERT_EQ(peer->sent.size(), 2u);
    EXPECT_EQ(peer->sent[0], R"({"event":"media","streamSid":")" + sid + R"(","media":{"payload":")" +
                                 base64::encode(audio) + R"("}})");
    EXPECT_EQ(peer->sent[1], R"({"event":"mark","streamSid":")" + sid + R"(","mark":{"name":"1"}})");
  }
}

TEST_F(MediaStreamTest, BadMessagesAreLoggedAndSkipped) {
  // The first five bad messages are logged, then one in a hundred.
  handler->on_text(R"({"event":"party"})");                                  // unknown event
  handler->on_text("not json");
  handler->on_text(media_message("!!!!", 0));                               // bad base64
  handler->on_text(media_message(std::string(4000, 'A'), 0));              // oversized payload
  handler->on_text(media_message("", 0));                                   // empty
  handler->on_text(R"({"event":"media","media":{"payload":"AAAA","timestamp":"x"}})");  // bad timestamp
  handler->on_text(R"({"event":"dtmf","dtmf":{}})");
  EXPECT_TRUE(events->frames.empty());
  EXPECT_TRUE(peer->open);
  EXPECT_TRUE(log->contains("not valid base64"));
  EXPECT_TRUE(log->contains("too large"));
  EXPECT_TRUE(log->contains("unknown event \"party\""));
  EXPECT_TRUE(log->contains("malformed"));
  // A good message resets the count: the stream lives on.
  handler->on_text(media_message(base64::encode(std::vector<std::uint8_t>(160, 1)), 20));
  EXPECT_EQ(events->frames.size(), 1u);
}

TEST_F(MediaStreamTest, PersistentGarbageEndsTheStreamAndFailsTheCall) {
  for (int i = 0; i < kMaxConsecutiveBadMessages + 10; ++i) handler->on_text("{garbage");
  EXPECT_FALSE(peer->open);
  ASSERT_FALSE(events->statuses.empty());
  EXPECT_EQ(events->statuses.back().status, CallStatus::failed);
  EXPECT_NE(events->statuses.back().reason.find("bad messages in a row"), std::string::npos);
  ASSERT_EQ(events->stopped.size(), 1u);
  // The log is rate-limited: far fewer lines than bad messages.
  EXPECT_LT(log->lines.size(), 20u);
  EXPECT_EQ(host.rest.requests.size(), 2u);  // the create, then the hang-up at Twilio
}

TEST_F(MediaStreamTest, SecondStreamForTheSameCallIsRefused) {
  auto other_peer = std::make_shared<Peer>();
  auto other = provider->open_media_stream(other_peer);
  other->on_text(start_message("c1", "CA1", token));
  EXPECT_FALSE(other_peer->open);
  EXPECT_TRUE(log->contains("already has a media stream"));
  EXPECT_TRUE(peer->open);
}

// The stream credential: a start is taken only with the token of the call's TwiML, the CallSid of that TwiML
// fetch, and only once. Each refusal leaves the call waiting for its real stream.
TEST_F(ProviderTest, AStreamNeedsItsCallsOneTimeTokenAndCallSid) {
  auto events = std::make_shared<Events>();
  auto leg = place("c1", events);
  auto try_start = [&](const std::string& message) {
    auto peer = std::make_shared<Peer>();
    auto handler = provider->open_media_stream(peer);
    handler->on_text(message);
    handler->on_text(media_message("f39/", 0));
    return std::make_pair(peer, handler);
  };
  // Before Twilio fetched the TwiML there is no token to match.
  auto [early, h0] = try_start(start_message("c1", "CA1", "00000000000000000000000000000000"));
  EXPECT_FALSE(early->open);
  EXPECT_TRUE(log->contains("no stream token was issued for this call"));
  const std::string token = fetch_stream_token("c1", "CA1");
  ASSERT_EQ(token.size(), 32u);
  EXPECT_NE(fetch_stream_token("c1", "CA1"), token);  // every TwiML answer a new one (the older one is void)
  const std::string current = fetch_stream_token("c1", "CA1");
  struct {
    std::string message;
    const char* logged;
  } refused[] = {
      {start_message("c1", "CA1"), "carries no stream_token"},
      {start_message("c1", "CA1", token), "not this call's"},  // an earlier TwiML's token
      {start_message("c1", "CA1", current.substr(0, 31) + (current.back() == '0' ? "1" : "0")),
       "the stream_token is not this call's"},  // one character off
      {start_message("c1", "", current), "the start message has no callSid"},
      {start_message("c1", "CA2", current), "the stream's callSid CA2 is not this call's CA1"},
  };
  for (const auto& attempt : refused) {
    auto [peer, handler] = try_start(attempt.message);
    EXPECT_FALSE(peer->open) << attempt.logged;
    EXPECT_TRUE(peer->sent.empty()) << attempt.logged;
    EXPECT_TRUE(log->contains(attempt.logged)) << attempt.logged;
  }
  EXPECT_FALSE(events->started);
  EXPECT_TRUE(events->frames.empty());
  // The real one.
  auto [real, h1] = try_start(start_message("c1", "CA1", current));
  EXPECT_TRUE(real->open);
  EXPECT_TRUE(events->started);
  // Replayed after the real stream ended: the token is spent.
  h1->on_closed("gone");
  auto [replay, h2] = try_start(start_message("c1", "CA1", current));
  EXPECT_FALSE(replay->open);
  EXPECT_TRUE(log->contains("the stream_token was used already"));
}

TEST(StreamTokenRules, ExpiresAndIsSpentOnce) {
  StreamToken token;
  const auto t0 = StreamToken::Clock::now();
  EXPECT_EQ(token.redeem("x", t0), "no stream token was issued for this call (its TwiML was not fetched)");
  const std::string issued = token.issue(t0, 30s);
  EXPECT_EQ(token.redeem(issued, t0 + 31s), "the stream_token expired");
  EXPECT_EQ(token.redeem(issued, t0 + 30s), "");
  EXPECT_EQ(token.redeem(issued, t0 + 30s), "the stream_token was used already (a replayed start message)");
  EXPECT_NE(token.issue(t0, 30s), issued);
  EXPECT_NE(random_stream_token(), random_stream_token());
}

TEST_F(ProviderTest, UnknownCallIdIsRefusedUnlessInboundStreamsAreOn) {
  auto peer = std::make_shared<Peer>();
  auto handler = provider->open_media_stream(peer);
  handler->on_text(start_message("nobody"));
  EXPECT_FALSE(peer->open);
  EXPECT_TRUE(log->contains("unknown call_id \"nobody\""));

  make(/*inbound=*/true, /*validate=*/true, /*inbound_tokens=*/false);  // the media benchmark's setting
  host.inbound_events = std::make_shared<Events>();
  auto inbound_peer = std::make_shared<Peer>();
  auto inbound = provider->open_media_stream(inbound_peer);
  inbound->on_text(start_message("bench-7", "CA77"));
  EXPECT_TRUE(inbound_peer->open);
  ASSERT_EQ(host.inbound.size(), 1u);
  EXPECT_EQ(host.inbound[0].provider_call_id, "CA77");
  ASSERT_TRUE(host.inbound[0].leg);
  auto events = std::static_pointer_cast<Events>(host.inbound_events);
  EXPECT_TRUE(events->started);
  host.inbound[0].leg->send_audio({AudioFormat::mulaw_8k(), std::vector<std::uint8_t>(160, 1), 0});
  EXPECT_EQ(inbound_peer->sent.size(), 2u);
}

// The attack on inbound calls: the handshake's signature is one value for every stream, so a stream that starts a
// call must also bring the one-time token of a TwiML Twilio fetched for that CallSid, once.
TEST_F(ProviderTest, AnInboundStreamNeedsItsTwimlsTokenAndCallSidOnce) {
  make(/*inbound=*/true);
  host.inbound_events = std::make_shared<Events>();
  auto start = [&](const std::string& message) {
    auto peer = std::make_shared<Peer>();
    auto handler = provider->open_media_stream(peer);
    handler->on_text(message);
    return peer;
  };
  // No TwiML fetched for it: refused, whatever token it brings; the host never hears of it.
  auto stranger = start(inbound_start("CA90", ""));
  EXPECT_FALSE(stranger->open);
  EXPECT_TRUE(log->contains("inbound stream: no stream token was issued for callSid CA90")) << log->text();
  EXPECT_FALSE(start(inbound_start("CA90", "0123456789abcdef0123456789abcdef"))->open);
  EXPECT_TRUE(host.inbound.empty());

  // Twilio fetches the TwiML for CA91: its answer carries a fresh token, different for another call.
  const std::string token = fetch_inbound_stream_token("CA91");
  ASSERT_EQ(token.size(), 32u);
  EXPECT_NE(fetch_inbound_stream_token("CA92"), token);
  // Without the token, with a wrong one, or with CA91's token under CA92's CallSid: refused, no agent audio sent.
  auto without = start(inbound_start("CA91", ""));
  EXPECT_FALSE(without->open);
  EXPECT_TRUE(without->sent.empty());
  EXPECT_TRUE(log->contains("inbound stream: the start message carries no stream_token parameter"));
  std::string wrong = token;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  EXPECT_FALSE(start(inbound_start("CA91", wrong))->open);
  EXPECT_TRUE(log->contains("inbound stream: the stream_token is not this call's"));
  EXPECT_FALSE(start(inbound_start("CA92", token))->open);
  EXPECT_TRUE(host.inbound.empty());

  // The right pair is taken, with the numbers of the signed TwiML request, not the stream's claim.
  auto genuine = start(inbound_start("CA91", token, "+19005550100"));
  EXPECT_TRUE(genuine->open);
  ASSERT_EQ(host.inbound.size(), 1u);
  EXPECT_EQ(host.inbound[0].provider_call_id, "CA91");
  EXPECT_EQ(host.inbound[0].from, "+12125550199");
  EXPECT_EQ(host.inbound[0].to, "+15005550006");
  // Once: a replay of the same start is refused.
  EXPECT_FALSE(start(inbound_start("CA91", token))->open);
  EXPECT_EQ(host.inbound.size(), 1u);
}

TEST_F(ProviderTest, AnInboundTwimlRequestWithoutCallSidGetsNoStream) {
  make(/*inbound=*/true);
  const auto twiml = provider->handle_http(signed_request("POST", "/twiml", {{"From", "+12125550199"}}));
  EXPECT_EQ(twiml.status, 400) << twiml.body;
  EXPECT_EQ(twiml.body.find("<Stream"), std::string::npos);
}

TEST_F(ProviderTest, MediaBeforeStartIsAnError) {
  auto peer = std::make_shared<Peer>();
  auto handler = provider->open_media_stream(peer);
  handler->on_text(media_message("AAAA", 0));
  EXPECT_TRUE(log->contains("media before the start message"));
}

TEST_F(MediaStreamTest, HangUpClosesTheStream) {
  leg->hang_up();
  EXPECT_FALSE(peer->open);
  ASSERT_EQ(events->stopped.size(), 1u);
  EXPECT_EQ(host.rest.requests.size(), 2u);  // create + Status=completed
  handler->on_closed("closed");         // the host reports the close afterwards: nothing more happens
  EXPECT_EQ(events->stopped.size(), 1u);
}

}  // namespace
}  // namespace concierge::twilio

namespace concierge::twilio {
namespace {

// The AsyncAmdStatusCallback's form, as Twilio posts it.
FormFields amd_form(const std::string& answered_by, const std::string& call_sid = "CA1") {
  return {{"AccountSid", "AC1"}, {"AnsweredBy", answered_by}, {"CallSid", call_sid},
          {"MachineDetectionDuration", "4210"}};
}

std::vector<std::string> verdicts_of(const Events& events) {
  std::vector<std::string> out;
  for (const auto& update : events.statuses)
    if (!update.answered_by.empty()) out.push_back(update.answered_by);
  return out;
}

// The verdict on /twilio/amd reaches the host as the call's answered_by (once per new verdict), signed exactly like
// every other webhook: forged, unsigned, malformed or mismatched callbacks change nothing.
TEST_F(MediaStreamTest, TheSignedAnsweringMachineVerdictReachesTheHostOnce) {
  ASSERT_EQ(events->statuses.size(), 1u);  // in-progress, from the stream's start
  auto forged = signed_request("POST", "/twilio/amd?call_id=c1", amd_form("machine_end_beep"));
  forged.body = form_encode(amd_form("human"));  // changed after signing
  EXPECT_EQ(provider->handle_http(forged).status, 403);
  auto unsigned_request = signed_request("POST", "/twilio/amd?call_id=c1", amd_form("human"));
  unsigned_request.headers.clear();
  EXPECT_EQ(provider->handle_http(unsigned_request).status, 403);
  EXPECT_TRUE(log->contains("missing X-Twilio-Signature on POST /twilio/amd?call_id=c1"));
  auto other_token = signed_request("POST", "/twilio/amd?call_id=c1", amd_form("human"));
  other_token.headers = {{"x-twilio-signature", compute_signature("not-the-token",
                                                                  "https://abc.ngrok.io/twilio/amd?call_id=c1",
                                                                  amd_form("human"))}};
  EXPECT_EQ(provider->handle_http(other_token).status, 403);
  // Signed, but not a verdict: bytes that are no word (AnsweredBy=%FF), none at all, another call's SID.
  HttpRequest bad_bytes = signed_request("POST", "/twilio/amd?call_id=c1", amd_form("\xFF\xFE"));
  EXPECT_NE(bad_bytes.body.find("AnsweredBy=%FF%FE"), std::string::npos) << bad_bytes.body;
  EXPECT_EQ(provider->handle_http(bad_bytes).status, 400);
  EXPECT_EQ(provider->handle_http(signed_request("POST", "/twilio/amd?call_id=c1", amd_form("Human!"))).status, 400);
  EXPECT_EQ(provider->handle_http(signed_request("POST", "/twilio/amd?call_id=c1",
                                                 {{"AccountSid", "AC1"}, {"CallSid", "CA1"}}))
                .status,
            400);
  EXPECT_EQ(provider->handle_http(signed_request("POST", "/twilio/amd?call_id=c1", amd_form("human", "CA9"))).status,
            409);
  EXPECT_EQ(provider->handle_http(signed_request("POST", "/twilio/amd?call_id=nope", amd_form("human"))).status, 404);
  EXPECT_EQ(provider->handle_http(signed_request("GET", "/twilio/amd?call_id=c1", {})).status, 405);
  EXPECT_EQ(events->statuses.size(), 1u) << "nothing refused reached the host";
  EXPECT_TRUE(log->contains("AnsweredBy that is not a verdict"));

  // Twilio's own callback.
  EXPECT_EQ(provider->handle_http(signed_request("POST", "/twilio/amd?call_id=c1", amd_form("machine_end_beep"))).status,
            204);
  EXPECT_EQ(provider->handle_http(signed_request("POST", "/twilio/amd?call_id=c1", amd_form("machine_end_beep"))).status,
            204);  // a retry: no second report
  ASSERT_EQ(events->statuses.size(), 2u);
  EXPECT_EQ(events->statuses[1].status, CallStatus::in_progress);
  EXPECT_EQ(events->statuses[1].answered_by, "machine_end_beep");
  EXPECT_TRUE(log->contains("Twilio's answering-machine detection says machine_end_beep"));
  // Twilio's final status callback carries the verdict too; the record ends with it.
  EXPECT_EQ(provider->handle_http(signed_request("POST", "/twilio/status?call_id=c1",
                                                 {{"CallSid", "CA1"}, {"CallStatus", "completed"}}))
                .status,
            204);
  EXPECT_EQ(events->statuses.back().status, CallStatus::completed);
  EXPECT_EQ(events->statuses.back().answered_by, "machine_end_beep");
  // A verdict for a call that has ended here still gets its 2xx (a 404 would be error 11200 at Twilio), and no more.
  const auto reports = events->statuses.size();
  EXPECT_EQ(provider->handle_http(signed_request("POST", "/twilio/amd?call_id=c1", amd_form("human"))).status, 204);
  EXPECT_EQ(events->statuses.size(), reports);
}

// Enable's first word, then DetectMessageEnd's last: each new verdict is reported.
TEST_F(MediaStreamTest, EachNewVerdictIsReported) {
  for (const char* verdict : {"machine_start", "machine_start", "machine_end_silence", "unknown"})
    EXPECT_EQ(provider->handle_http(signed_request("POST", "/twilio/amd?call_id=c1", amd_form(verdict))).status, 204);
  EXPECT_EQ(verdicts_of(*events), (std::vector<std::string>{"machine_start", "machine_end_silence", "unknown"}));
}

// A verdict that comes before the media stream (Enable answers fast) waits for the stream, so that the voice
// session it is about exists when the host tells it; the updates before the stream do not carry it.
TEST_F(ProviderTest, AVerdictBeforeTheMediaStreamIsReportedOnceTheStreamStarts) {
  auto events = std::make_shared<Events>();
  auto leg = place("c1", events);
  EXPECT_EQ(provider->handle_http(signed_request("POST", "/twilio/status?call_id=c1",
                                                 {{"CallSid", "CA1"}, {"CallStatus", "ringing"}}))
                .status,
            204);
  EXPECT_EQ(provider->handle_http(signed_request("POST", "/twilio/amd?call_id=c1", amd_form("human"))).status, 204);
  EXPECT_EQ(provider->handle_http(signed_request("POST", "/twilio/status?call_id=c1",
                                                 {{"CallSid", "CA1"}, {"CallStatus", "in-progress"}}))
                .status,
            204);
  EXPECT_TRUE(verdicts_of(*events).empty()) << "held until the stream starts";
  const std::string token = fetch_stream_token("c1");
  auto peer = std::make_shared<Peer>();
  auto handler = provider->open_media_stream(peer);
  handler->on_text(start_message("c1", "CA1", token));
  ASSERT_TRUE(events->started);
  EXPECT_EQ(verdicts_of(*events), std::vector<std::string>{"human"});
  EXPECT_EQ(events->statuses.back().status, CallStatus::in_progress);
}

// Twilio's `dtmf` stream message: a key reaches the host; a digit that is no key is a bad message.
TEST_F(MediaStreamTest, OnlyKeypadDigitsReachTheHost) {
  for (const char* digit : {"5", "#", "*", "A", "x", "\xFF", "55", ""})
    handler->on_text(nlohmann::json{{"event", "dtmf"},
                                    {"streamSid", "MZ1"},
                                    {"sequenceNumber", "9"},
                                    {"dtmf", {{"track", "inbound_track"}, {"digit", digit}}}}
                         .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  EXPECT_EQ(events->dtmf, "5#*A");
  EXPECT_TRUE(log->contains("no key"));
  EXPECT_TRUE(peer->open);
}

}  // namespace
}  // namespace concierge::twilio
