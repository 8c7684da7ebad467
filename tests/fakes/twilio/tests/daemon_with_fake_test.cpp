// The real daemon (concierge-host) with the twilio plugin, talking to the fake Twilio: the host's own server routes
// /twiml, /twilio/status and the /media-stream WebSocket to the plugin. Only api_base_url points at the fake.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "daemon_process.hpp"
#include "fake_twilio/fake_twilio.hpp"
#include "http_client.hpp"

namespace concierge::fake_twilio {
namespace {
using namespace std::chrono_literals;

// The daemon's YAML: the twilio plugin with only api_base_url pointing at the fake; `extra_twilio` and `calls` are
// appended to the plugin's block and written as the calls block.
std::filesystem::path write_config(const std::string& name, const FakeTwilio& fake, const std::string& extra_twilio = "",
                                   const std::string& calls = "") {
  const auto config = std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream out(config);
  out << "server:\n  host: 127.0.0.1\n  port: \"${SERVER_PORT:-0}\"\n  public_domain: \"${PUBLIC_DOMAIN}\"\n"
      << "plugin_dir: \"" << CONCIERGE_PLUGIN_DIR << "\"\n"
      << "plugins:\n  telephony:\n    plugin: twilio\n    config:\n"
      << "      account_sid: \"${TWILIO_ACCOUNT_SID}\"\n      auth_token: \"${TWILIO_AUTH_TOKEN}\"\n"
      << "      from_number: \"${TWILIO_PHONE_NUMBER}\"\n      api_base_url: \"" << fake.base_url() << "\"\n"
      << extra_twilio << "  voice_model:\n    plugin: scripted-voice\n    config: {}\n"
      << "  agent:\n    plugin: reservation-agent\n    config: {}\n"
      << calls;
  return config;
}

const std::map<std::string, std::string> kTwilioEnv{{"TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000001"},
                                                    {"TWILIO_AUTH_TOKEN", "fake-auth-token"},
                                                    {"TWILIO_PHONE_NUMBER", "+15005550006"},
                                                    {"PUBLIC_DOMAIN", "concierge.test"}};

// Tomorrow, computed (a fixed date turns into "in the past" one day; the agent reads the machine's clock).
std::string tomorrow() {
  const std::time_t tomorrow_t = std::time(nullptr) + 24 * 3600;
  std::tm tomorrow_tm{};
  localtime_r(&tomorrow_t, &tomorrow_tm);
  char text[16];
  std::strftime(text, sizeof text, "%Y-%m-%d", &tomorrow_tm);
  return text;
}

std::string reservation_body() {
  return std::string(R"({"fields":{"restaurant":"Demo Restaurant","phone_number":"+12125550100","date":")") +
         tomorrow() + R"(","time":"19:00","party_size":4,"customer_name":"Alex Morgan"}})";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Tells the fake where the started daemon listens and books a table through the daemon's API: the call's id, or ""
// (with the failure reported) when the daemon did not start or refused the call.
std::string place_reservation_call(const testing::Daemon& daemon, FakeTwilio& fake) {
  if (!daemon.started()) {
    ADD_FAILURE() << "the daemon did not start\n" << daemon.output();
    return "";
  }
  fake.set_daemon_port(static_cast<std::uint16_t>(daemon.port()));
  const auto created = testing::http_post(daemon.url() + "/calls", reservation_body());
  if (created.status != 201) {
    ADD_FAILURE() << "POST /calls: " << created.status << " " << created.body;
    return "";
  }
  return nlohmann::json::parse(created.body)["call_id"];
}

