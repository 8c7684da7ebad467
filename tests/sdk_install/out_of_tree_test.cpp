// A plugin built outside the tree, as its author would: only the installed prefix, find_package(concierge 1.0) and
// concierge_add_plugin(). One test, in order (each step needs the one before): install, move the prefix (nothing
// may record where it was installed), check what was installed, build and test the example against it, install
// the example into it, run the installed daemon with it and place a simulated call through it.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "daemon_process.hpp"
#include "http_client.hpp"
#include "module_exports.hpp"

namespace fs = std::filesystem;
using namespace concierge::testing;
using namespace std::chrono_literals;

namespace {

const fs::path kBuild = CONCIERGE_BINARY_DIR;
const fs::path kSource = CONCIERGE_TEST_SOURCE_DIR;
const fs::path kWork = kBuild / "sdk-install";

RunResult run(const std::string& program, const std::vector<std::string>& args, std::chrono::seconds limit = 600s,
              const std::map<std::string, std::string>& env = {}) {
  RunResult r = run_program(program, args, limit, env);
  std::string line = program;
  for (const auto& a : args) line += " " + a;
  r.output = "$ " + line + "\n" + r.output;
  return r;
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The RUNPATH (or RPATH) of an ELF file, "" when it has none.
std::string runpath_of(const fs::path& file) {
  const RunResult r = run("/usr/bin/readelf", {"-d", file.string()}, 60s);
  static const std::regex entry(R"(\((?:RUNPATH|RPATH)\)\s+Library (?:runpath|rpath): \[([^\]]*)\])");
  std::smatch m;
  return std::regex_search(r.output, m, entry) ? m[1].str() : "";
}

std::vector<std::string> example_configure_args(const fs::path& prefix, const fs::path& build) {
  std::vector<std::string> args{"-S", (kSource / "examples" / "appointment-reminder").string(),
                                "-B", build.string(),
                                "-G", CONCIERGE_CMAKE_GENERATOR,
                                "-DCMAKE_BUILD_TYPE=Release",
                                "-DCMAKE_PREFIX_PATH=" + prefix.string(),
                                "-DCMAKE_CXX_COMPILER=" + std::string(CONCIERGE_CXX_COMPILER)};
  if (std::string(CONCIERGE_CXX_LAUNCHER).size())
    args.push_back("-DCMAKE_CXX_COMPILER_LAUNCHER=" + std::string(CONCIERGE_CXX_LAUNCHER));
  if (std::string(CONCIERGE_EXAMPLE_FLAGS).size()) {
    args.push_back("-DCMAKE_CXX_FLAGS=" + std::string(CONCIERGE_EXAMPLE_FLAGS));
    for (const char* kind : {"EXE", "SHARED", "MODULE"})
      args.push_back("-DCMAKE_" + std::string(kind) + "_LINKER_FLAGS=" + std::string(CONCIERGE_EXAMPLE_FLAGS));
  }
  return args;
}

TEST(SdkInstall, APluginBuiltOutOfTreeAgainstTheInstalledPrefixRunsACall) {
  std::error_code ec;
  fs::remove_all(kWork, ec);
  fs::create_directories(kWork);
  const fs::path staging = kWork / "staging";
  const fs::path prefix = kWork / "prefix";
  const fs::path lib = prefix / CONCIERGE_INSTALL_LIBDIR;

  // 1. Install, then move the whole prefix: every installed file must find the others relative to itself.
  RunResult r = run(CONCIERGE_CMAKE_COMMAND, {"--install", kBuild.string(), "--prefix", staging.string()});
  ASSERT_EQ(r.status, 0) << r.output;
  fs::rename(staging, prefix);

  for (const fs::path& file : {prefix / "include/concierge/plugin.hpp", prefix / "include/concierge/net/asio.hpp",
                               lib / "libconcierge_sdk.so.1", lib / "libconcierge_net.so.1",
                               lib / "cmake/concierge/concierge-config.cmake",
                               lib / "cmake/concierge/concierge-config-version.cmake",
                               lib / "cmake/concierge/ConciergePlugin.cmake", lib / "pkgconfig/concierge.pc",
                               prefix / "bin/concierge-host", lib / "concierge/plugins/simulated-telephony.so"})
    EXPECT_TRUE(fs::exists(file)) << file;
  // The restaurant English is no part of the SDK.
  EXPECT_FALSE(fs::exists(prefix / "include/concierge/speech"));

  // No text file names the staging folder, the build tree or the source tree.
  for (const auto& entry : fs::recursive_directory_iterator(prefix)) {
    const auto ext = entry.path().extension();
    if (!entry.is_regular_file() || (ext != ".cmake" && ext != ".pc" && ext != ".hpp")) continue;
    const std::string text = read_text(entry.path());
    EXPECT_EQ(text.find(kBuild.string()), std::string::npos) << entry.path() << " names the build tree";
    EXPECT_EQ(text.find(kSource.string() + "/"), std::string::npos) << entry.path() << " names the source tree";
  }
  // RUNPATHs: the daemon finds the SDK beside it; the SDK finds libconcierge_net beside itself (its WebSocket client
  // calls the compiled Asio, and an executable's RUNPATH does not serve its libraries' needs); libconcierge_net and
  // the plugins carry none (a plugin uses the SDK the daemon loaded).
  EXPECT_EQ(runpath_of(prefix / "bin/concierge-host"), "$ORIGIN/../" + std::string(CONCIERGE_INSTALL_LIBDIR));
  EXPECT_EQ(runpath_of(lib / "libconcierge_sdk.so.1"), "$ORIGIN");  // finds libconcierge_net beside it
  for (const auto& entry : fs::directory_iterator(lib / "concierge/plugins"))
    EXPECT_EQ(runpath_of(entry.path()), "") << entry.path();

  // 2. pkg-config: the prefix, the Asio/Beast definitions, the libraries, the SDK version.
  const std::map<std::string, std::string> pc_env{{"PKG_CONFIG_PATH", (lib / "pkgconfig").string()}};
  r = run("/usr/bin/pkg-config", {"--cflags", "--libs", "concierge"}, 60s, pc_env);
  ASSERT_EQ(r.status, 0) << r.output;
  static const std::regex include_flag(R"(-I(\S+))");
  std::smatch include;
  ASSERT_TRUE(std::regex_search(r.output, include, include_flag)) << r.output;
  EXPECT_TRUE(fs::equivalent(include[1].str(), prefix / "include")) << include[1];  // found from the .pc file's folder
  for (const std::string& flag : {std::string("-DBOOST_ASIO_SEPARATE_COMPILATION"),
                                  std::string("-DBOOST_BEAST_SEPARATE_COMPILATION"),
                                  std::string("-DCONCIERGE_YAML_CPP_VERSION=\\\"0."), std::string("-lconcierge_sdk"),
                                  std::string("-lconcierge_net")})
    EXPECT_NE(r.output.find(flag), std::string::npos) << flag << " missing from\n" << r.output;
  r = run("/usr/bin/pkg-config", {"--modversion", "concierge"}, 60s, pc_env);
  EXPECT_NE(r.output.find("\n1."), std::string::npos) << r.output;

  // 3. find_package checks the version: 2.0 is refused.
  const fs::path version_check = kWork / "version-check";
  fs::create_directories(version_check);
  std::ofstream(version_check / "CMakeLists.txt") << "cmake_minimum_required(VERSION 3.25)\nproject(v LANGUAGES CXX)\n"
                                                     "find_package(concierge 2.0 REQUIRED)\n";
  r = run(CONCIERGE_CMAKE_COMMAND, {"-S", version_check.string(), "-B", (version_check / "build").string(),
                                    "-DCMAKE_PREFIX_PATH=" + prefix.string()});
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("compatible with requested version \"2.0\""), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("concierge-config.cmake, version: 1."), std::string::npos) << r.output;

  // 4. The example: configured against the prefix alone, built, its own tests run, installed into the prefix.
  const fs::path example = kWork / "example-build";
  r = run(CONCIERGE_CMAKE_COMMAND, example_configure_args(prefix, example));
  ASSERT_EQ(r.status, 0) << r.output;
  // A C++ plugin on the C boundary, built with this build's C++ compiler (GCC in the test command; the C example
  // below is built with clang).
  EXPECT_NE(r.output.find(std::string("The CXX compiler identification is ") + CONCIERGE_CXX_COMPILER_ID),
            std::string::npos) << r.output;
  r = run(CONCIERGE_CMAKE_COMMAND, {"--build", example.string(), "-j", "2"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("warning:"), std::string::npos) << r.output;
  r = run(CONCIERGE_CTEST_COMMAND, {"--test-dir", example.string(), "--output-on-failure"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(runpath_of(example / "appointment-reminder.so"), "");
  r = run(CONCIERGE_CMAKE_COMMAND, {"--install", example.string(), "--prefix", prefix.string()});
  ASSERT_EQ(r.status, 0) << r.output;
  ASSERT_TRUE(fs::exists(lib / "concierge/plugins/appointment-reminder.so"));
  // The C boundary's rule: the C entry point and nothing else of ours (the C++ layer, the SDK's classes, yaml-cpp
  // and nlohmann stay hidden inside the plugin).
  EXPECT_EQ(own_exports(CONCIERGE_NM, (lib / "concierge/plugins/appointment-reminder.so").string()),
            std::vector<std::string>{"concierge_plugin_entry"});

  // 5. The installed daemon (its default plugin folder: <prefix>/lib/concierge/plugins) with the example agent.
  const fs::path config = kWork / "reminder.yaml";
  std::ofstream(config) << R"(server: {host: 127.0.0.1, port: 0}
log_level: INFO
calls: {time_limit_seconds: 2}
plugins:
  telephony:
    plugin: simulated-telephony
    config:
      speed_up: 50
      restaurant: {name: Sam Lee, phone: "+15551230000", opening_hours: {default: "08:00-18:00"}}
  voice_model:
    plugin: echo-voice
  agent:
    plugin: appointment-reminder
    config: {clinic: Riverside Dental, callback_number: "+15550001111"}
)";
  Daemon daemon(config.string(), {}, {}, (prefix / "bin/concierge-host").string());
  ASSERT_TRUE(daemon.started()) << daemon.output();
  // Loaded through the C boundary, by a daemon built separately from it.
  EXPECT_NE(daemon.output().find("Loaded agent plugin appointment-reminder 1.0.0 (C ABI 1."), std::string::npos)
      << daemon.output();
  EXPECT_NE(daemon.output().find(lib.string() + "/concierge/plugins/appointment-reminder.so"), std::string::npos)
      << daemon.output();

  // The agent asks for what is missing, through the daemon's API.
  HttpResult created = http_post(daemon.url() + "/calls", R"({"request": "remind Sam of the appointment"})");
  EXPECT_EQ(created.status, 422) << created.body;
  EXPECT_NE(created.body.find("Which phone number should I call"), std::string::npos) << created.body;

  created = http_post(daemon.url() + "/calls",
                      R"({"request": "remind +15551230000 of the appointment on 2026-12-03 at 09:30",)"
                      R"( "fields": {"patient_name": "Sam Lee"}})");
  ASSERT_EQ(created.status, 201) << created.body << daemon.output();
  const std::string call_id = nlohmann::json::parse(created.body)["call_id"];
  nlohmann::json record;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    record = nlohmann::json::parse(http_get(daemon.url() + "/calls/" + call_id).body);
    if (record.contains("result") && !record["result"].is_null()) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(record.contains("result")) << record.dump(2) << daemon.output();
  EXPECT_EQ(record["summary"], "appointment reminder for Sam Lee at Riverside Dental, 2026-12-03 09:30");
  EXPECT_EQ(record["details"]["clinic"], "Riverside Dental");
  // Audio flowed both ways: the line's through the daemon to the voice model and its echo back to the line.
  EXPECT_GT(record["metrics"]["frames_from_line"].get<long>(), 0) << record.dump(2);
  EXPECT_GT(record["metrics"]["frames_to_line"].get<long>(), 0) << record.dump(2);
  // echo-voice only says back what it hears, so nobody ever answers and the call runs into calls.time_limit_seconds;
  // the verdict's details are the example agent's own.
  EXPECT_EQ(record["status"], "timed-out") << record.dump(2);
  EXPECT_EQ(record["result"]["success"], false);
  EXPECT_EQ(record["result"]["failure_reason"], "The call timed out after 2 seconds");
  EXPECT_EQ(record["result"]["details"]["clinic"], "Riverside Dental");
  EXPECT_EQ(record["result"]["details"]["answer"], "");

  // 6. The C boundary: examples/c-echo-voice, plain C99 built with clang against the installed headers alone,
  // installed into the prefix and run as the voice model of a call.
  const fs::path c_example = kWork / "c-example-build";
  r = run(CONCIERGE_CMAKE_COMMAND, {"-S", (kSource / "examples" / "c-echo-voice").string(), "-B", c_example.string(),
                                    "-G", CONCIERGE_CMAKE_GENERATOR, "-DCMAKE_BUILD_TYPE=Release",
                                    "-DCMAKE_PREFIX_PATH=" + prefix.string(),
                                    "-DCMAKE_C_COMPILER=" + std::string(CONCIERGE_C_COMPILER)});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("The C compiler identification is Clang"), std::string::npos) << r.output;
  r = run(CONCIERGE_CMAKE_COMMAND, {"--build", c_example.string()});
  ASSERT_EQ(r.status, 0) << r.output;
  r = run(CONCIERGE_CMAKE_COMMAND, {"--install", c_example.string(), "--prefix", prefix.string()});
  ASSERT_EQ(r.status, 0) << r.output;
  ASSERT_TRUE(fs::exists(lib / "concierge/plugins/c-echo-voice.so"));
  // Nothing of C++ in it: it needs neither libstdc++ nor the SDK's libraries.
  r = run("/usr/bin/readelf", {"-d", (lib / "concierge/plugins/c-echo-voice.so").string()}, 60s);
  EXPECT_EQ(r.output.find("libstdc++"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("libconcierge"), std::string::npos) << r.output;

  const fs::path c_config = kWork / "c-voice.yaml";
  std::string c_yaml = read_text(config);
  c_yaml.replace(c_yaml.find("plugin: echo-voice"), std::string("plugin: echo-voice").size(), "plugin: c-echo-voice");
  std::ofstream(c_config) << c_yaml;
  Daemon c_daemon(c_config.string(), {}, {}, (prefix / "bin/concierge-host").string());
  ASSERT_TRUE(c_daemon.started()) << c_daemon.output();
  EXPECT_NE(c_daemon.output().find("Loaded voice_model plugin c-echo-voice 1.0.0 (C ABI 1."), std::string::npos)
      << c_daemon.output();
  created = http_post(c_daemon.url() + "/calls",
                      R"({"request": "remind +15551230000 of the appointment on 2026-12-03 at 09:30",)"
                      R"( "fields": {"patient_name": "Sam Lee"}})");
  ASSERT_EQ(created.status, 201) << created.body << c_daemon.output();
  const std::string c_call_id = nlohmann::json::parse(created.body)["call_id"];
  record = nlohmann::json();
  const auto c_deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < c_deadline) {
    record = nlohmann::json::parse(http_get(c_daemon.url() + "/calls/" + c_call_id).body);
    if (record.contains("result") && !record["result"].is_null()) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(record.contains("result")) << record.dump(2) << c_daemon.output();
  // The C plugin echoed the line's audio back through the daemon to the line.
  EXPECT_GT(record["metrics"]["frames_from_line"].get<long>(), 0) << record.dump(2);
  EXPECT_GT(record["metrics"]["frames_to_voice"].get<long>(), 0) << record.dump(2);
  EXPECT_GT(record["metrics"]["frames_to_line"].get<long>(), 0) << record.dump(2);
  EXPECT_EQ(record["status"], "timed-out") << record.dump(2);
}

}  // namespace
