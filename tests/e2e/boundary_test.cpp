// Bytes from a provider that could break a record: an error body cut inside a UTF-8 character, a callback field that
// is not UTF-8 (AnsweredBy=%FF), a provider echoing the auth token. Against the real daemon on config/twilio.yaml:
// the listing and the status keep answering, the record reads the same after a restart, no secret is stored or
// logged.
#include "e2e.hpp"
#include "raw_socket.hpp"

namespace concierge::e2e {
namespace {

bool valid_utf8(const std::string& s) {
  try {
    (void)json(s).dump();  // nlohmann::json refuses invalid UTF-8 by default
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

// GET /calls and GET /calls/{id}/status both answer 200 with JSON; returns the record.
json listing_and_status_answer(Rig& rig, const std::string& id) {
  const auto list = testing::http_get(rig.url() + "/calls");
  EXPECT_EQ(list.status, 200) << list.body;
  EXPECT_TRUE(valid_utf8(list.body));
  EXPECT_FALSE(json::parse(list.body, nullptr, false).is_discarded()) << list.body;
  const auto status = testing::http_get(rig.url() + "/calls/" + id + "/status");
  EXPECT_EQ(status.status, 200) << status.body;
  EXPECT_TRUE(valid_utf8(status.body));
  return parse(status.body);
}

TEST(E2EBoundary, AnErrorBodyCutInsideACharacterAndEchoingTheTokenBreaksNothing) {
  // Not Twilio's error JSON, so the plugin quotes the start of the body: 200 bytes, whose end falls inside a
  // three-byte character; the token sits inside the quoted part.
  std::string body = "upstream said: bad credentials " + kAuthToken + " ";
  while (body.size() < 199) body += 'x';
  for (int i = 0; i < 10; ++i) body += "\xE2\x82\xAC";  // the 200th byte is the middle of a euro sign
  testing::CannedHttpServer twilio_api(500, body, "text/plain");
  RigOptions options;
  options.env["TWILIO_API_BASE_URL"] = twilio_api.base_url();
  Rig rig(options);
  const std::string id = rig.place(structured_fields(kRestaurantPhone));
  const json record = rig.wait_for_end(id, 20s);
  EXPECT_EQ(record["status"], "failed");
  EXPECT_EQ(twilio_api.requests(), 1);
  const std::string reason = record.value("status_reason", "");
  EXPECT_TRUE(contains(reason, "Twilio answered HTTP 500: upstream said: bad credentials [redacted] xx")) << reason;
  EXPECT_FALSE(contains(record.dump(), kAuthToken));
  EXPECT_TRUE(valid_utf8(reason));
  listing_and_status_answer(rig, id);
  EXPECT_TRUE(rig.logged("could not be placed: Twilio answered HTTP 500"));
  EXPECT_FALSE(contains(rig.daemon().output(), kAuthToken));

  // The stored record reads back the same, with the same reason, after a restart.
  rig.restart_daemon();
  const json again = listing_and_status_answer(rig, id);
  EXPECT_EQ(again["status"], "failed");
  EXPECT_EQ(again.value("status_reason", ""), reason);
}

// The 200-byte cut falls inside the echoed token: what survives of it (its first 12 characters) is masked too, in
// the record and in the log.
TEST(E2EBoundary, AnErrorBodyCutInsideTheEchoedTokenMasksWhatSurvives) {
  const std::string survives = kAuthToken.substr(0, 12);
  std::string body = "upstream said: bad credentials ";
  while (body.size() < 200 - survives.size()) body += 'x';
  body += kAuthToken + " and more after it";
  testing::CannedHttpServer twilio_api(500, body, "text/plain");
  RigOptions options;
  options.env["TWILIO_API_BASE_URL"] = twilio_api.base_url();
  Rig rig(options);
  const std::string id = rig.place(structured_fields(kRestaurantPhone));
  const json record = rig.wait_for_end(id, 20s);
  EXPECT_EQ(record["status"], "failed");
  const std::string reason = record.value("status_reason", "");
  EXPECT_TRUE(contains(reason, "xx[redacted]...")) << reason;
  EXPECT_FALSE(contains(record.dump(), survives)) << record.dump();
  listing_and_status_answer(rig, id);
  EXPECT_TRUE(rig.logged("could not be placed: Twilio answered HTTP 500"));
  EXPECT_FALSE(contains(rig.daemon().output(), survives));
}

TEST(E2EBoundary, ATwilioErrorMessageEchoingTheTokenIsMasked) {
  const json error{{"code", 20003},
                   {"message", "Authenticate: token " + kAuthToken + " is not valid for this account"},
                   {"more_info", "https://www.twilio.com/docs/errors/20003"},
                   {"status", 401}};
  testing::CannedHttpServer twilio_api(401, error.dump());
  RigOptions options;
  options.env["TWILIO_API_BASE_URL"] = twilio_api.base_url();
  Rig rig(options);
  const std::string id = rig.place(structured_fields(kRestaurantPhone));
  const json record = rig.wait_for_end(id, 20s);
  EXPECT_EQ(record["status"], "failed");
  EXPECT_TRUE(contains(failure_reason(record), "Twilio error 20003: Authenticate: token [redacted] is not valid"))
      << failure_reason(record);
  EXPECT_FALSE(contains(record.dump(), kAuthToken));
  EXPECT_TRUE(rig.logged("Twilio error 20003"));
  EXPECT_FALSE(contains(rig.daemon().output(), kAuthToken));
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& form) {
  std::string body;
  for (const auto& [k, v] : form) {
    body += body.empty() ? "" : "&";
    body += k + "=";
    for (unsigned char c : v) {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      body += std::isalnum(c) ? std::string(1, static_cast<char>(c)) : std::string(hex);
    }
  }
  return body;
}

TEST(E2EBoundary, ACallbackFieldThatIsNotUtf8BreaksNoListing) {
  RigOptions options;
  options.twilio.ring_time = 5s;  // the call stays ringing while the test posts its own callback
  Rig rig(options);
  const std::string id = rig.place(structured_fields(kRestaurantPhone));
  ASSERT_TRUE(rig.twilio().wait_for([](const ft::FakeTwilio& t) { return !t.calls().empty(); }, 5s));
  const std::string sid = rig.twilio().calls()[0].sid;
  // A correctly signed status callback whose AnsweredBy is the byte 0xFF (and a cut-off UTF-8 sequence).
  const std::vector<std::pair<std::string, std::string>> form{{"AccountSid", kAccountSid},
                                                              {"CallSid", sid},
                                                              {"CallStatus", "ringing"},
                                                              {"AnsweredBy", "machine\xFF\xE2\x82"},
                                                              {"Direction", "outbound-api"}};
  const std::string url = "https://" + kPublicDomain + "/twilio/status?call_id=" + id;
  const auto r = testing::http_post(rig.url() + "/twilio/status?call_id=" + id, form_encode(form),
                                    {"Content-Type: application/x-www-form-urlencoded", "Host: " + kPublicDomain,
                                     "X-Twilio-Signature: " + ft::FakeTwilio::sign(kAuthToken, url, form)});
  EXPECT_EQ(r.status, 204) << r.body;
  const json record = listing_and_status_answer(rig, id);
  EXPECT_EQ(record.value("answered_by", ""), "machine\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD") << record.dump();
  EXPECT_EQ(testing::http_post(rig.url() + "/calls/" + id + "/hangup", "").status, 200);
  rig.wait_for_end(id, 10s);
  listing_and_status_answer(rig, id);
}

// Twilio answers the create only after the plugin's timeout: the call fails here, but Twilio has placed it. Its
// first status callback names its SID: the plugin ends it through the REST API (Status=canceled while it rings);
// a TwiML fetch for it (the callee answered first) gets <Hangup/>, not a 404 the callee would hear as an error; and
// Twilio's late reports correct the record (the SID, what happened, the status Twilio ended the call with).
TEST(E2EBoundary, ACreateThatTimedOutIsEndedAtTwilioWhenItShowsUp) {
  const json created{{"sid", "CAlate0000000000000000000000000001"}, {"status", "queued"}};
  testing::CannedHttpServer twilio_api(201, created.dump(), "application/json", 2500ms);
  RigOptions options;
  options.env["TWILIO_API_BASE_URL"] = twilio_api.base_url();
  options.env["TWILIO_REQUEST_TIMEOUT_SECONDS"] = "1";
  Rig rig(options);
  const std::string id = rig.place(structured_fields(kRestaurantPhone));
  const json record = rig.wait_for_end(id, 20s);
  EXPECT_EQ(record["status"], "failed");
  EXPECT_TRUE(contains(record.value("status_reason", ""), "could not reach Twilio")) << record.dump();

  const std::string sid = created["sid"];
  auto signed_post = [&](const std::string& path, const std::vector<std::pair<std::string, std::string>>& form) {
    const std::string url = "https://" + kPublicDomain + path;
    return testing::http_post(rig.url() + path, form_encode(form),
                              {"Content-Type: application/x-www-form-urlencoded", "Host: " + kPublicDomain,
                               "X-Twilio-Signature: " + ft::FakeTwilio::sign(kAuthToken, url, form)});
  };
  const auto ringing = signed_post("/twilio/status?call_id=" + id, {{"AccountSid", kAccountSid},
                                                                   {"CallSid", sid},
                                                                   {"CallStatus", "ringing"},
                                                                   {"Direction", "outbound-api"}});
  EXPECT_EQ(ringing.status, 204) << ringing.body;
  // The cancel reaches "Twilio" (after the canned server's delay on the first, timed-out request).
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  std::string cancel;
  while (cancel.empty() && std::chrono::steady_clock::now() < deadline) {
    for (const auto& request : twilio_api.received())
      if (contains(request, "/Calls/" + sid + ".json")) cancel = request;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(contains(cancel, "POST /2010-04-01/Accounts/" + kAccountSid + "/Calls/" + sid + ".json")) << cancel;
  EXPECT_TRUE(contains(cancel, "Status=canceled")) << cancel;
  // Every request of this canned "Twilio" waits 2.5 s, past the plugin's 1 s timeout, so the cancel fails here
  // too: the record says so, and Twilio's next report sends it again (a call not ended there would ring on).
  ASSERT_TRUE(rig.logged("Twilio did not end " + sid, 10s));
  signed_post("/twilio/status?call_id=" + id, {{"AccountSid", kAccountSid}, {"CallSid", sid},
                                               {"CallStatus", "ringing"}, {"Direction", "outbound-api"}});

  const auto twiml = signed_post("/twiml?call_id=" + id, {{"AccountSid", kAccountSid}, {"CallSid", sid},
                                                          {"CallStatus", "in-progress"}});
  EXPECT_EQ(twiml.status, 200) << twiml.body;
  EXPECT_TRUE(contains(twiml.body, "<Hangup/>")) << twiml.body;
  EXPECT_TRUE(rig.logged("answered <Hangup/>"));
  // Twilio's final callback: the record is corrected with it, and stays a call that has ended.
  EXPECT_EQ(signed_post("/twilio/status?call_id=" + id, {{"AccountSid", kAccountSid}, {"CallSid", sid},
                                                         {"CallStatus", "completed"}, {"CallDuration", "1"},
                                                         {"Direction", "outbound-api"}})
                .status,
            204);
  json amended;
  const auto amended_by = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < amended_by &&
         (amended = rig.record(id)).value("status", "") != "completed")
    std::this_thread::sleep_for(25ms);
  EXPECT_EQ(amended.value("status", ""), "completed") << amended.dump();
  EXPECT_EQ(amended.value("provider_call_id", ""), sid);
  EXPECT_EQ(amended.value("duration_seconds", 0), 1);
  EXPECT_EQ(amended.value("status_reason", ""),
            "Twilio placed the call after the create had failed here (" + record.value("status_reason", "") +
                "); the callee answered and the call was ended (<Hangup/>)")
      << amended.dump();
  EXPECT_FALSE(amended["result"].value("success", true));
  // Its history after "failed" only moves forward: ringing, in-progress, completed (the late create answer's
  // "queued" and the repeated "ringing" add nothing).
  std::vector<std::string> late;
  bool after_failed = false;
  for (const auto& entry : amended["status_history"]) {
    if (after_failed) late.push_back(entry["status"]);
    if (entry["status"] == "failed") after_failed = true;
  }
  EXPECT_EQ(late, (std::vector<std::string>{"ringing", "in-progress", "completed"})) << amended.dump();
  EXPECT_EQ(testing::http_post(rig.url() + "/calls/" + id + "/hangup", "").status, 409);
  for (const auto& request : twilio_api.received()) {
    if (contains(request, "/Calls/" + sid + ".json")) {
      EXPECT_TRUE(contains(request, "Status=canceled")) << request;
    }
  }
  // An id that never existed is still a 404.
  EXPECT_EQ(signed_post("/twiml?call_id=call_nonexistent", {{"CallSid", sid}}).status, 404);
}

}  // namespace
}  // namespace concierge::e2e
