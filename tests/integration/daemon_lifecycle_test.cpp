// The daemon as an operator meets it: config mistakes, a plugin that is missing, hang-ups, time limits, signals,
// and call records that survive a restart or a crash.
#include <signal.h>

#include <ctime>
#include <map>
#include <fstream>
#include <vector>
#include <sstream>
#include <iterator>

#include "concierge/abi.h"
#include "concierge/version.hpp"
#include "integration.hpp"

using namespace concierge::testing;
using nlohmann::json;

namespace {

std::string write_file(const std::string& name, const std::string& text) {
  auto path = temp_path(name);
  std::ofstream(path) << text;
  return path.string();
}

RunResult run_daemon(const std::vector<std::string>& args, std::map<std::string, std::string> env = {}) {
  std::vector<std::string> all{"--env-file", "/dev/null"};
  all.insert(all.end(), args.begin(), args.end());
  return run_program(CONCIERGE_HOST_BINARY, all, std::chrono::seconds(20), env);
}

TEST(DaemonConfig, ConfigMistakesNameTheFileTheKeyAndTheLine) {
  const auto typo = write_file("typo.yaml", "server:\n  host: 127.0.0.1\n  prot: 8080\n");
  auto r = run_daemon({"--config", typo});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find(typo + ": server.prot (line 3)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("unknown key"), std::string::npos) << r.output;

  const auto wrong_type = write_file("type.yaml", "server:\n  port: eighty\n");
  r = run_daemon({"--config", wrong_type});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("server.port (line 2)"), std::string::npos) << r.output;

  const auto broken = write_file("broken.yaml", "server: [unclosed\n");
  r = run_daemon({"--config", broken});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find(broken), std::string::npos) << r.output;

  r = run_daemon({"--config", "/no/such/file.yaml"});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("/no/such/file.yaml"), std::string::npos) << r.output;

  r = run_daemon({"--bogus-flag"});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("unknown option --bogus-flag"), std::string::npos) << r.output;
}

TEST(DaemonConfig, APluginsOwnConfigErrorNamesItsKeyPath) {
  const auto bad = write_file("plugin-bad.yaml",
                              "plugins:\n  telephony:\n    plugin: simulated-telephony\n    config:\n"
                              "      speed_up: fast\n"
                              "  voice_model: {plugin: scripted-voice}\n  agent: {plugin: reservation-agent}\n");
  auto r = run_daemon({"--config", bad});
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("plugins.telephony.config.speed_up"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("line 5"), std::string::npos) << r.output;
}

// Every shipped plugin reads its block the same way (ConfigNode(config, "")), so the daemon's error names the key
// where it sits in the file, whichever slot the plugin fills.
// Every in-tree plugin reads its block through concierge::plugin_config(): a mistake in it is reported as
// "<file>: plugins.<slot>.config.<key> (line N): ...", nested keys included, and the daemon exits 3.
TEST(DaemonConfig, EveryPluginsConfigErrorNamesTheFileTheKeyPathAndTheLine) {
  struct Case {
    const char* slot;
    const char* plugin;
    const char* block;  // the lines under config:, from line 7 of the file
    const char* expected;
  };
  const Case cases[] = {
      {"telephony", "simulated-telephony", "      speed_up: fast\n", "plugins.telephony.config.speed_up (line 7): "},
      {"telephony", "twilio", "      acount_sid: AC123\n",
       "plugins.telephony.config.acount_sid (line 7): unknown key"},
      {"voice_model", "scripted-voice", "      speed_up: 1\n      output_format: pcm16_24000\n",
       "plugins.voice_model.config.output_format (line 8): \"pcm16_24000\" is the old spelling: write pcm16/24000"},
      {"voice_model", "echo-voice", "      format: pcm16_11k\n", "plugins.voice_model.config.format (line 7): "},
      {"voice_model", "openai-realtime", "      api_key: sk-test\n      voise: alloy\n",
       "plugins.voice_model.config.voise (line 8): unknown key"},
      {"voice_model", "openai-live", "      api_key: sk-test\n      voise: alloy\n",
       "plugins.voice_model.config.voise (line 8): unknown key"},
      {"agent", "reservation-agent", "      restaurants:\n        - name: Demo\n          phone: twelve\n",
       "plugins.agent.config.restaurants[0].phone (line 9): "},
  };
  const std::map<std::string, std::string> others = {{"telephony", "  telephony: {plugin: simulated-telephony}\n"},
                                                     {"voice_model", "  voice_model: {plugin: scripted-voice}\n"},
                                                     {"agent", "  agent: {plugin: reservation-agent}\n"}};
  for (const Case& c : cases) {
    std::string text = "plugins:\n";
    for (const auto& [slot, line] : others)
      if (slot != c.slot) text += line;
    text += std::string("  ") + c.slot + ":\n    plugin: " + c.plugin + "\n    config:\n" + c.block;
    const auto file = write_file(std::string("bad-") + c.plugin + ".yaml", text);
    const auto r = run_daemon({"--config", file, "--check-config"});
    EXPECT_EQ(r.status, 3) << c.plugin << "\n" << r.output;
    EXPECT_NE(r.output.find("concierge-host: " + file + ": " + c.expected), std::string::npos)
        << c.plugin << " should say \"" << file << ": " << c.expected << "\"\n" << text << r.output;
  }
}

