// The real daemon (concierge-host) with the twilio plugin, talking to the fake Twilio: the host's own server routes
// /twiml, /twilio/status and the /media-stream WebSocket to the plugin. Only api_base_url points at the fake.
#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "daemon_process.hpp"
#include "fake_twilio/fake_twilio.hpp"
#include "http_client.hpp"

namespace concierge::fake_twilio {
namespace {
using namespace std::chrono_literals;

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

  const auto config = std::filesystem::temp_directory_path() / ("twilio-daemon-test-" + std::to_string(::getpid()) + ".yaml");
  {
    std::ofstream out(config);
    out << "server:\n  host: 127.0.0.1\n  port: \"${SERVER_PORT:-0}\"\n  public_domain: \"${PUBLIC_DOMAIN}\"\n"
        << "plugin_dir: \"" << CONCIERGE_PLUGIN_DIR << "\"\n"
        << "plugins:\n  telephony:\n    plugin: twilio\n    config:\n"
        << "      account_sid: \"${TWILIO_ACCOUNT_SID}\"\n      auth_token: \"${TWILIO_AUTH_TOKEN}\"\n"
        << "      from_number: \"${TWILIO_PHONE_NUMBER}\"\n      api_base_url: \"" << fake.base_url() << "\"\n"
        << "  voice_model:\n    plugin: scripted-voice\n    config: {}\n"
        << "  agent:\n    plugin: reservation-agent\n    config: {}\n";
  }
  testing::Daemon daemon(config.string(), {{"TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000001"},
                                           {"TWILIO_AUTH_TOKEN", "fake-auth-token"},
                                           {"TWILIO_PHONE_NUMBER", "+15005550006"},
                                           {"PUBLIC_DOMAIN", "concierge.test"}});
  ASSERT_TRUE(daemon.started()) << daemon.output();
  fake.set_daemon_port(static_cast<std::uint16_t>(daemon.port()));

  // Tomorrow, computed (a fixed date turns into "in the past" one day; the agent reads the machine's clock).
  const std::time_t tomorrow_t = std::time(nullptr) + 24 * 3600;
  std::tm tomorrow_tm{};
  localtime_r(&tomorrow_t, &tomorrow_tm);
  char tomorrow[16];
  std::strftime(tomorrow, sizeof tomorrow, "%Y-%m-%d", &tomorrow_tm);
  const auto created = testing::http_post(
      daemon.url() + "/calls",
      std::string(R"({"fields":{"restaurant":"Demo Restaurant","phone_number":"+12125550100","date":")") + tomorrow +
          R"(","time":"19:00","party_size":4,"customer_name":"Alex Morgan"}})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string call_id = nlohmann::json::parse(created.body)["call_id"];

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
