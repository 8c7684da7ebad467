// The production Twilio plugin core against the fake Twilio over loopback sockets: REST, webhooks with signatures,
// and the Media Stream both ways.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include <nlohmann/json.hpp>

#include "concierge/dtmf.hpp"
#include "concierge/mulaw.hpp"
#include "concierge/net/asio.hpp"
#include "fake_twilio/fake_twilio.hpp"
#include "mini_host.hpp"
#include "services_host.hpp"
#include "twilio_provider.hpp"

namespace concierge::twilio {
namespace {
using namespace std::chrono_literals;
using fake_twilio::FakeTwilio;
using fake_twilio::FakeTwilioOptions;
using fake_twilio::Scenario;
using fake_twilio::SegmentScript;
using fake_twilio::SignatureMode;
using testing::MiniHost;
using testing::RecordingEvents;
using testing::wait_until;

constexpr const char* kDomain = "concierge.test";

class PluginWithFakeTwilio : public ::testing::Test {
 protected:
  void start(FakeTwilioOptions options = {}, std::function<void(TwilioConfig&)> adjust = {}) {
    options.public_domain = kDomain;
    if (options.speed == 1.0) options.speed = 4.0;  // keeps the suite quick; real-time pacing is tested below
    fake = std::make_unique<FakeTwilio>(std::move(options));
    host = std::make_unique<MiniHost>(kDomain);
    TwilioConfig config;
    config.account_sid = "AC00000000000000000000000000000001";
    config.auth_token = "fake-auth-token";
    config.from_number = "+15005550006";
    config.public_domain = kDomain;
    config.api_base_url = fake->base_url();
    config.request_timeout = 5s;
    if (adjust) adjust(config);
    provider = std::make_shared<TwilioProvider>(twilio_host_over(*host), log, config);
    port = host->serve(provider);
    fake->set_daemon_port(port);
  }

  std::shared_ptr<CallLeg> call(const std::string& to, std::shared_ptr<RecordingEvents> events,
                                const std::string& id = "call-1") {
    return host->on_loop([&] {
      return provider->place_call(OutboundCall{id, to, "Demo Restaurant", 30s}, events);
    });
  }

  void TearDown() override {
    legs.clear();
    provider.reset();
    host.reset();
    fake.reset();
  }

  std::shared_ptr<testing::MemoryLog> log = std::make_shared<testing::MemoryLog>();
  std::unique_ptr<FakeTwilio> fake;
  std::unique_ptr<MiniHost> host;
  std::shared_ptr<TwilioProvider> provider;
  std::vector<std::shared_ptr<CallLeg>> legs;
  std::uint16_t port = 0;
};

// Someone who is not Twilio opening a media stream to the plugin, over a real socket: the handshake signed as
// Twilio signs it (the value is the same for every stream of an auth token, so a proxy log or ngrok's inspector
// gives it away), then the messages they choose. Collects what the plugin sends until it closes the socket.
class StreamIntruder {
 public:
  StreamIntruder(std::uint16_t port, const std::string& auth_token) : ws_(io_) {
    ws_.next_layer().connect({net::asio::ip::make_address("127.0.0.1"), port});
    const std::string signature = FakeTwilio::sign(auth_token, std::string("wss://") + kDomain + "/media-stream", {});
    ws_.set_option(net::websocket::stream_base::decorator(
        [signature](net::websocket::request_type& request) { request.set("X-Twilio-Signature", signature); }));
    ws_.handshake(kDomain, "/media-stream");
  }
  void send(const nlohmann::json& message) { ws_.write(net::asio::buffer(message.dump())); }
  // Reads until the plugin closes the stream or `limit` passes; returns whether it closed.
  bool read_until_closed(std::chrono::milliseconds limit) {
    bool closed = false;
    std::function<void()> next = [&] {
      ws_.async_read(buffer_, [&](boost::system::error_code ec, std::size_t) {
        if (ec) {
          closed = true;
          return;
        }
        received.push_back(net::beast::buffers_to_string(buffer_.data()));
        buffer_.consume(buffer_.size());
        next();
      });
    };
    next();
    io_.run_for(limit);
    return closed;
  }
  std::vector<std::string> received;