TEST(DaemonConfig, AMissingPluginIsNamedWithWhatIsThere) {
  const auto missing = write_file("missing.yaml",
                                  "plugins:\n  telephony: {plugin: simulated-telephony}\n"
                                  "  voice_model: {plugin: no-such-voice}\n  agent: {plugin: reservation-agent}\n");
  auto r = run_daemon({"--config", missing});
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_NE(r.output.find("no-such-voice.so"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("scripted-voice"), std::string::npos) << "lists the plugins that exist: " << r.output;
}

TEST(DaemonConfig, CheckConfigLoadsEverythingAndExits) {
  auto r = run_daemon({"--check-config", "--config", config_path("fast.yaml")});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("Loaded telephony plugin simulated-telephony"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Loaded voice_model plugin scripted-voice"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Loaded agent plugin reservation-agent"), std::string::npos) << r.output;
}

TEST(DaemonStartup, PrintsWhatTheSeedsUsersLookFor) {
  Daemon daemon("", {{"SERVER_HOST", "127.0.0.1"}});  // the built-in default config
  ASSERT_TRUE(daemon.started()) << daemon.output();
  const auto out = daemon.output();
  EXPECT_NE(out.find("Starting AI Concierge Voice Server on 127.0.0.1:"), std::string::npos) << out;
  EXPECT_NE(out.find("Public domain: NOT CONFIGURED"), std::string::npos) << out;
  EXPECT_NE(out.find("simulated-telephony 1."), std::string::npos) << out;
  EXPECT_NE(out.find("Application startup complete."), std::string::npos) << out;
}

// server.nice is applied to the daemon (and so to every thread it starts later). A positive value needs no
// privilege, so the test can run anywhere; a refused one is a warning, not a failure to start.
TEST(DaemonStartup, AppliesServerNice) {
  Daemon daemon(config_path("fast.yaml"), {{"NICE", "7"}});
  ASSERT_TRUE(daemon.started()) << daemon.output();
  std::ifstream stat("/proc/" + std::to_string(daemon.process().pid()) + "/stat");
  std::string line;
  std::getline(stat, line);
  // Fields after the parenthesised command name: state is field 3, nice is field 19.
  std::istringstream fields(line.substr(line.rfind(')') + 2));
  std::vector<std::string> f{std::istream_iterator<std::string>(fields), {}};
  ASSERT_GT(f.size(), 17u) << line;
  EXPECT_EQ(f[16], "7") << line;
  EXPECT_NE(daemon.output().find("Running at nice 7"), std::string::npos) << daemon.output();
}

