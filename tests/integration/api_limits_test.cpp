// The API token's call limits (calls.limits_per_token) through the real daemon over real sockets: the call past a
// limit is answered 429 with Retry-After and a JSON reason, nothing is placed, and /metrics counts it by reason.
// Nothing here depends on the machine's speed: the windows are a minute and an hour long and Retry-After is checked
// against what the test itself measured ("never early"), and the concurrent limit is freed by a hang-up, not a timer.
#include "integration.hpp"

using namespace concierge::testing;
using nlohmann::json;

namespace {

constexpr const char* kLimitsBooking = R"({"request":"Book a table at Demo Restaurant for 2 tomorrow at 7pm"})";

std::string metric_line(const std::string& metrics, const std::string& name) {
  const auto at = metrics.find("\n" + name + " ");
  if (at == std::string::npos) return "";
  return metrics.substr(at + 1, metrics.find('\n', at + 1) - at - 1);
}

// Retry-After as a number of seconds, and the body's reason; fails the test when either is missing or they differ.
long expect_limited(const HttpResult& r, const std::string& limit) {
  EXPECT_EQ(r.status, 429) << r.body;
  const auto body = json::parse(r.body, nullptr, false);
  EXPECT_TRUE(body.is_object()) << r.body;
  if (!body.is_object()) return -1;
  EXPECT_EQ(body.value("refused", ""), limit) << r.body;
  EXPECT_NE(body.value("error", "").find("calls.limits_per_token"), std::string::npos) << r.body;
  EXPECT_EQ(r.headers.count("retry-after"), 1u) << r.body;
  if (!r.headers.count("retry-after")) return -1;
  const long retry_after = std::stol(r.headers.at("retry-after"));
  EXPECT_EQ(body.value("retry_after_seconds", -1L), retry_after) << r.body;
  EXPECT_NE(body.value("error", "").find("try again"), std::string::npos) << r.body;
  return retry_after;
}

TEST(ApiLimits, TheCallPastThePerMinuteLimitIs429WithRetryAfterAndIsCounted) {
  Daemon daemon(config_path("fast.yaml"), {{"CALLS_PER_MINUTE", "2"}});
  ASSERT_TRUE(daemon.started()) << daemon.output();
  const auto before_first = std::chrono::steady_clock::now();
  for (int i = 0; i < 2; ++i) {
    const auto r = http_post(daemon.url() + "/calls", kLimitsBooking);
    ASSERT_EQ(r.status, 201) << r.body;
  }
  const auto limited = http_post(daemon.url() + "/calls", kLimitsBooking);
  const auto after_refusal = std::chrono::steady_clock::now();
  const long retry_after = expect_limited(limited, "calls_per_minute");
  // The first call leaves the window 60 s after it was placed, which was after `before_first`: the daemon cannot
  // honestly say less than that, whatever the machine's speed, nor more than the window.
  const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(after_refusal - before_first).count();
  EXPECT_GE(retry_after, 60 - elapsed - 1);
  EXPECT_LE(retry_after, 60);
  // A dry run places nothing, so it is not limited.
  EXPECT_EQ(http_post(daemon.url() + "/calls", R"({"request":"Book a table at Demo Restaurant for 2 tomorrow at 7pm",
                                                  "dry_run":true})")
                .status,
            200);
  // Refused again, counted twice; nothing more was placed.
  expect_limited(http_post(daemon.url() + "/calls", kLimitsBooking), "calls_per_minute");
  const std::string metrics = http_get(daemon.url() + "/metrics").body;
  EXPECT_EQ(metric_line(metrics, "concierge_calls_refused_policy_total{reason=\"calls_per_minute\"}"),
            "concierge_calls_refused_policy_total{reason=\"calls_per_minute\"} 2")
      << metrics;
  EXPECT_EQ(metric_line(metrics, "concierge_calls_refused_policy_total{reason=\"calls_per_hour\"}"),
            "concierge_calls_refused_policy_total{reason=\"calls_per_hour\"} 0");
  EXPECT_EQ(metric_line(metrics, "concierge_calls_limit_per_token{limit=\"per_minute\"}"),
            "concierge_calls_limit_per_token{limit=\"per_minute\"} 2");
  EXPECT_EQ(json::parse(http_get(daemon.url() + "/calls").body)["total"], 2) << "refused calls leave no record";
  // The daemon keeps serving: health, listings and status all answer.
  EXPECT_EQ(http_get(daemon.url() + "/health").status, 200);
}