TEST(DaemonWithFakeTwilio, CallRunsThroughTheRealServerAndEndsWhenTheCalleeHangsUp) {
  FakeTwilioOptions options;
  options.public_domain = "concierge.test";
  options.speed = 2.0;
  options.callee = [](const CreatedCall&) {
    auto script = std::make_shared<SegmentScript>();
    script->pause(500ms).say(tone_mulaw(300, 600ms)).pause(2000ms);
    return script;
  };
  FakeTwilio fake(options);

  const auto config = write_config("twilio-daemon-test", fake);
  testing::Daemon daemon(config.string(), kTwilioEnv);
  const std::string call_id = place_reservation_call(daemon, fake);
  ASSERT_NE(call_id, "");

  nlohmann::json record;
  const bool ended = fake.wait_for(
      [&](const FakeTwilio&) {
        auto status = testing::http_get(daemon.url() + "/calls/" + call_id + "/status");
        if (status.status != 200) return false;
        record = nlohmann::json::parse(status.body);
        return !record["result"].is_null();
      },
      20s);
  ASSERT_TRUE(ended) << daemon.output();
  std::filesystem::remove(config);

  const auto calls = fake.calls();
  ASSERT_EQ(calls.size(), 1u);
  std::printf("call %s: %s (%s); callee frames %zu, agent bytes %zu received / %zu played, %zu marks echoed\n",
              call_id.c_str(), record["status"].get<std::string>().c_str(),
              record["result"].value("failure_reason", "").c_str(), calls[0].frames_sent,
              calls[0].agent_bytes_received, calls[0].agent_bytes_played, calls[0].marks_echoed.size());
  EXPECT_EQ(record["provider_call_id"], calls[0].sid);
  EXPECT_TRUE(calls[0].media_connected);
  EXPECT_GT(calls[0].frames_sent, 100u);
  // Every webhook went through the host's server to the plugin and was accepted.
  ASSERT_EQ(fake.records_of("twiml").size(), 1u);
  EXPECT_EQ(fake.records_of("twiml")[0].detail.rfind("200 ", 0), 0u);
  for (const auto& status : fake.records_of("status"))
    EXPECT_NE(status.detail.find("-> 204"), std::string::npos) << status.detail;
  EXPECT_TRUE(fake.records_of("ws.unexpected").empty());
  // The call went through the states Twilio reported.
  std::vector<std::string> history;
  for (const auto& entry : record["status_history"]) history.push_back(entry["status"]);
  EXPECT_NE(std::find(history.begin(), history.end(), "in-progress"), history.end()) << record.dump();
  // Agent audio reached the line (with one mark per chunk echoed), if the voice model spoke.
  if (calls[0].agent_bytes_received > 0) {
    EXPECT_FALSE(calls[0].marks_echoed.empty());
  }
}

}  // namespace
}  // namespace concierge::fake_twilio

