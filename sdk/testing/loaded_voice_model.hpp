#pragma once
// A voice-model plugin's built module as the daemon loads it, for that plugin's tests: the daemon's own loader
// (host/src/plugin_loader.hpp: a test that includes this links concierge_host_core), the config block as YAML text
// with the daemon's key path and file, a session opened through the loaded instance on a WebSocketTestHost (the
// plugin's WebSockets and timers are the host's, over the C boundary), and what the session hands the host recorded.
// Header-only. A test's LoadedPlugin goes at the end of its body; the session it opened goes with the fixture (the
// library stays mapped until then).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "concierge/config.hpp"
#include "concierge_fakes/test_pki.hpp"
#include "plugin_loader.hpp"
#include "voice_model_harness.hpp"

namespace concierge::testing {

class LoadedVoiceModelTest : public VoiceSessionTest {
 protected:
  explicit LoadedVoiceModelTest(std::string plugin) : plugin_(std::move(plugin)) {}

  // The module loaded with `yaml` as its plugins.voice_model.config block of /etc/concierge.yaml.
  host::LoadedPlugin load(const std::string& yaml) {
    return loader.load(plugin_, PluginKind::voice_model, PluginContext{host, log, "/tmp"}, YAML::Load(yaml),
                       "plugins.voice_model.config", "/etc/concierge.yaml");
  }
  // An OpenAI-style block: the key, the (fake's) URL and a 5 s connect timeout.
  static std::string block_for(const std::string& url, const std::string& key = "sk-test-key") {
    return "api_key: " + key + "\nurl: \"" + url + "\"\nconnect_timeout_seconds: 5\n";
  }
  // Opens `session` through the loaded instance, on a mu-law line.
  void open(const host::LoadedPlugin& plugin) {
    ASSERT_TRUE(plugin.c_abi);
    ASSERT_NE(plugin.instance.voice_model, nullptr);
    VoiceSessionConfig config;
    config.call_id = "call-c";
    config.instructions = "You are calling Demo Restaurant.";
    config.line_format = AudioFormat::mulaw_8k();
    session = plugin.instance.voice_model->open_session(config, events);
    ASSERT_NE(session, nullptr);
  }
  // A server that never answers the upgrade at `path`, with connect_timeout_seconds: 1: the session gives up, fatally,
  // never early (>= 0.9 s) and eventually (within 5 s), saying "within 1 s".
  void expect_a_server_that_never_answers_to_time_out(const std::string& path) {
    const SilentServer silent;
    const host::LoadedPlugin plugin =
        load("api_key: k\nurl: \"" + silent.ws_url(path) + "\"\nconnect_timeout_seconds: 1\n");
    open(plugin);
    const auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(host.run_until([&] { return !events->errors.empty(); }, std::chrono::seconds(5)));
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(900));
    EXPECT_TRUE(events->errors[0].second);
    EXPECT_NE(events->errors[0].first.find("within 1 s"), std::string::npos) << events->all_errors();
  }

  // A ca_file that looks like a PEM bundle but that the host's OpenSSL cannot load is refused at start-up, naming the
  // key and its line (the host loads it through C ABI 1.3's ws_client_prepare_tls), not at the first call's connect;
  // a good one loads (at once, on the loop) and the plugin starts. `url` is a wss:// URL nothing needs to answer.
  void expect_a_ca_file_that_does_not_load_to_be_a_config_error(const std::string& url) {
    const std::string bad =
        fakes::write_temp_file(plugin_ + "-bad-ca.pem",
                               "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n");
    try {
      load("api_key: k\nurl: \"" + url + "\"\nca_file: \"" + bad + "\"\n");
      ADD_FAILURE() << "a CA file that does not load was accepted";
    } catch (const host::PluginLoadError& e) {
      const std::string what = e.what();
      const std::string expected = "/etc/concierge.yaml: plugins.voice_model.config.ca_file (line 3): could not load ";
      EXPECT_EQ(what.rfind(expected + bad, 0), 0u) << what;
    }
    std::remove(bad.c_str());
    const auto pki = fakes::make_test_pki({"localhost"}, {"127.0.0.1"});
    const std::string good = fakes::write_temp_file(plugin_ + "-good-ca.pem", pki.ca_pem);
    const host::LoadedPlugin plugin = load("api_key: k\nurl: \"" + url + "\"\nca_file: \"" + good + "\"\n");
    EXPECT_NE(plugin.instance.voice_model, nullptr);
    std::remove(good.c_str());
  }

  const host::PluginLoader loader{std::filesystem::path(CONCIERGE_PLUGIN_DIR)};

 private:
  std::string plugin_;
};

// expect_no_allocation_per_echo_round_trip through `plugin`'s built module, loaded by the daemon's loader with its
// `url` (an echoing fake's) and `ca_file` ("" for ws://): host adapter -> C table -> the plugin's session -> the C++
// layer's client -> ws_client_send -> the host's client, and back through the listener table and voice_audio.
inline void expect_no_allocation_per_echo_round_trip_through_the_loaded_plugin(const std::string& plugin,
                                                                             const std::string& url,
                                                                             const std::string& ca_file,
                                                                             const AllocationCounter& counter) {
  WebSocketTestHost host;
  std::string block = "api_key: sk-test-key\nurl: \"" + url + "\"\n";
  if (!ca_file.empty()) block += "ca_file: \"" + ca_file + "\"\n";
  const host::PluginLoader loader{std::filesystem::path(CONCIERGE_PLUGIN_DIR)};
  const host::LoadedPlugin loaded =
      loader.load(plugin, PluginKind::voice_model, PluginContext{host, std::make_shared<RecordingLogger>(), "/tmp"},
                  YAML::Load(block), "plugins.voice_model.config", "/etc/concierge.yaml");
  ASSERT_TRUE(loaded.c_abi);
  ASSERT_NE(loaded.instance.voice_model, nullptr);
  expect_no_allocation_per_echo_round_trip(host, *loaded.instance.voice_model, counter,
                                           plugin + (ca_file.empty() ? "-ws" : "-wss"));
}

}  // namespace concierge::testing
