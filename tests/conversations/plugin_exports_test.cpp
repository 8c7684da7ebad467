// The plugins as the daemon loads them: on the C boundary, each exports concierge_plugin_entry and nothing else of
// ours, and the daemon's loader makes a working provider or voice model of it (and refuses a bad block, naming the
// key and the line).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "concierge/abi.h"
#include "concierge/config.hpp"
#include "concierge/plugin.hpp"
#include "conversation_harness.hpp"
#include "module_exports.hpp"
#include "plugin_loader.hpp"

namespace concierge {
namespace {

const std::string kPluginDir = CONCIERGE_PLUGIN_DIR;

// simulated-telephony through the C boundary (C ABI 1.1's telephony table, by way of the SDK's C++ layer; its exports
// are checked with every plugin's below): a working provider through the daemon's loader that places a call and
// reports it through the host's concierge_call_events, and a bad block refused naming the key and the line.
TEST(PluginExports, SimulatedTelephonyLoadsThroughTheCBoundary) {
  testing::TestHost host;
  auto logger = std::make_shared<testing::TestLogger>();
  const host::PluginLoader loader(kPluginDir);
  {
    const host::LoadedPlugin plugin =
        loader.load("simulated-telephony", PluginKind::telephony, PluginContext{host, logger, "."},
                    YAML::Load("speed_up: 50\nscenarios: {\"+15550000001\": busy}"), "plugins.telephony.config",
                    "/etc/concierge.yaml");
    EXPECT_TRUE(plugin.c_abi);
    EXPECT_EQ(plugin.version, "1.1.0");
    ASSERT_NE(plugin.instance.telephony, nullptr);
    struct Events final : CallEvents {
      std::string provider_id;
      std::vector<CallStatus> statuses;
      void on_provider_call_id(std::string_view id) override { provider_id = id; }
      void on_status(const CallStatusUpdate& update) override { statuses.push_back(update.status); }
      void on_media_started(AudioFormat) override {}
      void on_audio(const AudioFrame&) override {}
      void on_playback_progress(std::chrono::microseconds) override {}
      void on_dtmf(char) override {}
      void on_media_stopped(std::string_view) override {}
      void on_simulated_callee_text(std::string_view) override {}
    };
    auto events = std::make_shared<Events>();
    auto leg = plugin.instance.telephony->place_call({"call_1", "+15550000001", "Busy Bistro", std::chrono::seconds(30)},
                                                     events);
    ASSERT_TRUE(leg);
    host.run_until([&] { return !events->statuses.empty() && is_terminal(events->statuses.back()); },
                   std::chrono::seconds(5));
    EXPECT_EQ(events->provider_id.rfind("SIM-", 0), 0u) << events->provider_id;
    ASSERT_FALSE(events->statuses.empty());
    EXPECT_EQ(events->statuses.front(), CallStatus::dialing);
    EXPECT_EQ(events->statuses.back(), CallStatus::busy);
  }
  try {
    loader.load("simulated-telephony", PluginKind::telephony, PluginContext{host, logger, "."},
                YAML::Load("speed_up: 10\nno_such_key: 1"), "plugins.telephony.config", "/etc/concierge.yaml");
    FAIL() << "no error";
  } catch (const host::PluginLoadError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("/etc/concierge.yaml: plugins.telephony.config.no_such_key (line 2): unknown key", 0), 0u)
        << what;
  }
}

// twilio through the C boundary (the SDK's C++ layer, hang-ups as C ABI 1.2 teardowns; its exports are checked with
// every plugin's below): a provider through the daemon's loader with its routes, and a bad block refused
// naming the key and the line. (Its calls, webhooks and media streams through the loaded plugin: tests/fakes/twilio's
// daemon tests, tests/e2e and the media-path allocation test.)
TEST(PluginExports, TwilioLoadsThroughTheCBoundary) {
  testing::TestHost host;
  auto logger = std::make_shared<testing::TestLogger>();
  const host::PluginLoader loader(kPluginDir);
  const std::string block =
      "account_sid: AC0000000000000000000000000000000a\nauth_token: secret\nfrom_number: \"+15005550006\"\n"
      "public_domain: abc.example\n";
  {
    const host::LoadedPlugin plugin = loader.load("twilio", PluginKind::telephony, PluginContext{host, logger, "."},
                                                  YAML::Load(block), "plugins.telephony.config", "/etc/concierge.yaml");
    EXPECT_TRUE(plugin.c_abi);
    EXPECT_EQ(plugin.c_abi_minor, static_cast<std::uint32_t>(CONCIERGE_ABI_MINOR));
    EXPECT_EQ(plugin.version, "1.1.0");
    ASSERT_NE(plugin.instance.telephony, nullptr);
    EXPECT_EQ(plugin.instance.telephony->http_routes(),
              (std::vector<std::string>{"/twiml", "/twilio/status", "/twilio/amd"}));
    EXPECT_NE(plugin.instance.telephony->check_destination("+4420 7946 0000"), "");  // abroad: refused by default
    EXPECT_EQ(plugin.instance.telephony->check_destination("+12125550100"), "");
  }
  try {
    loader.load("twilio", PluginKind::telephony, PluginContext{host, logger, "."},
                YAML::Load(block + "machine_detection: sometimes"), "plugins.telephony.config", "/etc/concierge.yaml");
    FAIL() << "no error";
  } catch (const host::PluginLoadError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("/etc/concierge.yaml: plugins.telephony.config.machine_detection (line 5): expected off, "
                         "Enable or DetectMessageEnd",
                         0),
              0u)
        << what;
  }
}