namespace concierge::fake_twilio {
namespace {

// Twilio is slow twice over: it answers the create after the plugin's 1 s timeout, and places the call only after
// that timeout too. The daemon records the call as failed (no SID, "could not reach Twilio"); then Twilio's first
// callback shows the call. The plugin ends it through the REST API, and the record is corrected: the SID, the
// status Twilio ended it with, a reason that says what happened, the real end time, the late statuses in its
// history - and it stays so across a restart (the call store has the amended record). It never becomes live again.
TEST(DaemonWithFakeTwilio, ACreateThatTimedOutButWentThroughIsCorrectedByTwilioLateCallbacks) {
  FakeTwilioOptions options;
  options.public_domain = "concierge.test";
  options.create_answer_delay = [](const CreatedCall&) { return 4000ms; };
  options.placing_delay = [](const CreatedCall&) { return 1800ms; };
  options.ring_time = 900ms;
  FakeTwilio fake(options);
  const auto database =
      std::filesystem::temp_directory_path() / ("twilio-late-" + std::to_string(::getpid()) + ".sqlite");
  std::filesystem::remove(database);
  const auto config = write_config("twilio-late", fake, "      request_timeout_seconds: 1\n",
                                   "calls:\n  database: \"" + database.string() + "\"\n");
  std::string call_id, sid;
  nlohmann::json amended;
  {
    testing::Daemon daemon(config.string(), kTwilioEnv);
    call_id = place_reservation_call(daemon, fake);
    ASSERT_NE(call_id, "");
    auto record_now = [&] {
      const auto status = testing::http_get(daemon.url() + "/calls/" + call_id + "/status");
      return status.status == 200 ? nlohmann::json::parse(status.body) : nlohmann::json();
    };

    // The timeout: failed here, with the daemon's guess for a reason and no SID.
    nlohmann::json failed;
    ASSERT_TRUE(fake.wait_for([&](const FakeTwilio&) { return (failed = record_now()).value("status", "") == "failed"; },
                              10s))
        << daemon.output();
    EXPECT_TRUE(contains(failed.value("status_reason", ""), "could not reach Twilio")) << failed.dump();
    EXPECT_EQ(failed.value("provider_call_id", ""), "");
    ASSERT_TRUE(fake.records_of("status").empty()) << "Twilio placed the call before the create timed out";

    // Twilio's callbacks come, the plugin cancels the call at Twilio, and Twilio's final callback reports it.
    ASSERT_TRUE(fake.wait_for([](const FakeTwilio& f) { return !f.records_of("call.end").empty(); }, 15s))
        << daemon.output();
    sid = fake.records_of("rest.create").at(0).call_sid;
    ASSERT_TRUE(fake.wait_for([&](const FakeTwilio& f) {
      for (const auto& status : f.records_of("status"))
        if (contains(status.detail, "canceled")) return true;
      return false;
    }, 10s));
    const auto updates = fake.records_of("rest.update");
    ASSERT_EQ(updates.size(), 1u);
    EXPECT_EQ(updates[0].call_sid, sid);
    EXPECT_TRUE(contains(updates[0].detail, "Status=canceled")) << updates[0].detail;
    for (const auto& status : fake.records_of("status")) EXPECT_TRUE(contains(status.detail, "-> 204")) << status.detail;

    ASSERT_TRUE(fake.wait_for([&](const FakeTwilio&) { return (amended = record_now()).value("status", "") == "canceled"; },
                              10s))
        << amended.dump() << daemon.output();
    EXPECT_EQ(amended["provider_call_id"], sid);
    const std::string reason = amended.value("status_reason", "");
    EXPECT_TRUE(contains(reason, "Twilio placed the call after the create had failed here (could not reach Twilio"))
        << reason;
    EXPECT_TRUE(contains(reason, "the call was ended through the REST API")) << reason;
    EXPECT_EQ(amended["result"].value("failure_reason", ""), reason);
    EXPECT_FALSE(amended["result"].value("success", true));
    // Ended when Twilio ended it, after the moment it failed here.
    ASSERT_TRUE(amended["ended_at"].is_string());
    EXPECT_GT(amended["ended_at"].get<std::string>(), failed["ended_at"].get<std::string>());
    // The history keeps what happened here, then what Twilio reported after.
    std::vector<std::string> history;
    for (const auto& entry : amended["status_history"]) history.push_back(entry["status"]);
    const auto failed_at = std::find(history.begin(), history.end(), "failed");
    ASSERT_NE(failed_at, history.end()) << amended.dump();
    const std::vector<std::string> after(failed_at + 1, history.end());
    ASSERT_FALSE(after.empty()) << amended.dump();
    EXPECT_EQ(after.front(), "dialing") << amended.dump();  // Twilio's "initiated"
    EXPECT_EQ(after.back(), "canceled") << amended.dump();
    EXPECT_EQ(std::count(after.begin(), after.end(), "canceled"), 1) << amended.dump();
    // Never live again: not counted active, not listed as in progress.
    const auto listing = nlohmann::json::parse(testing::http_get(daemon.url() + "/calls").body);
    EXPECT_EQ(listing["active"], 0) << listing.dump();
    EXPECT_EQ(testing::http_post(daemon.url() + "/calls/" + call_id + "/hangup", "").status, 409);
    EXPECT_TRUE(contains(daemon.output(), "record amended after its end")) << daemon.output();
  }
  // Durable: a restarted daemon reads the amended record from the call store.
  {
    testing::Daemon daemon(config.string(), kTwilioEnv);
    ASSERT_TRUE(daemon.started()) << daemon.output();
    const auto status = testing::http_get(daemon.url() + "/calls/" + call_id + "/status");
    ASSERT_EQ(status.status, 200) << status.body;
    const auto stored = nlohmann::json::parse(status.body);
    EXPECT_EQ(stored["status"], "canceled");
    EXPECT_EQ(stored["provider_call_id"], sid);
    EXPECT_EQ(stored["status_reason"], amended["status_reason"]);
    EXPECT_EQ(stored["ended_at"], amended["ended_at"]);
    EXPECT_EQ(stored["status_history"], amended["status_history"]);
  }
  std::filesystem::remove(config);
  std::filesystem::remove(database);
  std::filesystem::remove(database.string() + "-wal");
  std::filesystem::remove(database.string() + "-shm");
}

}  // namespace
}  // namespace concierge::fake_twilio

