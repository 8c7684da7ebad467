// The Twilio side of real calls: errors on create (the test credentials' magic numbers, wrong credentials, a From
// number the account does not own) and the X-Twilio-Signature check on every request Twilio makes to the daemon.
#include "e2e.hpp"

namespace concierge::e2e {
namespace {

// Twilio's test credentials: To +15005550001..4 fail the create with these codes (https://www.twilio.com/docs/iam/test-credentials).
TEST(E2ETwilioErrors, TheMagicToNumbersFailTheCallWithTwilioSErrorAndNothingIsDialled) {
  Rig rig;
  const std::map<std::string, std::string> expected{{"+15005550001", "Twilio error 21217"},
                                                    {"+15005550002", "Twilio error 21214"},
                                                    {"+15005550003", "Twilio error 21215"},
                                                    {"+15005550004", "Twilio error 21216"}};
  std::map<std::string, std::string> ids;
  for (const auto& [to, code] : expected) ids[to] = rig.place(structured_fields(to));
  for (const auto& [to, code] : expected) {
    SCOPED_TRACE(to);
    const json record = rig.wait_for_end(ids[to], 10s);
    EXPECT_EQ(record["status"], "failed");
    const std::string reason = failure_reason(record);
    EXPECT_TRUE(contains(reason, code)) << reason;
    EXPECT_TRUE(contains(reason, "https://www.twilio.com/docs/errors/" + code.substr(13))) << reason;
    EXPECT_TRUE(rig.logged("call " + ids[to] + " could not be placed: " + code));
  }
  EXPECT_TRUE(rig.twilio().records_of("rest.create").empty());
  EXPECT_EQ(rig.twilio().records_of("rest.error").size(), 4u);
  EXPECT_EQ(rig.openai().connections(), 0);

  // The same through the CLI: the user reads Twilio's reason.
  const auto cli = rig.book("Book a table at Demo Restaurant for 4 people tomorrow at 7pm, call +1 500 555 0002");
  EXPECT_EQ(cli.status, 1) << cli.output;
  EXPECT_TRUE(contains(cli.output, "Booking failed: The call failed: Twilio error 21214: 'To' phone number cannot be "
                                   "reached"))
      << cli.output;
  // Any other To is accepted with the magic From (+15005550006).
  const std::string ok = rig.place(structured_fields("+12125551234"));
  rig.twilio().wait_for([](const ft::FakeTwilio& t) { return t.records_of("rest.create").size() == 1; }, 5s);
  ASSERT_EQ(rig.twilio().records_of("rest.create").size(), 1u);
  EXPECT_TRUE(contains(rig.twilio().records_of("rest.create")[0].detail, "From=%2B15005550006"));
  EXPECT_EQ(testing::http_post(rig.url() + "/calls/" + ok + "/hangup", "").status, 200);
  EXPECT_EQ(rig.wait_for_end(ok, 10s)["status"], "canceled");
}

TEST(E2ETwilioErrors, WrongCredentialsAreTwilios20003) {
  RigOptions options;
  options.env["TWILIO_AUTH_TOKEN"] = "not-the-token";
  Rig rig(options);
  const std::string id = rig.place(structured_fields(kRestaurantPhone));
  const json record = rig.wait_for_end(id, 10s);
  EXPECT_EQ(record["status"], "failed");
  EXPECT_TRUE(contains(failure_reason(record), "Twilio error 20003: Authenticate - Your AccountSid or AuthToken was "
                                               "incorrect. (https://www.twilio.com/docs/errors/20003)"))
      << failure_reason(record);
  EXPECT_EQ(rig.twilio().records_of("rest.error").size(), 1u);
}

TEST(E2ETwilioErrors, AFromNumberTheAccountDoesNotOwnIsTwilios21210) {
  RigOptions options;
  options.env["TWILIO_PHONE_NUMBER"] = "+15555551234";  // the seed's placeholder, not a number of this account
  Rig rig(options);
  const std::string id = rig.place(structured_fields(kRestaurantPhone));
  const json record = rig.wait_for_end(id, 10s);
  EXPECT_EQ(record["status"], "failed");
  EXPECT_TRUE(contains(failure_reason(record), "Twilio error 21210")) << failure_reason(record);
}

TEST(E2ETwilioErrors, AnUnreachableTwilioFailsTheCallAndOtherRequestsStillAnswer) {
  RigOptions options;
  options.env["TWILIO_API_BASE_URL"] = "http://127.0.0.1:1";  // nothing listens on port 1
  Rig rig(options);
  const std::string id = rig.place(structured_fields(kRestaurantPhone));
  EXPECT_EQ(testing::http_get(rig.url() + "/health").status, 200);
  const json record = rig.wait_for_end(id, 20s);
  EXPECT_EQ(record["status"], "failed");
  EXPECT_TRUE(contains(failure_reason(record), "could not reach Twilio at http://127.0.0.1:1")) << record.dump();
}

// ---- signatures ------------------------------------------------------------------------------------------------

std::string form_body(const std::vector<std::pair<std::string, std::string>>& form) {
  std::string body;
  for (const auto& [k, v] : form) {
    std::string value;
    for (char c : v) {
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') value += c;
      else {
        char hex[4];
        std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
        value += hex;
      }
    }
    body += (body.empty() ? "" : "&") + k + "=" + value;
  }
  return body;
}

// A status callback for `call_id` as Twilio would post it, with the given signature header (none when empty).
testing::HttpResult post_status(Rig& rig, const std::string& call_id, const std::string& sid,
                                const std::string& status, const std::string& signature) {
  const std::vector<std::pair<std::string, std::string>> form{
      {"AccountSid", kAccountSid}, {"CallSid", sid}, {"CallStatus", status}, {"Direction", "outbound-api"}};
  std::vector<std::string> headers{"Content-Type: application/x-www-form-urlencoded", "Host: " + kPublicDomain};
  if (!signature.empty()) headers.push_back("X-Twilio-Signature: " + signature);
  return testing::http_post(rig.url() + "/twilio/status?call_id=" + call_id, form_body(form), headers);
}

std::string correct_signature(const std::string& call_id, const std::string& sid, const std::string& status) {
  return ft::FakeTwilio::sign(kAuthToken, "https://" + kPublicDomain + "/twilio/status?call_id=" + call_id,
                              {{"AccountSid", kAccountSid}, {"CallSid", sid}, {"CallStatus", status},
                               {"Direction", "outbound-api"}});
}

void expect_webhooks_refused(ft::SignatureMode mode, const std::string& log_word) {
  RigOptions options;
  options.twilio.signature = mode;  // the TwiML fetch, every status callback and the stream handshake
  Rig rig(options);
  const std::string id = rig.place(structured_fields(kRestaurantPhone));
  // Twilio's whole attempt: initiated, ringing, answered callbacks, the TwiML fetch (refused, so Twilio gives up and
  // posts "completed"): every one answered 403.
  ASSERT_TRUE(rig.twilio().wait_for(
      [](const ft::FakeTwilio& t) { return !t.records_of("call.end").empty() && t.records_of("status").size() >= 4; },
      10s));
  const auto twiml = rig.twilio().records_of("twiml");
  ASSERT_EQ(twiml.size(), 1u);
  EXPECT_EQ(twiml[0].detail.rfind("403 ", 0), 0u) << twiml[0].detail;
  for (const auto& s : rig.twilio().records_of("status")) EXPECT_TRUE(contains(s.detail, "-> 403")) << s.detail;
  EXPECT_TRUE(rig.twilio().records_of("ws.open").empty());
  EXPECT_EQ(rig.openai().connections(), 0);
  // Nothing changed: the call is still where the REST create left it, with no transcript.
  json record = rig.record(id);
  EXPECT_EQ(record["status"], "dialing") << record.dump();
  EXPECT_EQ(statuses(record), (std::vector<std::string>{"queued", "dialing"})) << record.dump();
  EXPECT_TRUE(record["transcript"].empty());
  EXPECT_TRUE(record["result"].is_null());
  EXPECT_TRUE(rig.logged(log_word + " X-Twilio-Signature on POST /twiml?call_id=" + id))
      << rig.daemon().output();
  EXPECT_TRUE(rig.logged(log_word + " X-Twilio-Signature on POST /twilio/status?call_id=" + id));

  // A forged "completed" and an unsigned one, sent by hand: 403, the call still dialing.
  const std::string sid = record["provider_call_id"];
  const auto forged = post_status(rig, id, sid, "completed", ft::FakeTwilio::sign("guess", "x", {}));
  EXPECT_EQ(forged.status, 403) << forged.body;
  EXPECT_EQ(post_status(rig, id, sid, "completed", "").status, 403);
  EXPECT_EQ(rig.record(id)["status"], "dialing");
  // The same request correctly signed is accepted (so the 403s were about the signature, not the request).
  const auto genuine = post_status(rig, id, sid, "ringing", correct_signature(id, sid, "ringing"));
  EXPECT_EQ(genuine.status / 100, 2) << genuine.status << " " << genuine.body;
  EXPECT_EQ(rig.record(id)["status"], "ringing");
  EXPECT_EQ(testing::http_post(rig.url() + "/calls/" + id + "/hangup", "").status, 200);
  EXPECT_EQ(rig.wait_for_end(id, 10s)["status"], "canceled");
}

TEST(E2ETwilioSignatures, ForgedWebhooksAre403AndChangeNothing) {
  expect_webhooks_refused(ft::SignatureMode::forged, "invalid");
}

TEST(E2ETwilioSignatures, UnsignedWebhooksAre403AndChangeNothing) {
  expect_webhooks_refused(ft::SignatureMode::missing, "missing");
}

void expect_stream_refused(ft::SignatureMode mode, const std::string& log_word) {
  RigOptions options;
  options.twilio.stream_signature = mode;  // webhooks correctly signed, the WebSocket handshake not
  Rig rig(options);
  const std::string id = rig.place(structured_fields(kRestaurantPhone));
  ASSERT_TRUE(rig.twilio().wait_for([](const ft::FakeTwilio& t) { return !t.records_of("ws.refused").empty(); }, 10s));
  EXPECT_TRUE(contains(rig.twilio().records_of("ws.refused")[0].detail, "declined"))
      << rig.twilio().records_of("ws.refused")[0].detail;
  // The same upgrade by hand, to see the status: 403 (forged or missing), 101 when signed correctly.
  auto upgrade = [&](const std::string& signature) {
    std::vector<std::string> headers{"Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13",
                                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Host: " + kPublicDomain};
    if (!signature.empty()) headers.push_back("X-Twilio-Signature: " + signature);
    return testing::http_request("GET", rig.url() + "/media-stream", "", headers).status;
  };
  EXPECT_EQ(upgrade(mode == ft::SignatureMode::forged
                        ? ft::FakeTwilio::sign(kAuthToken + "x", "wss://" + kPublicDomain + "/media-stream", {})
                        : ""),
            403);
  EXPECT_EQ(rig.twilio().records_of("twiml")[0].detail.rfind("200 ", 0), 0u);
  EXPECT_TRUE(rig.twilio().records_of("ws.open").empty());
  EXPECT_TRUE(rig.logged(log_word + " X-Twilio-Signature on GET /media-stream"))
      << rig.daemon().output();
  // No stream, so no voice session and no transcript; the call ends with Twilio's own final status.
  const json record = rig.wait_for_end(id, 10s);
  EXPECT_EQ(rig.openai().connections(), 0);
  EXPECT_TRUE(record["transcript"].empty()) << record.dump();
  EXPECT_FALSE(record["result"]["success"].get<bool>());
}

TEST(E2ETwilioSignatures, AForgedMediaStreamHandshakeIsRefused) {
  expect_stream_refused(ft::SignatureMode::forged, "invalid");
}

TEST(E2ETwilioSignatures, AnUnsignedMediaStreamHandshakeIsRefused) {
  expect_stream_refused(ft::SignatureMode::missing, "missing");
}

// Inbound calls over real sockets (CALLS_INBOUND, TWILIO_INBOUND_STREAMS): a stranger who opens a correctly signed
// media stream without the TwiML's one-time token starts nothing; Twilio's own call, whose TwiML fetch handed the
// stream its token, is taken.
TEST(E2EInbound, AStreamWithoutItsTwimlsTokenStartsNoCallAndTwiliosOwnIsTaken) {
  RigOptions options;
  options.env["CALLS_INBOUND"] = "true";
  options.env["TWILIO_INBOUND_STREAMS"] = "true";
  Rig rig(options);
  const std::string caller = "+12125550199";

  const std::string forged = rig.twilio().call_in(caller, kTestFrom, /*fetch_twiml=*/false);
  ASSERT_TRUE(rig.twilio().wait_for(
      [&](const ft::FakeTwilio& t) {
        for (const auto& r : t.records_of("call.end"))
          if (r.call_sid == forged) return true;
        return false;
      },
      10s));
  EXPECT_TRUE(rig.logged("media stream refused: inbound stream: no stream token was issued for callSid " + forged))
      << rig.daemon().output();
  EXPECT_EQ(parse(testing::http_get(rig.url() + "/calls").body)["total"], 0) << "no call was started";
  EXPECT_EQ(rig.openai().connections(), 0) << "no voice session was opened";

  const std::string genuine = rig.twilio().call_in(caller, kTestFrom);
  ASSERT_TRUE(rig.twilio().wait_for(
      [&](const ft::FakeTwilio& t) {
        for (const auto& r : t.records_of("ws.sent.start"))
          if (r.call_sid == genuine) return contains(r.detail, "stream_token");
        return false;
      },
      10s));
  // The daemon's record of it, with Twilio's CallSid and the numbers of the signed TwiML request.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  json record;
  while (std::chrono::steady_clock::now() < deadline) {
    const json calls = parse(testing::http_get(rig.url() + "/calls").body)["calls"];
    if (calls.size() == 1 && calls[0].value("status", "") == "in-progress") {
      record = calls[0];
      break;
    }
    std::this_thread::sleep_for(25ms);
  }
  ASSERT_TRUE(record.is_object()) << testing::http_get(rig.url() + "/calls").body << rig.daemon().output();
  EXPECT_EQ(record.value("direction", ""), "inbound");
  EXPECT_EQ(record.value("provider_call_id", ""), genuine);
  EXPECT_EQ(record["details"].value("from", ""), caller);
  const std::string id = record.value("call_id", "");
  EXPECT_EQ(testing::http_post(rig.url() + "/calls/" + id + "/hangup", "").status, 200);
  rig.wait_for_end(id, 10s);
}

// Two faces (SERVER_PUBLIC_PORT): Twilio, through the "tunnel", reaches only the public listener and the whole booking
// still works; the control API is 404 there even with the token, and Twilio's routes are 404 on the control port even
// when correctly signed.
TEST(E2ETwoFaces, TwilioReachesOnlyThePublicListenerAndTheControlApiOnlyTheOther) {
  RigOptions options;
  options.env["SERVER_PUBLIC_PORT"] = "0";
  Rig rig(options);
  ASSERT_NE(rig.daemon().public_port(), 0) << rig.daemon().output();
  ASSERT_NE(rig.daemon().public_port(), rig.daemon().port());
  const std::string control = rig.url(), public_face = rig.daemon().public_url();

  const auto cli = rig.book("Book a table at Demo Restaurant for 4 people tomorrow at 7pm");
  EXPECT_EQ(cli.status, 0) << cli.output << "\n--- daemon ---\n" << rig.daemon().output();
  EXPECT_TRUE(contains(cli.output, "Confirmation: 4711")) << cli.output;
  const std::string id = rig.only_call_id();
  const json record = rig.record(id);
  EXPECT_EQ(record["status"], "completed") << record.dump();
  EXPECT_FALSE(rig.twilio().records_of("ws.open").empty());

  // The public face: the control API does not exist there (404, no WWW-Authenticate), token or not.
  for (const auto& headers : {std::vector<std::string>{"Content-Type: application/json"},
                              std::vector<std::string>{"Content-Type: application/json", testing::kNoAuthorization}}) {
    for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
             {"GET", "/calls"}, {"POST", "/calls"}, {"GET", "/calls/" + id + "/status"},
             {"POST", "/calls/" + id + "/hangup"}, {"GET", "/metrics"}, {"GET", "/no/such/route"}}) {
      const auto r = testing::http_request(method, public_face + path,
                                           method == "POST" ? R"({"request":"Book a table"})" : "", headers);
      EXPECT_EQ(r.status, 404) << method << " " << path << ": " << r.body;
      EXPECT_EQ(r.headers.count("www-authenticate"), 0u) << path;
      EXPECT_FALSE(contains(r.body, "Demo Restaurant")) << r.body;
    }
  }
  EXPECT_EQ(testing::http_get(public_face + "/health").status, 200);