TEST(PluginExports, ScriptedVoiceLoadsThroughTheCBoundary) {
  testing::TestHost host;
  auto logger = std::make_shared<testing::TestLogger>();
  const host::PluginLoader loader(kPluginDir);
  const host::LoadedPlugin plugin =
      loader.load("scripted-voice", PluginKind::voice_model, PluginContext{host, logger, "."},
                  YAML::Load("speed_up: 10"), "plugins.voice_model.config", "/etc/concierge.yaml");
  EXPECT_TRUE(plugin.c_abi);
  ASSERT_NE(plugin.instance.voice_model, nullptr);
  try {
    loader.load("scripted-voice", PluginKind::voice_model, PluginContext{host, logger, "."},
                YAML::Load("speed_up: 10\nno_such_key: 1"), "plugins.voice_model.config", "/etc/concierge.yaml");
    FAIL() << "no error";
  } catch (const host::PluginLoadError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("/etc/concierge.yaml: plugins.voice_model.config.no_such_key (line 2): unknown key", 0), 0u)
        << what;
  }
}

// Every plugin this build makes (concierge_add_plugin's list: the daemon's own folder), as the daemon loads it: each
// exports concierge_plugin_entry and nothing else of ours (dlsym finds it and not the C++ boundary's exports; nm -D),
// none has any Boost code inside (nm -C of the whole symbol table, hidden symbols included) and none calls the SDK's
// libconcierge_net or OpenSSL's TLS: their event loop, timers, HTTP and WebSocket clients are the host's
// (module_exports.hpp's c_boundary_problems).
TEST(PluginExports, EveryPluginOfTheBuildIsOnTheCBoundaryWithNoBoostInside) {
  std::vector<std::string> names;
  std::string list = CONCIERGE_ALL_PLUGINS;
  for (std::size_t at = 0; at <= list.size();) {
    const std::size_t comma = std::min(list.find(',', at), list.size());
    if (comma > at) names.push_back(list.substr(at, comma - at));
    at = comma + 1;
  }
  ASSERT_GE(names.size(), 7u) << list;  // simulated-telephony, twilio, scripted-voice, echo-voice, reservation-agent,
                                       // openai-realtime, openai-live
  for (const auto& name : names) {
    const std::string module = kPluginDir + "/" + name + ".so";
    EXPECT_EQ(concierge::testing::c_boundary_problems(CONCIERGE_NM, module), std::vector<std::string>{}) << module;
  }
  // The check can fail: the SDK's own network library is everything a plugin must not be.
  const std::string not_a_plugin = CONCIERGE_BINARY_DIR "/lib/libconcierge_net.so";
  EXPECT_GT(concierge::testing::c_boundary_problems(CONCIERGE_NM, not_a_plugin).size(), 3u);
}

}  // namespace
}  // namespace concierge