TEST(ApiLimits, ThePerHourLimitOutlastsTheMinute) {
  Daemon daemon(config_path("fast.yaml"), {{"CALLS_PER_HOUR", "1"}});
  ASSERT_TRUE(daemon.started()) << daemon.output();
  const auto before_first = std::chrono::steady_clock::now();
  const auto first = http_post(daemon.url() + "/calls", kLimitsBooking);
  ASSERT_EQ(first.status, 201) << first.body;
  // The first call ends (the line runs at 50x); the hour still counts it.
  wait_for_end(daemon.url(), json::parse(first.body)["call_id"]);
  const auto limited = http_post(daemon.url() + "/calls", kLimitsBooking);
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - before_first).count();
  const long retry_after = expect_limited(limited, "calls_per_hour");
  EXPECT_GE(retry_after, 3600 - elapsed - 1);
  EXPECT_LE(retry_after, 3600);
  EXPECT_NE(http_get(daemon.url() + "/metrics").body.find("concierge_calls_refused_policy_total{reason=\"calls_per_hour\"} 1\n"),
            std::string::npos);
}

TEST(ApiLimits, ConcurrentCallsAreLimitedUntilOneEnds) {
  // The line at real time: the call is still in progress while the test asks again (it lasts tens of seconds; the
  // test ends it itself).
  Daemon daemon(config_path("fast.yaml"), {{"CONCURRENT_CALLS", "1"}, {"SPEED_UP", "1"}});
  ASSERT_TRUE(daemon.started()) << daemon.output();
  const auto first = http_post(daemon.url() + "/calls", kLimitsBooking);
  ASSERT_EQ(first.status, 201) << first.body;
  const std::string first_id = json::parse(first.body)["call_id"];
  const long retry_after = expect_limited(http_post(daemon.url() + "/calls", kLimitsBooking), "concurrent_calls");
  EXPECT_EQ(retry_after, 5);
  // The owner hangs up the first call; once it has ended there is room again.
  ASSERT_EQ(http_post(daemon.url() + "/calls/" + first_id + "/hangup", "").status, 200);
  wait_for_end(daemon.url(), first_id);
  const auto second = http_post(daemon.url() + "/calls", kLimitsBooking);
  ASSERT_EQ(second.status, 201) << second.body;
  EXPECT_EQ(http_post(daemon.url() + "/calls/" + json::parse(second.body)["call_id"].get<std::string>() + "/hangup", "")
                .status,
            200);
  EXPECT_NE(http_get(daemon.url() + "/metrics").body.find(
                "concierge_calls_refused_policy_total{reason=\"concurrent_calls\"} 1\n"),
            std::string::npos);
}

// The shipped defaults are stated, and a config that gets them wrong stops the daemon with the key's name.
TEST(ApiLimits, TheDefaultsAreStatedAndABadValueNamesItsKey) {
  Daemon daemon("");  // the built-in default config
  ASSERT_TRUE(daemon.started()) << daemon.output();
  const std::string metrics = http_get(daemon.url() + "/metrics").body;
  EXPECT_NE(metrics.find("concierge_calls_limit_per_token{limit=\"per_minute\"} 10\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("concierge_calls_limit_per_token{limit=\"per_hour\"} 100\n"), std::string::npos);
  EXPECT_NE(metrics.find("concierge_calls_limit_per_token{limit=\"concurrent\"} 5\n"), std::string::npos);

  auto bad = run_program(CONCIERGE_HOST_BINARY, {"--env-file", "/dev/null", "--config", config_path("fast.yaml")},
                         std::chrono::seconds(20), {{"CALLS_PER_MINUTE", "-1"}});
  EXPECT_EQ(bad.status, 2) << bad.output;
  EXPECT_NE(bad.output.find("calls.limits_per_token.per_minute"), std::string::npos) << bad.output;
}

}  // namespace