  // The control face: Twilio's routes are not there, even correctly signed; the same status callback is taken on
  // the public face (so the 404 is about the listener, not the request).
  const std::string sid = record["provider_call_id"];
  auto status_to = [&](const std::string& base) {
    const std::vector<std::pair<std::string, std::string>> form{
        {"AccountSid", kAccountSid}, {"CallSid", sid}, {"CallStatus", "completed"}, {"Direction", "outbound-api"}};
    return testing::http_post(base + "/twilio/status?call_id=" + id, form_body(form),
                              {"Content-Type: application/x-www-form-urlencoded", "Host: " + kPublicDomain,
                               "X-Twilio-Signature: " + correct_signature(id, sid, "completed")});
  };
  const auto on_control = status_to(control);
  EXPECT_EQ(on_control.status, 404) << on_control.body;
  EXPECT_TRUE(contains(on_control.body, "public listener")) << on_control.body;
  EXPECT_EQ(status_to(public_face).status / 100, 2);
  EXPECT_EQ(testing::http_post(control + "/twiml?call_id=" + id, "", {"Host: " + kPublicDomain}).status, 404);
  const std::string stream_signature = ft::FakeTwilio::sign(kAuthToken, "wss://" + kPublicDomain + "/media-stream", {});
  auto upgrade = [&](const std::string& base) {
    return testing::http_request("GET", base + "/media-stream", "",
                                 {"Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13",
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Host: " + kPublicDomain,
                                  "X-Twilio-Signature: " + stream_signature})
        .status;
  };
  EXPECT_EQ(upgrade(control), 404);
  // The owner's API works on the control face as ever.
  EXPECT_EQ(testing::http_get(control + "/calls").status, 200);
  EXPECT_EQ(testing::http_get(control + "/metrics").status, 200);
}

}  // namespace
}  // namespace concierge::e2e