namespace concierge::fake_twilio {
namespace {

std::string reservation_body_to(const std::string& phone_number) {
  std::string body = reservation_body();
  const std::string usual = "+12125550100";
  body.replace(body.find(usual), usual.size(), phone_number);
  return body;
}

// As above, but the record has left the daemon's memory (calls.history_limit: 1, and a second call came) before
// Twilio's late callbacks: the correction goes to the call store, GET /calls/{id} and the listing's pages past the
// memory show it at once, and so does the listing after a restart.
TEST(DaemonWithFakeTwilio, ALateReportCorrectsARecordPastTheHistoryLimitInTheCallStore) {
  constexpr const char* kLate = "+12125550100";
  constexpr const char* kNext = "+12125550101";
  FakeTwilioOptions options;
  options.public_domain = "concierge.test";
  // Only the first call's create is slow, and Twilio places that call well after the plugin gave up on it.
  options.create_answer_delay = [kLate](const CreatedCall& created) {
    return created.field("To") == kLate ? std::chrono::milliseconds(6000) : std::chrono::milliseconds(0);
  };
  options.placing_delay = [kLate](const CreatedCall& created) {
    return created.field("To") == kLate ? std::chrono::milliseconds(3000) : std::chrono::milliseconds(20);
  };
  options.scenario = [kLate](const CreatedCall& created) {
    return created.field("To") == kLate ? Scenario::answer : Scenario::no_answer;
  };
  options.ring_time = 900ms;
  FakeTwilio fake(options);
  const auto database =
      std::filesystem::temp_directory_path() / ("twilio-late-past-" + std::to_string(::getpid()) + ".sqlite");
  std::filesystem::remove(database);
  const std::string store = "  database: \"" + database.string() + "\"\n";
  const auto config = write_config("twilio-late-past", fake, "      request_timeout_seconds: 1\n",
                                   "calls:\n  history_limit: 1\n" + store);
  const auto config_after = write_config("twilio-late-past-after", fake, "", "calls:\n  history_limit: 10\n" + store);
  std::string late_id, next_id, sid;
  {
    testing::Daemon daemon(config.string(), kTwilioEnv);
    ASSERT_TRUE(daemon.started()) << daemon.output();
    fake.set_daemon_port(static_cast<std::uint16_t>(daemon.port()));
    const auto created = testing::http_post(daemon.url() + "/calls", reservation_body_to(kLate));
    ASSERT_EQ(created.status, 201) << created.body;
    late_id = nlohmann::json::parse(created.body)["call_id"];
    ASSERT_TRUE(fake.wait_for([&](const FakeTwilio&) {
      const auto status = testing::http_get(daemon.url() + "/calls/" + late_id + "/status");
      return status.status == 200 && nlohmann::json::parse(status.body).value("status", "") == "failed";
    }, 10s)) << daemon.output();
    // The next call pushes the failed one out of memory (the store keeps it).
    const auto next = testing::http_post(daemon.url() + "/calls", reservation_body_to(kNext));
    ASSERT_EQ(next.status, 201) << next.body;
    next_id = nlohmann::json::parse(next.body)["call_id"];
    // Out of memory, still served: GET /calls/{id} reads it from the store.
    const auto left = testing::http_get(daemon.url() + "/calls/" + late_id + "/status");
    ASSERT_EQ(left.status, 200) << left.body;
    EXPECT_EQ(nlohmann::json::parse(left.body)["status"], "failed") << left.body;
    sid = fake.records_of("rest.create").at(0).call_sid;  // the late call's: created first
    for (const auto& status : fake.records_of("status"))
      ASSERT_NE(status.call_sid, sid) << "Twilio placed the late call before it left the daemon's memory";

    // Twilio places the late call; the plugin ends it through the REST API; Twilio's final callback reports it.
    ASSERT_TRUE(fake.wait_for([&](const FakeTwilio&) {
      return contains(daemon.output(), "corrected in the call store") &&
             contains(daemon.output(), "record amended after its end: canceled");
    }, 20s)) << daemon.output();
    EXPECT_FALSE(contains(daemon.output(), "left as stored")) << daemon.output();
    // The correction shows at once, without a restart: by its id (from the store) ...
    const auto corrected = testing::http_get(daemon.url() + "/calls/" + late_id);
    ASSERT_EQ(corrected.status, 200) << corrected.body;
    const auto record = nlohmann::json::parse(corrected.body);
    EXPECT_EQ(record["status"], "canceled") << record.dump();
    EXPECT_EQ(record["provider_call_id"], sid) << record.dump();
    // ... and in the listing, whose pages go on from the memory (the next call) into the store (the late one).
    const auto first = nlohmann::json::parse(testing::http_get(daemon.url() + "/calls?limit=1").body);
    ASSERT_EQ(first["calls"].size(), 1u) << first.dump();
    EXPECT_EQ(first["calls"][0]["call_id"], next_id) << first.dump();
    EXPECT_EQ(first["total"], 2) << first.dump();
    EXPECT_EQ(first["active"], 0) << first.dump();  // never active again
    ASSERT_TRUE(first["next_cursor"].is_string()) << first.dump();
    const auto second = nlohmann::json::parse(
        testing::http_get(daemon.url() + "/calls?limit=1&cursor=" + first["next_cursor"].get<std::string>()).body);
    ASSERT_EQ(second["calls"].size(), 1u) << second.dump();
    EXPECT_EQ(second["calls"][0]["call_id"], late_id) << second.dump();
    EXPECT_EQ(second["calls"][0]["status"], "canceled") << second.dump();
    EXPECT_EQ(second["calls"][0]["provider_call_id"], sid) << second.dump();
    EXPECT_TRUE(second["next_cursor"].is_null()) << second.dump();
    // One page holds both, the store's after the memory's.
    const auto whole = nlohmann::json::parse(testing::http_get(daemon.url() + "/calls").body);
    ASSERT_EQ(whole["calls"].size(), 2u) << whole.dump();
    EXPECT_EQ(whole["calls"][0]["call_id"], next_id);
    EXPECT_EQ(whole["calls"][1]["call_id"], late_id);
    EXPECT_TRUE(whole["next_cursor"].is_null()) << whole.dump();
    // Ended, not unknown: a hang-up of it is a conflict.
    EXPECT_EQ(testing::http_post(daemon.url() + "/calls/" + late_id + "/hangup", "").status, 409);
  }
  // A restart with a longer history reads the corrected record from the store, in the listing and by its id.
  {
    testing::Daemon daemon(config_after.string(), kTwilioEnv);
    ASSERT_TRUE(daemon.started()) << daemon.output();
    const auto listing = nlohmann::json::parse(testing::http_get(daemon.url() + "/calls").body);
    nlohmann::json listed;
    for (const auto& entry : listing["calls"])
      if (entry["call_id"] == late_id) listed = entry;
    ASSERT_TRUE(listed.is_object()) << listing.dump();
    EXPECT_EQ(listed["status"], "canceled") << listed.dump();
    EXPECT_EQ(listed["provider_call_id"], sid) << listed.dump();
    EXPECT_TRUE(contains(listed.value("status_reason", ""), "Twilio placed the call after the create had failed here"))
        << listed.dump();
    const auto status = testing::http_get(daemon.url() + "/calls/" + late_id + "/status");
    ASSERT_EQ(status.status, 200) << status.body;
    const auto stored = nlohmann::json::parse(status.body);
    EXPECT_EQ(stored["status"], "canceled");
    std::vector<std::string> history;
    for (const auto& entry : stored["status_history"]) history.push_back(entry["status"]);
    const auto failed_at = std::find(history.begin(), history.end(), "failed");
    ASSERT_NE(failed_at, history.end()) << stored.dump();
    EXPECT_EQ(history.back(), "canceled") << stored.dump();
    EXPECT_EQ(stored["result"].value("failure_reason", ""), stored["status_reason"]);
  }
  std::filesystem::remove(config);
  std::filesystem::remove(config_after);
  std::filesystem::remove(database);
  std::filesystem::remove(database.string() + "-wal");
  std::filesystem::remove(database.string() + "-shm");
}

// A call whose create Twilio has not answered yet when the daemon is told to stop: the daemon ends the call, stops
// and unloads the plugins with the create still in flight (the call is then held only by the host's HTTP completion,
// which the plugin's cxx::Host destroys unrun, while it is whole; the call's destructor cancels its give-up timer
// through it), and exits cleanly. Twilio's answer never comes while the daemon lives.
TEST(DaemonWithFakeTwilio, ACreateStillInFlightWhenTheDaemonStopsLetsItExitCleanly) {
  FakeTwilioOptions options;
  options.public_domain = "concierge.test";
  options.create_answer_delay = [](const CreatedCall&) { return 60s; };
  options.placing_delay = [](const CreatedCall&) { return 60s; };  // nor is the call placed meanwhile
  FakeTwilio fake(options);
  const auto config = write_config("twilio-daemon-exit-test", fake);
  testing::Daemon daemon(config.string(), kTwilioEnv);
  ASSERT_NE(place_reservation_call(daemon, fake), "");
  ASSERT_TRUE(fake.wait_for([](const FakeTwilio& f) { return !f.records_of("rest.create").empty(); }, 10s))
      << daemon.output();
  daemon.process().signal(SIGTERM);
  const auto status = daemon.process().wait(20s);
  std::filesystem::remove(config);
  ASSERT_TRUE(status.has_value()) << "the daemon did not exit\n" << daemon.output();
  EXPECT_EQ(*status, 0) << daemon.output();
  EXPECT_TRUE(daemon.output().find("Stopped.") != std::string::npos) << daemon.output();
  EXPECT_TRUE(fake.records_of("rest.answered").empty());  // the create was still in flight when the daemon went
  EXPECT_TRUE(fake.records_of("twiml").empty());
}

}  // namespace
}  // namespace concierge::fake_twilio