 private:
  net::asio::io_context io_;
  net::websocket::stream<net::tcp::socket> ws_;
  net::beast::flat_buffer buffer_;
};

bool media_started(const std::shared_ptr<RecordingEvents>& events) {
  std::lock_guard lock(events->mutex);
  return events->media_started;
}

nlohmann::json start_for(const std::string& call_sid, const nlohmann::json& custom) {
  return {{"event", "start"},
          {"sequenceNumber", "1"},
          {"start",
           {{"accountSid", "AC00000000000000000000000000000001"},
            {"streamSid", "MZintruder"},
            {"callSid", call_sid},
            {"tracks", {"inbound"}},
            {"mediaFormat", {{"encoding", "audio/x-mulaw"}, {"sampleRate", 8000}, {"channels", 1}}},
            {"customParameters", custom}}},
          {"streamSid", "MZintruder"}};
}

TEST_F(PluginWithFakeTwilio, AnsweredCallCarriesAudioBothWaysAndMarksTrackPlayback) {
  FakeTwilioOptions options;
  options.callee = [](const fake_twilio::CreatedCall&) {
    auto script = std::make_shared<SegmentScript>();
    script->say(fake_twilio::tone_mulaw(440, 400ms)).pause(800ms);
    return script;
  };
  start(options);
  auto events = std::make_shared<RecordingEvents>();
  std::shared_ptr<CallLeg> leg;
  // The agent speaks 10 frames (200 ms) as soon as the line is up.
  events->when_media_started = [&] {
    std::vector<std::uint8_t> frame(160, 0x55);
    for (int i = 0; i < 10; ++i) leg->send_audio({AudioFormat::mulaw_8k(), frame, 0});
  };
  leg = call("+12125550100", events);
  ASSERT_TRUE(wait_until([&] { return events->final_status().has_value(); }, 10s));

  auto final = *events->final_status();
  EXPECT_EQ(final.status, CallStatus::completed);
  ASSERT_TRUE(final.duration_seconds);
  EXPECT_GE(*final.duration_seconds, 1);
  EXPECT_TRUE(events->has_status(CallStatus::dialing));
  EXPECT_TRUE(events->has_status(CallStatus::ringing));
  EXPECT_TRUE(events->has_status(CallStatus::in_progress));
  auto calls = fake->calls();
  ASSERT_EQ(calls.size(), 1u);
  {
    std::lock_guard lock(events->mutex);
    EXPECT_EQ(events->provider_id, calls[0].sid);
    EXPECT_TRUE(events->media_started);
    // Every callee frame arrived, in order, 20 ms apart.
    EXPECT_EQ(events->audio_frames, calls[0].frames_sent);
    EXPECT_EQ(events->audio_frames, 60u);
    EXPECT_EQ(events->audio_bytes, 60u * 160);
    for (std::size_t i = 0; i < events->audio_timestamps_us.size(); ++i)
      EXPECT_EQ(events->audio_timestamps_us[i], i * 20'000);
    // One mark per chunk came back, each one 20 ms further.
    ASSERT_EQ(events->playback_us.size(), 10u);
    for (std::size_t i = 0; i < 10; ++i) EXPECT_EQ(events->playback_us[i], static_cast<std::int64_t>((i + 1) * 20'000));
    ASSERT_FALSE(events->media_stopped.empty());
  }
  EXPECT_EQ(calls[0].agent_bytes_received, 1600u);
  EXPECT_EQ(calls[0].agent_bytes_played, 1600u);
  EXPECT_EQ(calls[0].marks_echoed.size(), 10u);
  // Nothing but media, mark and clear went to Twilio.
  EXPECT_TRUE(fake->records_of("ws.unexpected").empty());

  // The create request, as Twilio documents it.
  const auto create = fake->records_of("rest.create");
  ASSERT_EQ(create.size(), 1u);
  const auto form = parse_form(create[0].detail);
  auto values = [&](const std::string& name) {
    std::vector<std::string> out;
    for (const auto& [k, v] : form)
      if (k == name) out.push_back(v);
    return out;
  };
  EXPECT_EQ(values("To"), std::vector<std::string>{"+12125550100"});
  EXPECT_EQ(values("From"), std::vector<std::string>{"+15005550006"});
  EXPECT_EQ(values("Url"), std::vector<std::string>{"https://concierge.test/twiml?call_id=call-1"});
  EXPECT_EQ(values("Method"), std::vector<std::string>{"POST"});
  EXPECT_EQ(values("StatusCallback"), std::vector<std::string>{"https://concierge.test/twilio/status?call_id=call-1"});
  EXPECT_EQ(values("StatusCallbackEvent"),
            (std::vector<std::string>{"initiated", "ringing", "answered", "completed"}));
  EXPECT_EQ(values("Timeout"), std::vector<std::string>{"30"});
  // The TwiML carried the call id as a parameter, and the start message brought it back.
  const auto twiml = fake->records_of("twiml");
  ASSERT_EQ(twiml.size(), 1u);
  EXPECT_NE(twiml[0].detail.find("<Parameter name=\"call_id\" value=\"call-1\"/>"), std::string::npos);
  const auto custom = nlohmann::json::parse(fake->records_of("ws.sent.start").at(0).detail);
  EXPECT_EQ(custom["call_id"], "call-1");
  EXPECT_EQ(custom["stream_token"].get<std::string>().size(), 32u);  // the call's one-time stream credential
  EXPECT_NE(twiml[0].detail.find("<Parameter name=\"stream_token\" value=\"" + custom["stream_token"].get<std::string>()),
            std::string::npos);
  // Every status callback was accepted.
  for (const auto& record : fake->records_of("status")) EXPECT_NE(record.detail.find("-> 204"), std::string::npos) << record.detail;
}

TEST_F(PluginWithFakeTwilio, MagicNumbersFailWithTwiliosErrors) {
  start({}, [](TwilioConfig& config) { config.destinations.allow_test_numbers = true; });
  const std::pair<const char*, const char*> cases[] = {
      {"+15005550001", "Twilio error 21217: Phone number does not appear to be valid "
                       "(https://www.twilio.com/docs/errors/21217)"},
      {"+15005550002", "Twilio error 21214: 'To' phone number cannot be reached "
                       "(https://www.twilio.com/docs/errors/21214)"},
      {"+15005550003", "Twilio error 21215: Account not authorized to call +15005550003"},
      {"+15005550004", "Twilio error 21216: Account not allowed to call +15005550004"}};
  int n = 0;
  for (const auto& [to, reason] : cases) {
    auto events = std::make_shared<RecordingEvents>();
    legs.push_back(call(to, events, "magic-" + std::to_string(++n)));
    ASSERT_TRUE(wait_until([&] { return events->final_status().has_value(); }, 5s)) << to;
    EXPECT_EQ(events->final_status()->status, CallStatus::failed);
    EXPECT_EQ(events->final_status()->reason.rfind(reason, 0), 0u) << events->final_status()->reason;
  }
  EXPECT_TRUE(fake->calls().empty());
}

TEST_F(PluginWithFakeTwilio, WrongAuthTokenIsTwilios20003) {
  start({}, [](TwilioConfig& config) { config.auth_token = "not-the-token"; });
  auto events = std::make_shared<RecordingEvents>();
  legs.push_back(call("+12125550100", events));
  ASSERT_TRUE(wait_until([&] { return events->final_status().has_value(); }, 5s));
  EXPECT_EQ(events->final_status()->status, CallStatus::failed);
  EXPECT_EQ(events->final_status()->reason,
            "Twilio error 20003: Authenticate - Your AccountSid or AuthToken was incorrect. "
            "(https://www.twilio.com/docs/errors/20003)");
}

TEST_F(PluginWithFakeTwilio, UnreachableTwilioFailsTheCallWithAClearReason) {
  std::string dead_url;
  {
    FakeTwilio gone{{}};
    dead_url = gone.base_url();
  }  // closed: nothing listens on that port now
  start({}, [&](TwilioConfig& config) { config.api_base_url = dead_url; });
  auto events = std::make_shared<RecordingEvents>();
  legs.push_back(call("+12125550100", events));
  ASSERT_TRUE(wait_until([&] { return events->final_status().has_value(); }, 10s));
  EXPECT_EQ(events->final_status()->status, CallStatus::failed);
  EXPECT_EQ(events->final_status()->reason.rfind("could not reach Twilio at " + dead_url + ": ", 0), 0u)
      << events->final_status()->reason;
}

TEST_F(PluginWithFakeTwilio, BusyAndNoAnswerComeFromStatusCallbacks) {
  FakeTwilioOptions options;
  options.scenario = [](const fake_twilio::CreatedCall& call) {
    return call.field("To") == "+12125550111" ? Scenario::busy : Scenario::no_answer;
  };
  start(options);
  auto busy = std::make_shared<RecordingEvents>();
  auto silent = std::make_shared<RecordingEvents>();
  legs.push_back(call("+12125550111", busy, "busy"));
  legs.push_back(call("+12125550112", silent, "silent"));
  ASSERT_TRUE(wait_until([&] { return busy->final_status() && silent->final_status(); }, 10s));
  EXPECT_EQ(busy->final_status()->status, CallStatus::busy);
  EXPECT_EQ(busy->final_status()->reason, "the line was busy");
  EXPECT_EQ(silent->final_status()->status, CallStatus::no_answer);
  EXPECT_TRUE(busy->has_status(CallStatus::ringing));
  EXPECT_FALSE(busy->media_started);
  EXPECT_TRUE(fake->records_of("twiml").empty());
}

class SignatureModes : public PluginWithFakeTwilio, public ::testing::WithParamInterface<SignatureMode> {};

TEST_P(SignatureModes, UnsignedOrForgedRequestsAreRefusedAndChangeNothing) {
  FakeTwilioOptions options;
  options.signature = GetParam();
  start(options);
  auto events = std::make_shared<RecordingEvents>();
  legs.push_back(call("+12125550100", events));
  ASSERT_TRUE(fake->wait_for([](const FakeTwilio& f) { return !f.records_of("call.end").empty(); }, 10s));
  const auto twiml = fake->records_of("twiml");
  ASSERT_EQ(twiml.size(), 1u);
  EXPECT_EQ(twiml[0].detail.rfind("403 ", 0), 0u) << twiml[0].detail;
  for (const auto& record : fake->records_of("status")) EXPECT_NE(record.detail.find("-> 403"), std::string::npos);
  EXPECT_TRUE(fake->records_of("ws.open").empty());
  // Only what the REST answer said: Twilio queued the call. No callback moved it.
  std::lock_guard lock(events->mutex);
  ASSERT_EQ(events->statuses.size(), 1u);
  EXPECT_EQ(events->statuses[0].status, CallStatus::dialing);
  EXPECT_FALSE(events->media_started);
  EXPECT_TRUE(log->contains(GetParam() == SignatureMode::missing ? "missing X-Twilio-Signature" : "invalid X-Twilio-Signature"));
}

INSTANTIATE_TEST_SUITE_P(Forged, SignatureModes, ::testing::Values(SignatureMode::forged, SignatureMode::missing));

TEST_F(PluginWithFakeTwilio, ForgedMediaStreamHandshakeIsRefused) {
  // Webhooks signed correctly, then the WebSocket handshake forged: the upgrade is refused with 403.
  FakeTwilioOptions options;
  options.stream_signature = SignatureMode::forged;
  start(options);
  auto events = std::make_shared<RecordingEvents>();
  legs.push_back(call("+12125550100", events));
  ASSERT_TRUE(fake->wait_for([](const FakeTwilio& f) { return !f.records_of("call.end").empty(); }, 10s));
  const auto refused = fake->records_of("ws.refused");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_NE(refused[0].detail.find("declined"), std::string::npos) << refused[0].detail;  // Beast: upgrade declined
  EXPECT_EQ(fake->records_of("twiml").at(0).detail.rfind("200 ", 0), 0u);
  EXPECT_FALSE(events->media_started);
  EXPECT_TRUE(log->contains("invalid X-Twilio-Signature on GET /media-stream"));
}

// The attack on the stream credential: with the (constant) handshake signature, an intruder replays the start
// message a real stream sent, token and all, while the call is running and after it; tries a dialing call's id with
// no token, a made-up one and an empty callSid. Every attempt is closed without a byte of the agent's audio, and
// the real stream carries on.
TEST_F(PluginWithFakeTwilio, ReplayedOrForgedStreamStartsAreRefusedAndHearNothing) {
  FakeTwilioOptions options;
  options.ring_time = 6000ms;  // 1.5 s at the fixture's speed 4: the second call is attacked while it rings
  options.callee = [](const fake_twilio::CreatedCall&) {
    auto script = std::make_shared<SegmentScript>();
    script->stay_on_line();
    return script;
  };
  start(options);
  auto events = std::make_shared<RecordingEvents>();
  std::shared_ptr<CallLeg> leg = call("+12125550100", events);
  ASSERT_TRUE(fake->wait_for([](const FakeTwilio& f) { return !f.records_of("ws.sent.start").empty(); }, 10s));
  ASSERT_TRUE(wait_until([&] { return media_started(events); }, 10s));
  const auto sent = fake->records_of("ws.sent.start").at(0);
  const nlohmann::json captured = nlohmann::json::parse(sent.detail);
  // The agent talks on the real stream the whole time: anything attached to the call would get these frames.
  std::atomic<bool> talking{true};
  std::thread agent([&] {
    while (talking) {
      host->on_loop([&] {
        std::vector<std::uint8_t> frame(160, 0x55);
        leg->send_audio({AudioFormat::mulaw_8k(), frame, 0});
        return 0;
      });
      std::this_thread::sleep_for(20ms);
    }
  });
  auto attack = [&](const std::string& call_sid, const nlohmann::json& custom) {
    StreamIntruder intruder(port, "fake-auth-token");
    intruder.send({{"event", "connected"}, {"protocol", "Call"}, {"version", "1.0.0"}});
    intruder.send(start_for(call_sid, custom));
    const bool closed = intruder.read_until_closed(3s);
    EXPECT_TRUE(closed) << custom.dump();
    for (const auto& message : intruder.received)
      EXPECT_EQ(message.find("\"media\""), std::string::npos) << "the intruder heard the agent: " << message;
    return intruder.received.size();
  };
  // 1. The captured start, replayed while the call runs.
  EXPECT_EQ(attack(sent.call_sid, captured), 0u);
  EXPECT_TRUE(log->contains("already has a media stream"));

  // 2. A second call, attacked while it is still ringing (no TwiML fetched yet): its id with no token, with the
  // first call's token, and with an empty callSid. (Each check on its own: provider_test.)
  auto second_events = std::make_shared<RecordingEvents>();
  std::shared_ptr<CallLeg> second = call("+12125550101", second_events, "call-2");
  ASSERT_TRUE(wait_until([&] { std::lock_guard lock(second_events->mutex); return !second_events->provider_id.empty(); }, 10s));
  const std::string second_sid = [&] { std::lock_guard lock(second_events->mutex); return second_events->provider_id; }();
  EXPECT_EQ(attack(second_sid, {{"call_id", "call-2"}}), 0u);
  EXPECT_EQ(attack(second_sid, {{"call_id", "call-2"}, {"stream_token", captured["stream_token"]}}), 0u);
  EXPECT_EQ(attack("", {{"call_id", "call-2"}, {"stream_token", captured["stream_token"]}}), 0u);
  EXPECT_TRUE(log->contains("no stream token was issued for this call"));
  EXPECT_FALSE(media_started(second_events));
  // Its real stream, once Twilio answers, is taken.
  ASSERT_TRUE(wait_until([&] { return media_started(second_events); }, 10s));

  // 3. The first call's start replayed after the call is over (its token spent).
  host->on_loop([&] { leg->hang_up(); return 0; });
  ASSERT_TRUE(wait_until([&] { return events->final_status().has_value(); }, 10s));
  talking = false;
  agent.join();
  EXPECT_EQ(attack(sent.call_sid, captured), 0u);
  // The first call's real stream got the agent's audio all along.
  const auto stats = fake->calls();
  const auto first = std::find_if(stats.begin(), stats.end(), [&](const auto& c) { return c.sid == sent.call_sid; });
  ASSERT_NE(first, stats.end());
  EXPECT_GT(first->agent_bytes_received, 0u);
  host->on_loop([&] { second->hang_up(); return 0; });
}

// The clear crosses marks on the wire: Twilio echoes the marks of audio it played before the clear reached it, then
// those of the audio the clear dropped, and the two cannot be told apart, so the plugin counts only what a mark it
// processed before the clear said was heard. Progress after the clear therefore starts from that (never past what was
// played); the audio played while the clear was in flight is not counted.
TEST_F(PluginWithFakeTwilio, ClearDropsUnplayedAudioAndPlaybackCountsOnlyWhatWasHeard) {
  FakeTwilioOptions options;
  options.speed = 1.0 + 1e-9;  // real time: the clear must land while audio is still queued
  options.callee = [](const fake_twilio::CreatedCall&) {
    auto script = std::make_shared<SegmentScript>();
    script->pause(100ms).stay_on_line();  // the test hangs up once it has seen what it waits for
    return script;
  };
  start(options);
  auto events = std::make_shared<RecordingEvents>();
  std::shared_ptr<CallLeg> leg;
  std::vector<std::uint8_t> frame(160, 0x55);
  events->when_media_started = [&] {
    // 10 s queued at once: the clear lands while most of it is unplayed however late the test gets to send it.
    for (int i = 0; i < 500; ++i) leg->send_audio({AudioFormat::mulaw_8k(), frame, 0});
  };
  leg = call("+12125550100", events);
  ASSERT_TRUE(wait_until([&] { return events->last_playback_us() >= 200'000; }, 10s));
  const std::int64_t heard_at_clear = host->on_loop([&] {
    leg->clear_audio();
    return events->last_playback_us();  // the plugin ignores every mark from here until new audio
  });
  ASSERT_TRUE(fake->wait_for([](const FakeTwilio& f) { return !f.records_of("clear.in").empty(); }, 5s));
  const std::size_t played_at_clear = fake->calls().at(0).agent_bytes_played;
  // After the clear, 5 more frames: progress continues from what was heard, not from what was sent.
  host->on_loop([&] {
    for (int i = 0; i < 5; ++i) leg->send_audio({AudioFormat::mulaw_8k(), frame, 0});
  });
  ASSERT_TRUE(wait_until([&] { return events->last_playback_us() >= heard_at_clear + 100'000; }, 10s))
      << "the 5 frames sent after the clear are heard; progress is " << events->last_playback_us();
  host->on_loop([&] { leg->hang_up(); return 0; });
  ASSERT_TRUE(wait_until([&] { return events->final_status().has_value(); }, 10s));
  const auto calls = fake->calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].clears, 1u);
  EXPECT_GT(calls[0].agent_bytes_dropped, 0u);
  EXPECT_EQ(calls[0].agent_bytes_played + calls[0].agent_bytes_dropped, calls[0].agent_bytes_received);
  EXPECT_EQ(calls[0].agent_bytes_played, played_at_clear + 5 * 160) << "all of the new audio, nothing of the cleared";
  // Marks the clear dropped came back (as Twilio does) and were ignored: progress never went past what was played,
  // and counts exactly the new audio on top of what was heard at the clear.
  std::lock_guard lock(events->mutex);
  ASSERT_FALSE(events->playback_us.empty());
  EXPECT_EQ(events->playback_us.back(), heard_at_clear + 100'000);
  EXPECT_LE(events->playback_us.back(), static_cast<std::int64_t>(calls[0].agent_bytes_played) * 125);
  EXPECT_GE(heard_at_clear, 200'000);
  for (std::size_t i = 1; i < events->playback_us.size(); ++i) EXPECT_GT(events->playback_us[i], events->playback_us[i - 1]);
  const auto clear = fake->records_of("clear.in");
  ASSERT_EQ(clear.size(), 1u);
}

TEST_F(PluginWithFakeTwilio, HangUpEndsTheCallAtTwilioAndClosesTheStream) {
  FakeTwilioOptions options;
  options.callee = [](const fake_twilio::CreatedCall&) {
    auto script = std::make_shared<SegmentScript>();
    script->stay_on_line();
    return script;
  };
  start(options);
  auto events = std::make_shared<RecordingEvents>();
  auto leg = call("+12125550100", events);
  ASSERT_TRUE(wait_until([&] { return events->audio_frames > 5; }, 10s));
  host->on_loop([&] { leg->hang_up(); leg->hang_up(); });
  ASSERT_TRUE(wait_until([&] { return events->final_status().has_value(); }, 10s));
  EXPECT_EQ(events->final_status()->status, CallStatus::completed);
  const auto updates = fake->records_of("rest.update");
  ASSERT_EQ(updates.size(), 1u);  // hang_up is idempotent
  EXPECT_EQ(updates[0].detail, "Status=completed");
  ASSERT_TRUE(fake->wait_for([](const FakeTwilio& f) { return !f.records_of("call.end").empty(); }, 5s));
  std::lock_guard lock(events->mutex);
  ASSERT_EQ(events->media_stopped.size(), 1u);
}

// Twilio cuts the stream's connection after 10 frames. Its "completed" callback comes on another connection and in
// no fixed order with the stream; here it is held until the daemon has seen the stream end (on a busy machine the
// callback could otherwise be handled first, and the call would end with "the call ended" and the frames still
// unread dropped, which is right for the daemon but not what this test is about).
TEST_F(PluginWithFakeTwilio, DroppedMediaConnectionStopsTheMediaAndTheCallEnds) {
  FakeTwilioOptions options;
  options.drop_media_after_frames = 10;
  options.hold_final_callbacks = true;
  options.callee = [](const fake_twilio::CreatedCall&) {
    auto script = std::make_shared<SegmentScript>();
    script->stay_on_line();
    return script;
  };
  start(options);
  auto events = std::make_shared<RecordingEvents>();
  legs.push_back(call("+12125550100", events));
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard lock(events->mutex);
    return !events->media_stopped.empty();
  }, 10s));
  {
    std::lock_guard lock(events->mutex);
    ASSERT_EQ(events->media_stopped.size(), 1u);
    EXPECT_EQ(events->media_stopped[0].rfind("the media stream closed: ", 0), 0u) << events->media_stopped[0];
    EXPECT_EQ(events->audio_frames, 10u);  // every frame sent before the cut was read and handed on
  }
  EXPECT_EQ(fake->records_of("ws.dropped").size(), 1u);
  EXPECT_FALSE(events->final_status().has_value());  // the stream's end alone does not end the call
  fake->release_final_callbacks();
  ASSERT_TRUE(wait_until([&] { return events->final_status().has_value(); }, 10s));
  EXPECT_EQ(events->final_status()->status, CallStatus::completed);  // Twilio's completed callback
  std::lock_guard lock(events->mutex);
  EXPECT_EQ(events->media_stopped.size(), 1u);
}

TEST_F(PluginWithFakeTwilio, FailedScenarioReportsFailed) {
  FakeTwilioOptions options;
  options.scenario = [](const fake_twilio::CreatedCall&) { return Scenario::failed; };
  start(options);
  auto events = std::make_shared<RecordingEvents>();
  legs.push_back(call("+12125550100", events));
  ASSERT_TRUE(wait_until([&] { return events->final_status().has_value(); }, 10s));
  EXPECT_EQ(events->final_status()->status, CallStatus::failed);
  EXPECT_EQ(events->final_status()->reason, "Twilio could not connect the call");
}

TEST_F(PluginWithFakeTwilio, HangUpBeforeTwilioAnsweredTheCreateIsSentOnceTheSidIsKnown) {
  start();
  auto events = std::make_shared<RecordingEvents>();
  auto leg = host->on_loop([&] {
    auto placed = provider->place_call(OutboundCall{"early", "+12125550100", "Demo", 30s}, events);
    placed->hang_up();  // same loop turn: the create request has not been answered yet
    return placed;
  });
  ASSERT_TRUE(wait_until([&] { return events->final_status().has_value(); }, 10s));
  EXPECT_EQ(events->final_status()->status, CallStatus::canceled);
  const auto updates = fake->records_of("rest.update");
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].call_sid, fake->records_of("rest.create").at(0).call_sid);
  ASSERT_TRUE(fake->wait_for([](const FakeTwilio& f) { return !f.records_of("call.end").empty(); }, 5s));
  EXPECT_TRUE(fake->records_of("twiml").empty());
}

TEST_F(PluginWithFakeTwilio, RealTimePacing) {
  FakeTwilioOptions options;
  options.speed = 1.0 + 1e-9;
  options.ring_time = 100ms;
  options.callee = [](const fake_twilio::CreatedCall&) {
    auto script = std::make_shared<SegmentScript>();
    script->pause(1000ms);
    return script;
  };
  start(options);
  auto events = std::make_shared<RecordingEvents>();
  // Measured from before the call is placed, not from when the test notices the first frame: under load the test
  // notices it late, and the fake's frames keep to their schedule (a late one is caught up), so "first seen" to
  // "50th seen" can be shorter than the 980 ms the frames span. Nothing can send frame 50 sooner than 980 ms after
  // the stream began, and the stream begins after this point.
  const auto placed = std::chrono::steady_clock::now();
  legs.push_back(call("+12125550100", events));
  ASSERT_TRUE(wait_until([&] { return events->audio_frames >= 50; }, 10s));
  const auto last = std::chrono::steady_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(last - placed).count();
  EXPECT_GE(ms, 980);   // never early: 49 frames of 20 ms after the first
  EXPECT_LE(ms, 6000);  // eventually: the ring (100 ms) and set-up, then paced in real time, late only by the load
}

}  // namespace
}  // namespace concierge::twilio

namespace concierge::twilio {
namespace {

// A slow Twilio: every create but the first call's is answered only after kSlow. The REST requests share the
// host's client on the event loop, so the slow creates are all in flight at once and the first call's hang-up
// reaches Twilio while they wait. (With REST on two blocking worker threads, the third create waited for the first
// to be answered and the hang-up waited behind them.)
TEST_F(PluginWithFakeTwilio, SlowCreatesRunTogetherAndDelayNoHangUpOfAnotherCall) {
  constexpr auto kSlow = std::chrono::milliseconds(2000);
  constexpr const char* kFirst = "+12125550100";
  FakeTwilioOptions options;
  options.create_answer_delay = [kFirst, kSlow](const fake_twilio::CreatedCall& created) {
    return created.field("To") == kFirst ? std::chrono::milliseconds(0) : kSlow;
  };
  options.scenario = [kFirst](const fake_twilio::CreatedCall& created) {
    return created.field("To") == kFirst ? Scenario::answer : Scenario::no_answer;
  };
  options.ring_time = 8000ms;  // the slow calls ring on (scaled by speed 4: 2 s) while their creates wait
  options.callee = [](const fake_twilio::CreatedCall&) {
    auto script = std::make_shared<SegmentScript>();
    script->stay_on_line();
    return script;
  };
  start(options);
  auto first = std::make_shared<RecordingEvents>();
  legs.push_back(call(kFirst, first, "first"));
  ASSERT_TRUE(wait_until([&] { return media_started(first); }, 10s));
  const std::string first_sid = fake->records_of("rest.create").at(0).call_sid;

  std::vector<std::shared_ptr<RecordingEvents>> slow;
  for (int i = 1; i <= 3; ++i) {
    slow.push_back(std::make_shared<RecordingEvents>());
    legs.push_back(call("+1212555011" + std::to_string(i), slow.back(), "slow-" + std::to_string(i)));
  }
  ASSERT_TRUE(fake->wait_for([](const FakeTwilio& f) { return f.records_of("rest.create").size() == 4; }, 10s))
      << "the slow creates did not all reach Twilio";
  const auto hung_up_at = std::chrono::steady_clock::now();
  host->on_loop([&] { legs[0]->hang_up(); });
  ASSERT_TRUE(fake->wait_for([](const FakeTwilio& f) { return !f.records_of("rest.update").empty(); }, 10s));
  const auto hang_up_took = std::chrono::steady_clock::now() - hung_up_at;
  const auto update = fake->records_of("rest.update").at(0);
  EXPECT_EQ(update.call_sid, first_sid);
  // Never late by a slow create's wait (a generous bound: the hang-up is a loopback round trip).
  EXPECT_LT(hang_up_took, kSlow);
  // And in order: Twilio had answered none of the slow creates when the hang-up arrived.
  for (const auto& answered : fake->records_of("rest.answered")) {
    if (answered.call_sid != first_sid) {
      EXPECT_GT(answered.at, update.at);
    }
  }

  // All three slow creates were at Twilio before the first of them was answered: they ran concurrently.
  ASSERT_TRUE(fake->wait_for([](const FakeTwilio& f) { return f.records_of("rest.answered").size() == 4; }, 15s));
  auto latest_create = std::chrono::steady_clock::duration::min();
  auto earliest_answer = std::chrono::steady_clock::duration::max();
  for (const auto& created : fake->records_of("rest.create"))
    if (created.call_sid != first_sid) latest_create = std::max(latest_create, created.at);
  for (const auto& answered : fake->records_of("rest.answered"))
    if (answered.call_sid != first_sid) earliest_answer = std::min(earliest_answer, answered.at);
  EXPECT_LT(latest_create, earliest_answer);
  // Each slow call learnt its SID when its answer came.
  for (const auto& events : slow) {
    EXPECT_TRUE(wait_until([&] {
      std::lock_guard lock(events->mutex);
      return events->provider_id.rfind("CA", 0) == 0;
    }, 10s));
  }
  ASSERT_TRUE(wait_until([&] { return first->final_status().has_value(); }, 10s));
  EXPECT_EQ(first->final_status()->status, CallStatus::completed);
}

// Twilio answers the create after the plugin's timeout, but its signed callbacks (initiated, ringing, the TwiML
// fetch) named the call first: the call was placed, so it carries on instead of failing with a false reason and
// leaving a ghost at Twilio.
TEST_F(PluginWithFakeTwilio, ACreateAnsweredTooLateButShownByItsCallbacksCarriesOn) {
  FakeTwilioOptions options;
  options.create_answer_delay = [](const fake_twilio::CreatedCall&) { return std::chrono::milliseconds(2500); };
  options.callee = [](const fake_twilio::CreatedCall&) {
    auto script = std::make_shared<SegmentScript>();
    script->stay_on_line();
    return script;
  };
  start(options, [](TwilioConfig& config) { config.request_timeout = 1s; });
  auto events = std::make_shared<RecordingEvents>();
  legs.push_back(call("+12125550100", events, "late-answer"));
  ASSERT_TRUE(wait_until([&] { return media_started(events); }, 10s));
  // Past the timeout: the create has given up waiting, and the call is still on.
  ASSERT_TRUE(wait_until([&] { return log->contains("carrying on"); }, 10s));
  EXPECT_FALSE(events->has_status(CallStatus::failed));
  const std::string sid = fake->records_of("rest.create").at(0).call_sid;
  {
    std::lock_guard lock(events->mutex);
    EXPECT_EQ(events->provider_id, sid);
  }
  host->on_loop([&] { legs[0]->hang_up(); });
  ASSERT_TRUE(wait_until([&] { return events->final_status().has_value(); }, 10s));
  EXPECT_EQ(events->final_status()->status, CallStatus::completed);
  ASSERT_EQ(fake->records_of("rest.update").size(), 1u);
  EXPECT_EQ(fake->records_of("rest.update")[0].call_sid, sid);
}

// The host hangs up and lets the leg go while the create is still on its way (a user's cancel in the daemon): the
// leg stays until Twilio's answer brings the SID, then ends the call there.
TEST_F(PluginWithFakeTwilio, AHangUpDuringASlowCreateEndsTheCallEvenWhenTheHostLetTheLegGo) {
  FakeTwilioOptions options;
  options.create_answer_delay = [](const fake_twilio::CreatedCall&) { return std::chrono::milliseconds(500); };
  options.ring_time = 8000ms;
  start(options, [](TwilioConfig& config) { config.status_callback_events = {"completed"}; });
  auto events = std::make_shared<RecordingEvents>();
  host->on_loop([&] {
    auto leg = provider->place_call(OutboundCall{"let-go", "+12125550100", "Demo", 30s}, events);
    leg->hang_up();
  });  // the only reference the host had is gone
  ASSERT_TRUE(fake->wait_for([](const FakeTwilio& f) { return !f.records_of("rest.update").empty(); }, 10s));
  EXPECT_EQ(fake->records_of("rest.update")[0].call_sid, fake->records_of("rest.create").at(0).call_sid);
  EXPECT_NE(fake->records_of("rest.update")[0].detail.find("Status=completed"), std::string::npos);
}

// Twilio answers the create after the plugin has given up on it (request_timeout), and places the call only after
// that answer: no callback has named the call by then. The request waited on (late_answer_seconds), so the late
// answer's SID is known: the plugin ends the call at Twilio (Status=canceled) and reports, after the call's final
// "failed", its SID and what really happened (CallEvents::on_late_status), ending with the status Twilio gave it.
TEST_F(PluginWithFakeTwilio, ACreateAnsweredAfterTheCallWasGivenUpOnIsEndedAtTwilioAndReportedLate) {
  FakeTwilioOptions options;
  options.create_answer_delay = [](const fake_twilio::CreatedCall&) { return std::chrono::milliseconds(2000); };
  options.placing_delay = [](const fake_twilio::CreatedCall&) { return std::chrono::milliseconds(5000); };
  start(options, [](TwilioConfig& config) {
    config.request_timeout = 1s;
    config.late_answer_wait = 10s;
  });
  auto events = std::make_shared<RecordingEvents>();
  const auto placed_at = std::chrono::steady_clock::now();
  legs.push_back(call("+12125550100", events, "given-up"));
  ASSERT_TRUE(wait_until([&] { return events->final_status().has_value(); }, 10s));
  EXPECT_GE(std::chrono::steady_clock::now() - placed_at, 1s);  // never before request_timeout
  EXPECT_EQ(events->final_status()->status, CallStatus::failed);
  EXPECT_NE(events->final_status()->reason.find("no answer to the create within 1 s"), std::string::npos)
      << events->final_status()->reason;
  {
    std::lock_guard lock(events->mutex);
    EXPECT_TRUE(events->provider_id.empty());
    EXPECT_TRUE(events->late_statuses.empty());
  }
  legs.clear();  // the host lets the finished call go, as the daemon does

  // The answer comes: the SID, the cancel at Twilio, and the late statuses.
  ASSERT_TRUE(fake->wait_for([](const FakeTwilio& f) { return !f.records_of("rest.update").empty(); }, 10s));
  const std::string sid = fake->records_of("rest.create").at(0).call_sid;
  EXPECT_EQ(fake->records_of("rest.update").at(0).call_sid, sid);
  EXPECT_NE(fake->records_of("rest.update").at(0).detail.find("Status=canceled"), std::string::npos);
  // Before Twilio placed it: the late answer alone was enough.
  EXPECT_TRUE(fake->records_of("status").empty());
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard lock(events->mutex);
    return !events->late_statuses.empty() && is_terminal(events->late_statuses.back().status);
  }, 10s));
  std::lock_guard lock(events->mutex);
  EXPECT_EQ(events->provider_id, sid);
  ASSERT_GE(events->late_statuses.size(), 2u);
  EXPECT_EQ(events->late_statuses.front().status, CallStatus::dialing);  // Twilio's "queued"
  EXPECT_NE(events->late_statuses.front().reason.find("ending it through the REST API"), std::string::npos);
  const auto& last = events->late_statuses.back();
  EXPECT_EQ(last.status, CallStatus::canceled);
  EXPECT_NE(last.reason.find("Twilio placed the call after the create had failed here (could not reach Twilio"),
            std::string::npos)
      << last.reason;
  EXPECT_NE(last.reason.find("the call was ended through the REST API"), std::string::npos) << last.reason;
  EXPECT_EQ(events->statuses.size(), 1u);  // nothing more through on_status: the call stayed over
  EXPECT_EQ(fake->records_of("rest.update").size(), 1u);
}

// Twilio's asynchronous answering-machine detection over real sockets: the create asks for it, the fake posts the
// verdict to /twilio/amd signed as Twilio signs, and it reaches the host once, with the call's other events. The
// callee's key press comes as a Media Streams `dtmf` message; the agent's keys go to the line as in-band tones,
// which the fake hears with the SDK's detector, as a phone menu does.
TEST_F(PluginWithFakeTwilio, TheAnsweringMachineVerdictAndKeysTravelBothWays) {
  FakeTwilioOptions options;
  options.amd_verdict = [](const fake_twilio::CreatedCall&) { return std::string("machine_end_beep"); };
  options.amd_after = 200ms;
  options.callee = [](const fake_twilio::CreatedCall&) {
    auto script = std::make_shared<SegmentScript>();
    script->pause(100ms).press('7').pause(900ms);
    return script;
  };
  start(options, [](TwilioConfig& config) { config.machine_detection = "DetectMessageEnd"; });
  auto events = std::make_shared<RecordingEvents>();
  std::shared_ptr<CallLeg> leg;
  events->when_media_started = [&] {
    // The agent presses 1: the SDK's tones, mu-law, in 20 ms frames.
    dtmf::Generator keys(8000);
    keys.press("1");
    std::vector<std::int16_t> samples(160);
    std::vector<std::uint8_t> frame(160);
    while (keys.busy()) {
      std::fill(samples.begin(), samples.end(), 0);
      keys.generate(samples);
      mulaw::encode(samples, frame);
      leg->send_audio({AudioFormat::mulaw_8k(), frame, 0});
    }
  };
  leg = call("+12125550100", events);
  ASSERT_TRUE(wait_until([&] { return events->final_status().has_value(); }, 10s));
  const auto create = parse_form(fake->records_of("rest.create").at(0).detail);
  auto value = [&](const std::string& name) {
    for (const auto& [k, v] : create)
      if (k == name) return v;
    return std::string();
  };
  EXPECT_EQ(value("MachineDetection"), "DetectMessageEnd");
  EXPECT_EQ(value("AsyncAmd"), "true");
  EXPECT_EQ(value("AsyncAmdStatusCallback"), "https://concierge.test/twilio/amd?call_id=call-1");
  const auto amd = fake->records_of("amd");
  ASSERT_EQ(amd.size(), 1u);
  EXPECT_EQ(amd[0].detail, "machine_end_beep -> 204");
  const auto final = *events->final_status();
  EXPECT_EQ(final.answered_by, "machine_end_beep");
  ASSERT_EQ(fake->calls().size(), 1u);
  EXPECT_EQ(fake->calls()[0].keys_heard, "1");
  std::lock_guard lock(events->mutex);
  std::vector<std::string> verdicts;
  for (const auto& update : events->statuses)
    if (!update.answered_by.empty() && !is_terminal(update.status)) verdicts.push_back(update.answered_by);
  EXPECT_EQ(verdicts, std::vector<std::string>{"machine_end_beep"});
  EXPECT_EQ(events->dtmf, "7");
  EXPECT_EQ(fake->records_of("dtmf.sent").size(), 1u);
}

// A verdict that is not signed as Twilio signs (forged, or with no signature), or whose AnsweredBy is no verdict
// (bytes %FF), is refused and reaches nothing; the call goes on.
TEST_F(PluginWithFakeTwilio, ForgedOrMalformedVerdictsAreRefused) {
  struct Case {
    std::string verdict;
    SignatureMode signature;
    const char* answer;
    const char* logged;
  };
  const Case cases[] = {
      {"\xFF", SignatureMode::correct, "-> 400", "AnsweredBy that is not a verdict"},
      {"machine_end_beep", SignatureMode::forged, "-> 403", "invalid X-Twilio-Signature on POST /twilio/amd?call_id=call-1"},
      {"human", SignatureMode::missing, "-> 403", "missing X-Twilio-Signature on POST /twilio/amd?call_id=call-1"},
  };
  for (const Case& c : cases) {
    FakeTwilioOptions options;
    options.amd_verdict = [&c](const fake_twilio::CreatedCall&) { return c.verdict; };
    options.amd_signature = c.signature;
    options.amd_after = 100ms;
    options.callee = [](const fake_twilio::CreatedCall&) {
      return std::make_shared<SegmentScript>(std::move(SegmentScript().pause(600ms)));
    };
    TearDown();
    start(options, [](TwilioConfig& config) { config.machine_detection = "Enable"; });
    auto events = std::make_shared<RecordingEvents>();
    legs.push_back(call("+12125550100", events));
    ASSERT_TRUE(wait_until([&] { return events->final_status().has_value(); }, 10s));
    const auto amd = fake->records_of("amd");
    ASSERT_EQ(amd.size(), 1u);
    EXPECT_EQ(amd[0].detail.substr(amd[0].detail.size() - 6), c.answer) << amd[0].detail;
    EXPECT_TRUE(log->contains(c.logged)) << c.logged;
    EXPECT_EQ(events->final_status()->status, CallStatus::completed);
    std::lock_guard lock(events->mutex);
    EXPECT_TRUE(events->media_started);
    for (const auto& update : events->statuses) EXPECT_EQ(update.answered_by, "") << update.answered_by;
  }
}

}  // namespace
}  // namespace concierge::twilio
