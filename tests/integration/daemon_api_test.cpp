// Every endpoint of the real daemon, and bad input on each: a clear 4xx with a JSON error, and the daemon carries on.
#include <set>

#include "integration.hpp"
#include "concierge/net/asio.hpp"

using namespace concierge::testing;
using nlohmann::json;

namespace {

class DaemonApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    daemon_ = new Daemon(config_path("fast.yaml"));
    ASSERT_TRUE(daemon_->started()) << daemon_->output();
  }
  static void TearDownTestSuite() {
    delete daemon_;
    daemon_ = nullptr;
  }
  void TearDown() override {
    // Whatever a test sent, the daemon is still serving.
    auto health = http_get(url("/health"));
    EXPECT_EQ(health.status, 200) << daemon_->output();
  }
  static std::string url(const std::string& path) { return daemon_->url() + path; }
  static void expect_json_error(const HttpResult& r, long status, const std::string& words) {
    EXPECT_EQ(r.status, status) << r.body;
    auto j = json_of(r);
    ASSERT_TRUE(j.is_object()) << r.body;
    ASSERT_TRUE(j.contains("error")) << r.body;
    EXPECT_NE(j["error"].get<std::string>().find(words), std::string::npos) << r.body;
  }
  static Daemon* daemon_;
};
Daemon* DaemonApi::daemon_ = nullptr;

TEST_F(DaemonApi, HealthIsWhatTheSeedsUsersExpect) {
  auto r = http_get(url("/health"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json_of(r), (json{{"status", "healthy"}, {"service", "ai-concierge-voice"}}));
  EXPECT_NE(r.headers["content-type"].find("application/json"), std::string::npos);
  expect_json_error(http_post(url("/health"), "{}"), 405, "method not allowed");
}

TEST_F(DaemonApi, MetricsArePrometheusText) {
  auto r = http_get(url("/metrics"));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.headers["content-type"].find("text/plain"), std::string::npos);
  for (const char* family : {"# TYPE concierge_calls gauge", "concierge_calls{state=\"completed\"}",
                             "concierge_active_calls ", "concierge_frames_in_total ", "concierge_frames_out_total ",
                             "concierge_errors_total ", "concierge_frame_processing_microseconds_bucket{direction=\"in\"",
                             "concierge_voice_to_voice_milliseconds_count",
                             "concierge_voice_response_latency_milliseconds_count",
                             // Fine enough below 10 ms to tell a lag p99 against the 5 ms target (issue 10).
                             "concierge_event_loop_lag_milliseconds_bucket{le=\"4\"}",
                             "concierge_event_loop_lag_milliseconds_bucket{le=\"5\"}",
                             "concierge_event_loop_lag_milliseconds_bucket{le=\"7.5\"}",
                             "# TYPE concierge_event_loop_run_delay_seconds_total counter"})
    EXPECT_NE(r.body.find(family), std::string::npos) << family;
  // Every sample line is "name{labels} number" or "name number".
  std::istringstream lines(r.body);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    ASSERT_NE(space, std::string::npos) << line;
    EXPECT_NO_THROW((void)std::stod(line.substr(space + 1))) << line;
  }
}

TEST_F(DaemonApi, BookingThroughTheApiAndItsRecord) {
  auto created = http_post(url("/calls"), R"({"request":"Book a table at Demo Restaurant for 4 people tomorrow at 7pm"})");
  ASSERT_EQ(created.status, 201) << created.body;
  auto c = json_of(created);
  const std::string id = c["call_id"];
  EXPECT_EQ(c["details"]["party_size"], 4);
  EXPECT_EQ(c["details"]["time"], "19:00");
  EXPECT_EQ(c["details"]["date"], "2026-11-25");

  auto record = wait_for_end(daemon_->url(), id);
  EXPECT_EQ(record["status"], "completed") << record.dump(2);
  EXPECT_TRUE(record["result"]["success"].get<bool>()) << record.dump(2);
  EXPECT_EQ(record["result"]["outcome"], "succeeded") << record.dump(2);  // the SDK's outcome vocabulary
  const std::string number = record["result"]["confirmation_number"];
  EXPECT_EQ(number.size(), 4u);
  // The number came from the restaurant, as the transcript shows.
  bool heard = false;
  for (const auto& line : record["transcript"])
    if (line["speaker"] == "callee" && line["text"].get<std::string>().find("confirmation number") != std::string::npos)
      heard = true;
  EXPECT_TRUE(heard) << record["transcript"].dump(2);
  // The state machine went through every stage, in order.
  std::vector<std::string> states;
  for (const auto& h : record["status_history"]) states.push_back(h["status"]);
  EXPECT_EQ(states, (std::vector<std::string>{"queued", "dialing", "ringing", "in-progress", "completed"}));
  // Audio really flowed both ways through the media path.
  EXPECT_GT(record["metrics"]["frames_from_line"].get<int>(), 100);
  EXPECT_GT(record["metrics"]["frames_to_line"].get<int>(), 10);
  EXPECT_GT(record["metrics"]["voice_to_voice_count"].get<int>(), 0);

  auto list = json_of(http_get(url("/calls")));
  bool listed = false;
  for (const auto& call : list["calls"])
    if (call["call_id"] == id) {
      listed = true;
      EXPECT_FALSE(call.contains("transcript"));
    }
  EXPECT_TRUE(listed);
  auto metrics = http_get(url("/metrics")).body;
  EXPECT_EQ(metrics.find("concierge_frames_in_total 0\n"), std::string::npos);
}

