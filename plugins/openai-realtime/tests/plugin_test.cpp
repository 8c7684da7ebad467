// The built plugin as the daemon loads it: its descriptor, and its factory's config errors across the boundary.
#include <dlfcn.h>

#include <gtest/gtest.h>

#include "concierge/config.hpp"
#include "concierge/plugin.hpp"
#include "harness.hpp"

namespace concierge::openai {
namespace {

class LoadedPlugin {
 public:
  LoadedPlugin() : handle_(dlopen(CONCIERGE_PLUGIN_DIR "/openai-realtime.so", RTLD_NOW | RTLD_LOCAL)) {}
  ~LoadedPlugin() {
    if (handle_) dlclose(handle_);
  }
  void* handle() const { return handle_; }
  template <class F>
  F* get(const char* name) const {
    return reinterpret_cast<F*>(dlsym(handle_, name));
  }

 private:
  void* handle_;
};

TEST(Plugin, DescribesItself) {
  LoadedPlugin plugin;
  ASSERT_NE(plugin.handle(), nullptr) << dlerror();
  auto* describe = plugin.get<PluginDescriptorFunction>("concierge_plugin_descriptor");
  ASSERT_NE(describe, nullptr);
  const PluginDescriptor* d = describe();
  EXPECT_EQ(d->magic, kPluginMagic);
  EXPECT_EQ(d->sdk_major, kSdkVersionMajor);
  EXPECT_EQ(d->kind, PluginKind::voice_model);
  EXPECT_STREQ(d->name, "openai-realtime");
  // Hidden visibility: the core library's symbols stay inside.
  EXPECT_EQ(dlsym(plugin.handle(), "_ZN9concierge6openai20parse_realtime_configERKNS_10ConfigNodeERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE"), nullptr);
}

TEST(Plugin, CreatesTheModelOrExplainsTheConfig) {
  LoadedPlugin plugin;
  ASSERT_NE(plugin.handle(), nullptr) << dlerror();
  auto* create = plugin.get<PluginCreateFunction>("concierge_plugin_create");
  ASSERT_NE(create, nullptr);
  testing::TestHost host;
  // The host says where the block sits; the plugin names its keys under it (concierge::plugin_config).
  PluginContext context{host, std::make_shared<testing::TestLogger>(), "/tmp", "plugins.voice_model.config"};
  try {
    create(context, YAML::Load("model: gpt-realtime\n"));
    ADD_FAILURE() << "a block without api_key was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "plugins.voice_model.config.api_key");
    EXPECT_NE(e.message().find("OPENAI_API_KEY not configured"), std::string::npos) << e.what();
  }
  {
    PluginInstance made = create(context, YAML::Load("api_key: sk-x\nvoice: cedar\n"));
    EXPECT_NE(made.voice_model, nullptr);
    EXPECT_EQ(made.telephony, nullptr);
  }  // released while the library is loaded
}

}  // namespace
}  // namespace concierge::openai
