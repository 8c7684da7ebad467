// The control API behind its bearer token, tried as a stranger on the network would (over real sockets from
// 127.0.0.1, the address ngrok and load balancers connect from): no token or a wrong one gets 401 on every control
// route, the right one 200; /health stays open. Without a configured token the daemon generates one into a file
// mode 0600 and the CLI finds it, so the owner's `concierge book ...` needs no extra step.
#include <sys/stat.h>

#include <fstream>

#include "integration.hpp"

using namespace concierge::testing;
using nlohmann::json;

namespace {

const std::vector<std::string> kNoToken{"Content-Type: application/json", kNoAuthorization};
const std::vector<std::string> kWrongToken{"Content-Type: application/json",
                                           "Authorization: Bearer test-api-token-4f1c9e2a7c"};
constexpr const char* kBooking = R"({"request":"Book a table at Demo Restaurant for 2 tomorrow at 7pm"})";

void expect_unauthorized(const HttpResult& r, const std::string& what) {
  EXPECT_EQ(r.status, 401) << what << ": " << r.body;
  EXPECT_EQ(r.headers.count("www-authenticate"), 1u) << what;
  EXPECT_EQ(r.headers.at("www-authenticate").rfind("Bearer realm=\"concierge\"", 0), 0u) << what;
  const auto body = json::parse(r.body, nullptr, false);
  ASSERT_TRUE(body.is_object() && body.contains("error")) << what << ": " << r.body;
}

std::string read_first_line(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

TEST(ApiAuth, EveryControlRouteNeedsTheTokenAndHealthStaysOpen) {
  Daemon daemon(config_path("fast.yaml"));
  ASSERT_TRUE(daemon.started()) << daemon.output();
  const std::string base = daemon.url();

  // The attack of the issue: a stranger places a call, lists everyone's calls, hangs one up, reads the metrics.
  for (const auto& headers : {kNoToken, kWrongToken}) {
    const std::string which = headers == kNoToken ? "no token" : "wrong token";
    expect_unauthorized(http_post(base + "/calls", kBooking, headers), "POST /calls, " + which);
    expect_unauthorized(http_request("GET", base + "/calls", "", headers), "GET /calls, " + which);
    expect_unauthorized(http_request("GET", base + "/calls/call_x/status", "", headers), "status, " + which);
    expect_unauthorized(http_post(base + "/calls/call_x/hangup", "", headers), "hangup, " + which);
    expect_unauthorized(http_request("GET", base + "/metrics", "", headers), "metrics, " + which);
    // Not even the shape of the API (404/405) answers without it.
    expect_unauthorized(http_request("DELETE", base + "/calls", "", headers), "DELETE /calls, " + which);
    expect_unauthorized(http_request("GET", base + "/no/such/route", "", headers), "unknown route, " + which);
  }
  // A token that shares all but its last character, a prefix, the token with a suffix, another scheme.
  for (const std::string& header : {std::string("Authorization: Bearer ") + std::string(kTestApiToken).substr(0, 10),
                                   std::string("Authorization: Bearer ") + kTestApiToken + "x",
                                   std::string("Authorization: Basic ") + kTestApiToken,
                                   std::string("Authorization: Bearer"), std::string("Authorization: ") + kTestApiToken})
    expect_unauthorized(http_request("GET", base + "/calls", "", {header}), header);
  // Nothing was placed: the stranger's POSTs never reached the agent.
  const auto listed = http_get(base + "/calls");
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_TRUE(json::parse(listed.body)["calls"].empty()) << listed.body;

  // The right token: the owner's requests go through (the scheme's case does not matter, RFC 7235).
  const auto created = http_post(base + "/calls", kBooking,
                                 {"Content-Type: application/json", std::string("Authorization: bearer ") + kTestApiToken});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = json::parse(created.body)["call_id"];
  EXPECT_EQ(http_get(base + "/calls/" + id + "/status").status, 200);
  EXPECT_EQ(http_get(base + "/metrics").status, 200);

  // /health is open to anyone (a load balancer's probe).
  EXPECT_EQ(http_request("GET", base + "/health", "", kNoToken).status, 200);

  // Refusals are counted.
  const std::string metrics = http_get(base + "/metrics").body;
  EXPECT_NE(metrics.find("concierge_api_unauthorized_total 19\n"), std::string::npos) << metrics;
  EXPECT_NE(daemon.output().find("API token: from the configuration"), std::string::npos) << daemon.output();
  EXPECT_EQ(daemon.output().find(kTestApiToken), std::string::npos) << "the token must never be logged";
}

TEST(ApiAuth, MetricsCanBeOpenedByTheirOwnSetting) {
  const auto config = temp_path("metrics-public.yaml");
  {
    std::ifstream in(config_path("fast.yaml"));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto server = text.find("server:\n");
    ASSERT_NE(server, std::string::npos);
    text.insert(server + 8, "  metrics_public: true\n");
    std::ofstream(config) << text;
  }
  Daemon daemon(config.string());
  ASSERT_TRUE(daemon.started()) << daemon.output();
  EXPECT_EQ(http_request("GET", daemon.url() + "/metrics", "", kNoToken).status, 200);
  expect_unauthorized(http_request("GET", daemon.url() + "/calls", "", kNoToken), "GET /calls");
  std::filesystem::remove(config);
}

TEST(ApiAuth, AConfiguredTokenTooShortToBeACredentialStopsTheDaemon) {
  auto r = run_program(CONCIERGE_HOST_BINARY, {"--env-file", "/dev/null", "--config", config_path("fast.yaml")},
                       std::chrono::seconds(20), {{"CONCIERGE_API_TOKEN", "secret"}});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("server.api_token"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("at least 16"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("secret"), std::string::npos) << "the token must not be echoed: " << r.output;
}

// No token configured: the daemon generates one per start into $XDG_RUNTIME_DIR/concierge/api-token-<port>, mode
// 0600, logs the path, and the CLI (same XDG_RUNTIME_DIR, no token given) reads it by itself.
TEST(ApiAuth, AGeneratedTokenLivesInAFileOnlyTheOwnerCanReadAndTheCliFindsIt) {
  const auto runtime = temp_path("runtime");
  std::filesystem::create_directories(runtime);
  const std::map<std::string, std::string> env{{"CONCIERGE_API_TOKEN", ""}, {"XDG_RUNTIME_DIR", runtime.string()}};
  std::filesystem::path file;
  std::string token;
  {
    Daemon daemon(config_path("fast.yaml"), env);
    ASSERT_TRUE(daemon.started()) << daemon.output();
    file = runtime / "concierge" / ("api-token-" + std::to_string(daemon.port()));
    ASSERT_TRUE(std::filesystem::exists(file)) << daemon.output();
    EXPECT_NE(daemon.output().find("API token: generated for this run, in " + file.string()), std::string::npos)
        << daemon.output();
    struct stat info {};
    ASSERT_EQ(stat(file.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u);
    ASSERT_EQ(stat(file.parent_path().c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0700u);
    token = read_first_line(file);
    EXPECT_EQ(token.size(), 64u) << token;
    EXPECT_EQ(daemon.output().find(token), std::string::npos) << "the token must never be logged";

    // The test's own token is not this daemon's; the file's is.
    expect_unauthorized(http_get(daemon.url() + "/calls"), "the test token");
    EXPECT_EQ(http_request("GET", daemon.url() + "/calls", "", {"Authorization: Bearer " + token}).status, 200);

    // The owner's CLI, with nothing but the same runtime folder: books and lists.
    auto booked = run_program(CONCIERGE_CLI_BINARY,
                              {"--server", daemon.url(), "book", "Book a table at Demo Restaurant for 2 tomorrow at 7pm"},
                              std::chrono::seconds(90), env);
    EXPECT_EQ(booked.status, 0) << booked.output;
    EXPECT_NE(booked.output.find("Reservation confirmed!"), std::string::npos) << booked.output;
    auto listed = run_program(CONCIERGE_CLI_BINARY, {"--server", daemon.url(), "--json", "calls"},
                              std::chrono::seconds(20), env);
    EXPECT_EQ(listed.status, 0) << listed.output;

    // A stranger's CLI (no runtime folder of the owner's, no token): a clear message, exit 2.
    const auto elsewhere = temp_path("stranger");
    std::filesystem::create_directories(elsewhere);
    auto stranger = run_program(CONCIERGE_CLI_BINARY, {"--server", daemon.url(), "calls"}, std::chrono::seconds(20),
                                {{"CONCIERGE_API_TOKEN", ""}, {"XDG_RUNTIME_DIR", elsewhere.string()}});
    EXPECT_EQ(stranger.status, 2) << stranger.output;
    EXPECT_NE(stranger.output.find("needs its API token"), std::string::npos) << stranger.output;
    // And a wrong --token says which one was refused.
    auto wrong = run_program(CONCIERGE_CLI_BINARY, {"--server", daemon.url(), "--token", "not-the-token-at-all", "calls"},
                             std::chrono::seconds(20), env);
    EXPECT_EQ(wrong.status, 2) << wrong.output;
    EXPECT_NE(wrong.output.find("refused the API token from --token"), std::string::npos) << wrong.output;
    std::filesystem::remove_all(elsewhere);
  }
  // Stopped: its token is gone with it.
  EXPECT_FALSE(std::filesystem::exists(file));
  std::filesystem::remove_all(runtime);
}

// Two daemons of one user generate two tokens in two files: neither overwrites the other's.
TEST(ApiAuth, TwoDaemonsKeepTheirOwnTokens) {
  const auto runtime = temp_path("runtime2");
  std::filesystem::create_directories(runtime);
  const std::map<std::string, std::string> env{{"CONCIERGE_API_TOKEN", ""}, {"XDG_RUNTIME_DIR", runtime.string()}};
  Daemon first(config_path("fast.yaml"), env);
  Daemon second(config_path("fast.yaml"), env);
  ASSERT_TRUE(first.started() && second.started()) << first.output() << second.output();
  const auto token_of = [&](const Daemon& d) {
    return read_first_line(runtime / "concierge" / ("api-token-" + std::to_string(d.port())));
  };
  const std::string a = token_of(first), b = token_of(second);
  EXPECT_NE(a, b);
  EXPECT_EQ(http_request("GET", first.url() + "/calls", "", {"Authorization: Bearer " + a}).status, 200);
  EXPECT_EQ(http_request("GET", second.url() + "/calls", "", {"Authorization: Bearer " + b}).status, 200);
  EXPECT_EQ(http_request("GET", second.url() + "/calls", "", {"Authorization: Bearer " + a}).status, 401);
  std::filesystem::remove_all(runtime);
}

}  // namespace

namespace {

// Two faces on the demo line (SERVER_PUBLIC_PORT=0: a second listener on a free port): the public one answers only
// /health (the simulated line has no public routes), the control API is 404 there with or without the token, and the
// owner's CLI books through the control listener as ever.
TEST(TwoFaces, TheControlApiIsNotOnThePublicListenerAndACallStillBooks) {
  Daemon daemon(config_path("fast.yaml"), {{"SERVER_PUBLIC_PORT", "0"}});
  ASSERT_TRUE(daemon.started()) << daemon.output();
  ASSERT_NE(daemon.public_port(), 0) << daemon.output();
  EXPECT_NE(daemon.public_port(), daemon.port());
  EXPECT_NE(daemon.output().find("(the control API; the telephony routes are on the public listener only)"),
            std::string::npos)
      << daemon.output();
  for (const auto& headers : {std::vector<std::string>{"Content-Type: application/json"}, kNoToken}) {
    for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
             {"GET", "/calls"}, {"POST", "/calls"}, {"GET", "/calls/call_x/status"}, {"POST", "/calls/call_x/hangup"},
             {"GET", "/metrics"}, {"DELETE", "/calls"}}) {
      const auto r = http_request(method, daemon.public_url() + path, method == "POST" ? kBooking : "", headers);
      EXPECT_EQ(r.status, 404) << method << " " << path << ": " << r.body;
      EXPECT_EQ(r.headers.count("www-authenticate"), 0u) << path;
    }
  }
  EXPECT_EQ(http_request("GET", daemon.public_url() + "/health", "", kNoToken).status, 200);
  EXPECT_EQ(http_request("GET", daemon.url() + "/health", "", kNoToken).status, 200);

  auto booked = run_program(CONCIERGE_CLI_BINARY,
                            {"--server", daemon.url(), "book", "Book a table at Demo Restaurant for 2 tomorrow at 7pm"},
                            std::chrono::seconds(90));
  EXPECT_EQ(booked.status, 0) << booked.output;
  EXPECT_NE(booked.output.find("Reservation confirmed!"), std::string::npos) << booked.output;
  // Nothing placed through the public face: the one call is the CLI's.
  EXPECT_EQ(json::parse(http_get(daemon.url() + "/calls").body)["total"], 1);
}

// Without SERVER_PUBLIC_PORT there is one listener, as before: no public one is logged.
TEST(TwoFaces, WithoutAPublicPortThereIsOneListener) {
  Daemon daemon(config_path("fast.yaml"));
  ASSERT_TRUE(daemon.started()) << daemon.output();
  EXPECT_EQ(daemon.public_port(), 0);
  EXPECT_EQ(daemon.output().find("Public listener"), std::string::npos) << daemon.output();
}

}  // namespace
