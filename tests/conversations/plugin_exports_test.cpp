// Both plugins as the daemon loads them. simulated-telephony is still on the C++ boundary: its MODULE exports the
// descriptor and the factory, and the factory builds a working provider from a YAML block (and refuses a bad one
// with ConfigError). scripted-voice is on the C boundary: it exports concierge_plugin_entry and nothing else of ours,
// and the daemon's loader makes a working voice model of it (and refuses a bad block, naming the key and the line).
#include <gtest/gtest.h>

#include <dlfcn.h>

#include <cstdio>
#include <string>
#include <vector>

#include "concierge/config.hpp"
#include "concierge/plugin.hpp"
#include "conversation_harness.hpp"
#include "module_exports.hpp"
#include "plugin_loader.hpp"

namespace concierge {
namespace {

const std::string kPluginDir = CONCIERGE_PLUGIN_DIR;

std::vector<std::string> own_exports(const std::string& module) {
  return concierge::testing::own_exports(CONCIERGE_NM, module);
}

TEST(PluginExports, SimulatedTelephonyLoadsAndCreatesThroughTheCxxBoundary) {
  testing::TestHost host;
  auto logger = std::make_shared<testing::TestLogger>();
  PluginContext context{host, logger, "."};
  void* handle = dlopen((kPluginDir + "/simulated-telephony.so").c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(handle, nullptr) << dlerror();
  auto* describe = reinterpret_cast<PluginDescriptorFunction*>(dlsym(handle, "concierge_plugin_descriptor"));
  auto* create = reinterpret_cast<PluginCreateFunction*>(dlsym(handle, "concierge_plugin_create"));
  ASSERT_TRUE(describe && create);
  const PluginDescriptor* d = describe();
  EXPECT_EQ(d->magic, kPluginMagic);
  EXPECT_EQ(d->sdk_major, static_cast<std::uint32_t>(CONCIERGE_SDK_VERSION_MAJOR));
  EXPECT_EQ(d->kind, PluginKind::telephony);
  EXPECT_EQ(std::string(d->name), "simulated-telephony");
  {
    PluginInstance instance = create(context, YAML::Load("speed_up: 10"));
    EXPECT_NE(instance.telephony, nullptr);
    EXPECT_EQ(instance.voice_model, nullptr);
  }
  EXPECT_THROW(create(context, YAML::Load("no_such_key: 1")), ConfigError);
  // Not unloaded: gtest may still hold type information from the library; the process ends soon anyway.
}

TEST(PluginExports, ScriptedVoiceLoadsThroughTheCBoundary) {
  testing::TestHost host;
  auto logger = std::make_shared<testing::TestLogger>();
  const host::PluginLoader loader(kPluginDir);
  {
    void* handle = dlopen((kPluginDir + "/scripted-voice.so").c_str(), RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(handle, nullptr) << dlerror();
    EXPECT_NE(dlsym(handle, "concierge_plugin_entry"), nullptr);
    EXPECT_EQ(dlsym(handle, "concierge_plugin_descriptor"), nullptr);  // the C++ boundary's exports are gone
    EXPECT_EQ(dlsym(handle, "concierge_plugin_create"), nullptr);
    dlclose(handle);
  }
  EXPECT_EQ(own_exports(kPluginDir + "/scripted-voice.so"), std::vector<std::string>{"concierge_plugin_entry"});
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

}  // namespace
}  // namespace concierge