TEST_F(DaemonApi, StructuredFieldsWork) {
  auto r = http_post(url("/calls"), R"({"fields":{"restaurant":"Demo Restaurant","date":"2026-11-26","time":"18:30","party_size":2}})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto record = wait_for_end(daemon_->url(), json_of(r)["call_id"]);
  EXPECT_TRUE(record["result"]["success"].get<bool>()) << record.dump(2);
  EXPECT_EQ(record["result"]["details"]["time"], "18:30");
}

TEST_F(DaemonApi, BadRequestsToCreateACall) {
  expect_json_error(http_post(url("/calls"), "{not json"), 400, "not valid JSON");
  expect_json_error(http_post(url("/calls"), "[1,2]"), 400, "JSON object");
  expect_json_error(http_post(url("/calls"), R"({"reqest":"typo"})"), 400, "unknown field \"reqest\"");
  expect_json_error(http_post(url("/calls"), R"({"request":42})"), 400, "must be a string");
  expect_json_error(http_post(url("/calls"), R"({"fields":"x"})"), 400, "must be an object");
  expect_json_error(http_post(url("/calls"), "{}"), 400, "say what to book");
  expect_json_error(http_post(url("/calls"), ""), 400, "not valid JSON");
  expect_json_error(http_post(url("/calls"), std::string(2 << 20, 'x')), 413, "too large");
  // A number no double holds, invalid UTF-8 inside a string and outside one, a truncated escape: each a 400 whose
  // body is valid JSON (json_of fails the test otherwise), never a 500.
  expect_json_error(http_post(url("/calls"), R"({"request": 1e999999})"), 400, "cannot be read as JSON");
  expect_json_error(http_post(url("/calls"), "{\"request\": \"Book \xFF\xFE a table\"}"), 400, "not valid JSON");
  expect_json_error(http_post(url("/calls"), "{\"request\": \"caf\xC3\"}"), 400, "not valid JSON");
  expect_json_error(http_post(url("/calls"), "\xFF\xFF"), 400, "not valid JSON");
  expect_json_error(http_post(url("/calls"), R"({"request": "\ud800"})"), 400, "not valid JSON");
  expect_json_error(http_post(url("/calls"), R"({"request": "x\u12"})"), 400, "not valid JSON");
}

TEST_F(DaemonApi, TheListingIsPagedNewestFirstWithACursor) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto r = http_post(url("/calls"), R"({"request":"Book a table at Demo Restaurant for 2 tomorrow at 7pm"})");
    ASSERT_EQ(r.status, 201) << r.body;
    ids.push_back(json_of(r)["call_id"]);
  }
  // Pages of two: the five newest calls come back newest first, each once, across three pages.
  std::vector<std::string> listed;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    auto r = http_get(url("/calls?limit=2" + (cursor.empty() ? std::string() : "&cursor=" + cursor)));
    ASSERT_EQ(r.status, 200) << r.body;
    const json body = json_of(r);
    EXPECT_LE(body["calls"].size(), 2u);
    EXPECT_GE(body["total"].get<std::size_t>(), 5u);
    for (const auto& call : body["calls"]) listed.push_back(call["call_id"]);
    if (body["next_cursor"].is_null()) break;
    cursor = body["next_cursor"];
  }
  ASSERT_GE(listed.size(), 5u);
  EXPECT_EQ(std::vector<std::string>(listed.begin(), listed.begin() + 5),
            std::vector<std::string>(ids.rbegin(), ids.rend()));
  std::set<std::string> unique(listed.begin(), listed.end());
  EXPECT_EQ(unique.size(), listed.size()) << "a call listed twice";
  // The default page and bad parameters.
  EXPECT_EQ(json_of(http_get(url("/calls")))["calls"].size(), std::min<std::size_t>(listed.size(), 50));
  expect_json_error(http_get(url("/calls?limit=0")), 400, "\"limit\" must be a whole number from 1 to 500");
  expect_json_error(http_get(url("/calls?limit=501")), 400, "\"limit\"");
  expect_json_error(http_get(url("/calls?limit=ten")), 400, "\"limit\"");
  expect_json_error(http_get(url("/calls?cursor=-1")), 400, "next_cursor of a previous page");
  for (const auto& id : ids) wait_for_end(daemon_->url(), id);
}

TEST_F(DaemonApi, MissingDetailsComeBackAsAQuestion) {
  auto r = http_post(url("/calls"), R"({"request":"Book a table at Demo Restaurant tomorrow at 7pm"})");
  EXPECT_EQ(r.status, 422);
  auto j = json_of(r);
  EXPECT_NE(j["question"].get<std::string>().find("How many"), std::string::npos) << r.body;
  auto unknown = http_post(url("/calls"), R"({"request":"Book a table for 2 tomorrow at 7pm"})");
  EXPECT_EQ(unknown.status, 422);
  EXPECT_NE(json_of(unknown)["question"].get<std::string>().find("Which restaurant"), std::string::npos);
}