TEST(DaemonCalls, HangUpEndsARunningCallAsCanceled) {
  Daemon daemon(config_path("fast.yaml"), {{"SPEED_UP", "1"}});
  ASSERT_TRUE(daemon.started()) << daemon.output();
  auto created = http_post(daemon.url() + "/calls", R"({"request":"Book a table at Demo Restaurant for 2 tomorrow at 7pm"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = json_of(created)["call_id"];
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto hung = http_post(daemon.url() + "/calls/" + id + "/hangup", "");
  EXPECT_EQ(hung.status, 200) << hung.body;
  auto record = wait_for_end(daemon.url(), id, std::chrono::seconds(10));
  EXPECT_EQ(record["status"], "canceled");
  EXPECT_FALSE(record["result"]["success"].get<bool>());
  EXPECT_NE(record["result"]["failure_reason"].get<std::string>().find("canceled"), std::string::npos);
  EXPECT_EQ(record["result"]["outcome"], "not_completed") << record.dump(2);  // derived by the host
  EXPECT_EQ(http_post(daemon.url() + "/calls/" + id + "/hangup", "").status, 409);
}

TEST(DaemonCalls, TheTimeLimitEndsALongCall) {
  Daemon daemon(config_path("fast.yaml"), {{"SPEED_UP", "1"}, {"TIME_LIMIT", "2"}});
  ASSERT_TRUE(daemon.started()) << daemon.output();
  auto created = http_post(daemon.url() + "/calls", R"({"request":"Book a table at Demo Restaurant for 2 tomorrow at 7pm"})");
  ASSERT_EQ(created.status, 201) << created.body;
  auto record = wait_for_end(daemon.url(), json_of(created)["call_id"], std::chrono::seconds(15));
  EXPECT_EQ(record["status"], "timed-out") << record.dump(2);
  EXPECT_NE(record["result"]["failure_reason"].get<std::string>().find("timed out after 2 seconds"), std::string::npos);
}

// The clock now as the records write it: "2026-11-24T19:03:07.123Z" (UTC), comparable as text.
static std::string now_iso8601() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[40];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", text, static_cast<int>(ms));
  return out;
}