namespace concierge::e2e {
namespace {

// The destination policy of config/twilio.yaml, through the real daemon: premium-rate, satellite, another country
// and the seed's invalid placeholder are refused with 403 and the reason before anything reaches Twilio, and are
// counted; a valid number of the From number's country goes out.
TEST(E2EDestinations, PremiumSatelliteForeignAndInvalidNumbersAreRefusedBeforeTwilio) {
  Rig rig;
  const std::pair<const char*, const char*> refused[] = {
      {"+19005550100", "is a premium-rate number"},
      {"+881612345678", "is a satellite or international-network number (+881)"},
      {"+442079460000", "is in country code +44, which is not allowed (allowed: +1"},
      {"+1234567890", "is not a valid phone number: it is too short for its country"},
  };
  for (const auto& [number, reason] : refused) {
    const auto r = testing::http_post(rig.url() + "/calls", json{{"fields", structured_fields(number)}}.dump());
    EXPECT_EQ(r.status, 403) << number << ": " << r.body;
    const auto body = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << r.body;
    EXPECT_NE(body.value("error", "").find(reason), std::string::npos) << r.body;
    EXPECT_EQ(body.value("refused", ""), "destination") << r.body;
  }
  // The request's own words cannot get round it: a number in the text is judged the same way.
  const auto in_text = testing::http_post(
      rig.url() + "/calls", json{{"request", "Call +1 900 555 0100 for a table for 2 tomorrow at 8pm"}}.dump());
  EXPECT_EQ(in_text.status, 403) << in_text.body;
  EXPECT_TRUE(rig.twilio().records_of("rest.create").empty());
  const std::string metrics = testing::http_get(rig.url() + "/metrics").body;
  EXPECT_NE(metrics.find("concierge_calls_refused_destination_total 5\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("concierge_calls_refused_policy_total{reason=\"destination\"} 5\n"), std::string::npos)
      << metrics;
  // A valid US number (the From number is +1) is placed.
  const std::string ok = rig.place(structured_fields("+12125551234"));
  EXPECT_TRUE(rig.twilio().wait_for([](const ft::FakeTwilio& t) { return t.records_of("rest.create").size() == 1; },
                                    5s));
  EXPECT_EQ(testing::http_post(rig.url() + "/calls/" + ok + "/hangup", "").status, 200);
}

}  // namespace
}  // namespace concierge::e2e
