// Both plugins as the daemon loads them: the MODULE files export the descriptor and the factory, and the factory
// builds a working provider from a YAML block (and refuses a bad one with ConfigError).
#include <gtest/gtest.h>

#include <dlfcn.h>

#include "concierge/config.hpp"
#include "concierge/plugin.hpp"
#include "conversation_harness.hpp"

namespace concierge {
namespace {

struct Loaded {
  void* handle = nullptr;
  PluginDescriptorFunction* descriptor = nullptr;
  PluginCreateFunction* create = nullptr;
};

Loaded load(const std::string& name) {
  Loaded l;
  const std::string path = std::string(CONCIERGE_PLUGIN_DIR) + "/" + name + ".so";
  l.handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  EXPECT_NE(l.handle, nullptr) << dlerror();
  if (!l.handle) return l;
  l.descriptor = reinterpret_cast<PluginDescriptorFunction*>(dlsym(l.handle, "concierge_plugin_descriptor"));
  l.create = reinterpret_cast<PluginCreateFunction*>(dlsym(l.handle, "concierge_plugin_create"));
  return l;
}

TEST(PluginExports, SimulatedTelephonyAndScriptedVoiceLoadAndCreate) {
  testing::TestHost host;
  auto logger = std::make_shared<testing::TestLogger>();
  PluginContext context{host, logger, "."};
  struct Case {
    std::string name;
    PluginKind kind;
  };
  for (const Case& c : {Case{"simulated-telephony", PluginKind::telephony}, Case{"scripted-voice", PluginKind::voice_model}}) {
    const Loaded l = load(c.name);
    ASSERT_TRUE(l.descriptor && l.create) << c.name;
    const PluginDescriptor* d = l.descriptor();
    EXPECT_EQ(d->magic, kPluginMagic);
    EXPECT_EQ(d->sdk_major, static_cast<std::uint32_t>(CONCIERGE_SDK_VERSION_MAJOR));
    EXPECT_EQ(d->kind, c.kind);
    EXPECT_EQ(std::string(d->name), c.name);
    {
      PluginInstance instance = l.create(context, YAML::Load("speed_up: 10"));
      EXPECT_EQ(instance.telephony != nullptr, c.kind == PluginKind::telephony);
      EXPECT_EQ(instance.voice_model != nullptr, c.kind == PluginKind::voice_model);
    }
    EXPECT_THROW(l.create(context, YAML::Load("no_such_key: 1")), ConfigError) << c.name;
    // Not unloaded: gtest may still hold type information from the library; the process ends soon anyway.
  }
}

}  // namespace
}  // namespace concierge