TEST(DaemonCalls, RecordsSurviveARestartAndACrash) {
  const auto db = temp_path("calls.db").string();
  std::string finished_id, interrupted_id, last_known_activity;
  {
    Daemon daemon(config_path("fast.yaml"), {{"CALL_DATABASE", db}});
    ASSERT_TRUE(daemon.started()) << daemon.output();
    auto r = http_post(daemon.url() + "/calls", R"({"request":"Book a table at Demo Restaurant for 4 tomorrow at 7pm"})");
    finished_id = json_of(r)["call_id"];
    auto record = wait_for_end(daemon.url(), finished_id);
    ASSERT_TRUE(record["result"]["success"].get<bool>());
    // A SIGTERM is a clean stop.
    daemon.process().signal(SIGTERM);
    EXPECT_EQ(daemon.process().wait(std::chrono::seconds(10)), 0) << daemon.output();
  }
  {
    Daemon daemon(config_path("fast.yaml"), {{"CALL_DATABASE", db}, {"SPEED_UP", "1"}});
    ASSERT_TRUE(daemon.started()) << daemon.output();
    auto old = http_get(daemon.url() + "/calls/" + finished_id + "/status");
    ASSERT_EQ(old.status, 200) << "the finished call is still known after a restart";
    EXPECT_TRUE(json_of(old)["result"]["success"].get<bool>());
    EXPECT_FALSE(json_of(old)["transcript"].empty());
    auto r = http_post(daemon.url() + "/calls", R"({"request":"Book a table at Demo Restaurant for 2 tomorrow at 7pm"})");
    interrupted_id = json_of(r)["call_id"];
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    last_known_activity = json_of(http_get(daemon.url() + "/calls/" + interrupted_id + "/status"))["updated_at"];
    daemon.process().signal(SIGKILL);  // a crash in the middle of a call
    daemon.process().wait(std::chrono::seconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // a restart later than the call's last activity
  const std::string restarted_at = now_iso8601();
  {
    Daemon daemon(config_path("fast.yaml"), {{"CALL_DATABASE", db}});
    ASSERT_TRUE(daemon.started()) << daemon.output();
    EXPECT_NE(daemon.output().find("were still running when the daemon last stopped"), std::string::npos);
    auto lost = json_of(http_get(daemon.url() + "/calls/" + interrupted_id + "/status"));
    EXPECT_EQ(lost["status"], "failed") << lost.dump(2);
    EXPECT_NE(lost["result"]["failure_reason"].get<std::string>().find("daemon stopped"), std::string::npos);
    // It ended when it was last heard of (its record's last update before the crash, at the latest), not at this
    // restart.
    ASSERT_TRUE(lost["ended_at"].is_string()) << lost.dump(2);
    EXPECT_GE(lost["ended_at"].get<std::string>(), last_known_activity) << lost.dump(2);
    EXPECT_LT(lost["ended_at"].get<std::string>(), restarted_at) << lost.dump(2);
    EXPECT_EQ(json_of(http_get(daemon.url() + "/calls"))["calls"].size(), 2u);
  }
  std::filesystem::remove(db);
  std::filesystem::remove(db + "-wal");
  std::filesystem::remove(db + "-shm");
}

TEST(DaemonCalls, SigtermDuringACallCancelsItAndExitsCleanly) {
  const auto db = temp_path("sigterm.db").string();
  std::string id;
  {
    Daemon daemon(config_path("fast.yaml"), {{"CALL_DATABASE", db}, {"SPEED_UP", "1"}});
    ASSERT_TRUE(daemon.started()) << daemon.output();
    auto r = http_post(daemon.url() + "/calls", R"({"request":"Book a table at Demo Restaurant for 2 tomorrow at 7pm"})");
    id = json_of(r)["call_id"];
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    daemon.process().signal(SIGTERM);
    EXPECT_EQ(daemon.process().wait(std::chrono::seconds(10)), 0) << daemon.output();
    EXPECT_NE(daemon.output().find("Shutting down (SIGTERM)"), std::string::npos);
  }
  Daemon daemon(config_path("fast.yaml"), {{"CALL_DATABASE", db}});
  ASSERT_TRUE(daemon.started());
  auto record = json_of(http_get(daemon.url() + "/calls/" + id + "/status"));
  EXPECT_EQ(record["status"], "canceled") << record.dump(2);
  EXPECT_NE(record["result"]["failure_reason"].get<std::string>().find("shutting down"), std::string::npos);
  std::filesystem::remove(db);
}

}  // namespace

// A plugin that really unloads (built like clang builds every plugin: no STB_GNU_UNIQUE symbols) and owns a timer on
// the daemon's event loop. The daemon must destroy the event loop, whose timer service that plugin's code made,
// before it unloads the library: in the other order every exit, even --check-config, is a segfault.
TEST(DaemonShutdown, APluginThatReallyUnloadsAndOwnsATimerExitsCleanly) {
  namespace fs = std::filesystem;
  // Two plugin folders, searched in order: the test fixtures' and the daemon's own (no symlinks needed).
  const auto config = write_file("unloading.yaml", "plugin_dir: [" + std::string(CONCIERGE_TEST_PLUGIN_DIR) + ", \"" +
                                                       CONCIERGE_PLUGIN_DIR +
                                                       "\"]\nplugins:\n"
                                                       "  telephony: {plugin: fixture-timer, config: {greeting: hi}}\n"
                                                       "  voice_model: {plugin: scripted-voice}\n"
                                                       "  agent: {plugin: reservation-agent}\n");

  auto checked = run_daemon({"--config", config, "--check-config", "--log-level", "DEBUG"});
  EXPECT_EQ(checked.status, 0) << checked.output;
  EXPECT_NE(checked.output.find("Plugin fixture-timer unloaded"), std::string::npos) << checked.output;

  Daemon daemon(config, {}, {"--log-level", "DEBUG"});
  ASSERT_TRUE(daemon.started()) << daemon.output();
  EXPECT_EQ(http_get(daemon.url() + "/health").status, 200);
  daemon.process().signal(SIGTERM);
  EXPECT_EQ(daemon.process().wait(std::chrono::seconds(20)), 0) << daemon.output();
  EXPECT_NE(daemon.output().find("Plugin fixture-timer unloaded"), std::string::npos) << daemon.output();
  fs::remove(config);
}

// The plugins on the C boundary (the default set: simulated-telephony, scripted-voice, reservation-agent; and
// echo-voice, openai-realtime, openai-live) are built with GCC like the rest, with -fno-gnu-unique
// (concierge_add_plugin's C_BOUNDARY), so the daemon really unmaps each at exit, after a booking ran through them:
// the way a later plugin reload will unload them. (A library with one STB_GNU_UNIQUE symbol would log "stays mapped"
// instead.)
TEST(DaemonShutdown, ThePluginsOnTheCBoundaryReallyUnload) {
  {
    Daemon daemon(config_path("fast.yaml"), {{"LOG_LEVEL", "DEBUG"}});
    ASSERT_TRUE(daemon.started()) << daemon.output();
    auto created = http_post(daemon.url() + "/calls", R"({"request":"Book a table at Demo Restaurant for 4 tomorrow at 7pm"})");
    ASSERT_EQ(created.status, 201) << created.body;
    auto record = wait_for_end(daemon.url(), json_of(created)["call_id"]);
    EXPECT_TRUE(record["result"]["success"].get<bool>()) << record.dump(2);
    daemon.process().signal(SIGTERM);
    EXPECT_EQ(daemon.process().wait(std::chrono::seconds(20)), 0) << daemon.output();
    for (const char* name : {"simulated-telephony", "scripted-voice", "reservation-agent"})
      EXPECT_NE(daemon.output().find(std::string("Plugin ") + name + " unloaded"), std::string::npos)
          << daemon.output();
  }
  const auto echo = write_file("c-boundary-echo.yaml",
                               "plugins:\n"
                               "  telephony: {plugin: simulated-telephony}\n"
                               "  voice_model: {plugin: echo-voice}\n"
                               "  agent: {plugin: reservation-agent}\n");
  auto checked = run_daemon({"--config", echo, "--check-config", "--log-level", "DEBUG"});
  EXPECT_EQ(checked.status, 0) << checked.output;
  EXPECT_NE(checked.output.find("Plugin echo-voice unloaded"), std::string::npos) << checked.output;
  std::filesystem::remove(echo);
  // The OpenAI voice models too (their WebSockets are the host's client; nothing of Asio's is in them).
  for (const std::string voice : {"openai-realtime", "openai-live"}) {
    const auto config = write_file("c-boundary-" + voice + ".yaml",
                                   "plugins:\n"
                                   "  telephony: {plugin: simulated-telephony}\n"
                                   "  voice_model: {plugin: " + voice + ", config: {api_key: sk-test}}\n"
                                   "  agent: {plugin: reservation-agent}\n");
    auto r = run_daemon({"--config", config, "--check-config", "--log-level", "DEBUG"});
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("Plugin " + voice + " unloaded"), std::string::npos) << r.output;
    std::filesystem::remove(config);
  }
}