TEST_F(DaemonApi, TheQuestionBodyNamesTheMissingAndDoubtfulFields) {
  auto r = http_post(url("/calls"), R"({"request":"Book Demo Restaurant tomorrow at 7 or 8pm"})");
  EXPECT_EQ(r.status, 422);
  const auto j = json_of(r);
  EXPECT_EQ(j["missing"], nlohmann::json::array({"party_size"})) << r.body;
  EXPECT_EQ(j["doubtful"], nlohmann::json::array({"time"})) << r.body;
  ASSERT_TRUE(j["questions"].is_array()) << r.body;
  EXPECT_EQ(j["understood"]["restaurant"], "Demo Restaurant") << r.body;
  EXPECT_FALSE(j["understood"].contains("time")) << r.body;
  EXPECT_EQ(j["reading"]["fields"]["date"]["text"], "tomorrow") << r.body;
}

TEST_F(DaemonApi, ADryRunReturnsThePlanAndPlacesNoCall) {
  const auto before = json_of(http_get(url("/calls")))["calls"].size();
  auto r = http_post(url("/calls"),
                     R"({"request":"Demo Restaurant tmrw half seven 2 ppl","dry_run":true})");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto j = json_of(r);
  EXPECT_EQ(j["dry_run"], true);
  EXPECT_EQ(j["details"]["time"], "19:30") << r.body;
  EXPECT_EQ(j["details"]["party_size"], 2) << r.body;
  EXPECT_EQ(j["phone_number"], "+1234567890") << r.body;
  EXPECT_NE(j["reading"]["in_words"].get<std::string>().find("at 7:30 PM, 2 people, Demo Restaurant"),
            std::string::npos)
      << r.body;
  EXPECT_FALSE(j.contains("call_id"));
  // A dry run that needs more comes back as the same 422, marked as a dry run.
  auto q = http_post(url("/calls"), R"({"request":"demo tmrw at 7","dry_run":true})");
  EXPECT_EQ(q.status, 422);
  EXPECT_EQ(json_of(q)["dry_run"], true);
  EXPECT_EQ(json_of(q)["missing"], nlohmann::json::array({"party_size"}));
  // "demo" names Demo Restaurant only partly: asked, not taken.
  EXPECT_EQ(json_of(q)["doubtful"], nlohmann::json::array({"restaurant"})) << q.body;
  expect_json_error(http_post(url("/calls"), R"({"request":"x","dry_run":"yes"})"), 400, "true or false");
  EXPECT_EQ(json_of(http_get(url("/calls")))["calls"].size(), before) << "a dry run created a call";
}

TEST_F(DaemonApi, UnknownRoutesMethodsAndCalls) {
  expect_json_error(http_get(url("/nope")), 404, "no route");
  expect_json_error(http_get(url("/calls/call_doesnotexist/status")), 404, "no call with id call_doesnotexist");
  expect_json_error(http_post(url("/calls/call_doesnotexist/hangup"), ""), 404, "no call");
  expect_json_error(http_request("DELETE", url("/calls")), 405, "GET, POST");
  expect_json_error(http_post(url("/calls/x/status"), ""), 405, "GET");
  expect_json_error(http_get(url("/calls/x/explode")), 404, "no route");
  expect_json_error(http_get(url("/media-stream")), 426, "WebSocket");
}

TEST_F(DaemonApi, MediaStreamUpgradeIsRefusedByALineWithoutStreams) {
  using namespace concierge::net;
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(daemon_->port())});
  http::request<http::empty_body> req{http::verb::get, "/media-stream?call_id=x", 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::upgrade, "websocket");
  req.set(http::field::connection, "upgrade");
  req.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  req.set(http::field::sec_websocket_version, "13");
  http::write(socket, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  EXPECT_EQ(res.result_int(), 404);
  EXPECT_NE(res.body().find("no media streams"), std::string::npos) << res.body();
}

TEST_F(DaemonApi, GarbageOnTheSocketIsA400) {
  using namespace concierge::net;
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(daemon_->port())});
  asio::write(socket, asio::buffer(std::string("\x16\x03\x01 hello TLS?\r\n\r\n")));
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  beast::error_code ec;
  http::read(socket, buffer, res, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(res.result_int(), 400);
}

TEST_F(DaemonApi, ManyConcurrentBookingsAllComplete) {
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) {
    auto r = http_post(url("/calls"), R"({"request":"Book a table at Demo Restaurant for )" + std::to_string(2 + i % 5) +
                                          R"( people tomorrow at 7pm"})");
    ASSERT_EQ(r.status, 201) << r.body;
    ids.push_back(json_of(r)["call_id"]);
  }
  for (const auto& id : ids) {
    auto record = wait_for_end(daemon_->url(), id, std::chrono::seconds(120));
    EXPECT_EQ(record["status"], "completed") << record.dump(2);
    EXPECT_TRUE(record["result"]["success"].get<bool>()) << record.dump(2);
  }
}

}  // namespace