// plugin: a path relative to the config file's folder; --list-plugins over several --plugin-dir folders lists every
// file, refused ones with their reason, and says so in its status.
TEST(DaemonPlugins, APluginByPathAndTheListOfEveryPluginFound) {
  namespace fs = std::filesystem;
  const fs::path folder = temp_path("plugin-by-path");
  fs::create_directories(folder);
  const fs::path fixture = fs::path(CONCIERGE_TEST_PLUGIN_DIR) / "fixture-timer.so";
  const fs::path relative = fs::relative(fixture, folder);
  ASSERT_TRUE(relative.is_relative()) << relative;
  const std::string config = (folder / "by-path.yaml").string();
  std::ofstream(config) << "plugin_dir: \"" << CONCIERGE_PLUGIN_DIR << "\"\nplugins:\n"
                        << "  telephony: {plugin: " << relative.string() << ", config: {greeting: hi}}\n"
                        << "  voice_model: {plugin: scripted-voice}\n  agent: {plugin: reservation-agent}\n";
  // The SDK these plugins were built with is this tree's.
  const std::string sdk = "SDK " + std::to_string(concierge::kSdkVersionMajor) + "." +
                          std::to_string(concierge::kSdkVersionMinor);
  auto r = run_daemon({"--config", config, "--check-config"});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("Loaded telephony plugin fixture-timer 1.2.3 (" + sdk + ") from " + fixture.string()),
            std::string::npos)
      << r.output;

  // The daemon's own folder alone: every plugin usable, status 0.
  r = run_daemon({"--config", config, "--list-plugins"});
  EXPECT_EQ(r.status, 0) << r.output;
  // reservation-agent and simulated-telephony are on the C boundary: listed with the C ABI they were built for.
  const std::string c_abi = "C ABI " + std::to_string(CONCIERGE_ABI_MAJOR) + "." + std::to_string(CONCIERGE_ABI_MINOR);
  EXPECT_NE(r.output.find("agent        reservation-agent    1.1.0    " + c_abi + "  " +
                          std::string(CONCIERGE_PLUGIN_DIR) + "/reservation-agent.so\n"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("telephony    simulated-telephony  1.1.0    " + c_abi + "  "), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("Starting"), std::string::npos) << r.output;  // it lists and exits

  // Two folders given on the command line, one of them full of broken plugins: each listed with its reason, status 1.
  r = run_daemon({"--list-plugins", "--plugin-dir", CONCIERGE_PLUGIN_DIR, "--plugin-dir", CONCIERGE_TEST_PLUGIN_DIR});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("voice_model  scripted-voice"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("telephony    fixture-timer"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("refused      " + std::string(CONCIERGE_TEST_PLUGIN_DIR) +
                          "/fixture-sdk2.so: built for SDK 2.0, this host has " + sdk + "; rebuild the plugin\n"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("refused      " + std::string(CONCIERGE_TEST_PLUGIN_DIR) + "/fixture-text.so: "),
            std::string::npos)
      << r.output;
  fs::remove_all(folder);
}
