// The plugin loader against fixture plugins (host/tests/fixtures), each built to be refused for one reason.
#include <dlfcn.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <regex>

#include <gtest/gtest.h>

#include "concierge/net/asio.hpp"
#include "host_config.hpp"
#include "logging.hpp"
#include "plugin_loader.hpp"

using concierge::PluginKind;
using concierge::host::LoadedPlugin;
using concierge::host::PluginLoader;
using concierge::host::PluginLoadError;

namespace {

const std::filesystem::path kDir = CONCIERGE_TEST_PLUGIN_DIR;

class TestHost final : public concierge::HostServices {
 public:
  boost::asio::io_context& io() override { return io_; }
  void run_blocking(std::function<void()> work) override { work(); }
  std::string public_domain() const override { return ""; }
  std::shared_ptr<concierge::CallEvents> accept_inbound_call(const concierge::InboundCall&) override {
    return nullptr;
  }

 private:
  boost::asio::io_context io_;
};

class PluginLoaderTest : public ::testing::Test {
 protected:
  concierge::PluginContext context() {
    return concierge::PluginContext{host_, concierge::host::make_logger("fixture", concierge::LogLevel::error),
                                    kDir};
  }
  // The block a config file would give: parsed from YAML so its nodes carry line numbers.
  static YAML::Node block(const std::string& yaml) { return YAML::Load(yaml); }

  std::string error_of(const std::string& name, PluginKind kind, const YAML::Node& config,
                       const std::string& key_path = "plugins.telephony.config",
                       const std::filesystem::path& config_file = "/etc/concierge.yaml") {
    try {
      loader_.load(name, kind, context(), config, key_path, config_file);
    } catch (const PluginLoadError& e) {
      return e.what();
    }
    return "no error";
  }

  TestHost host_;
  PluginLoader loader_{kDir};
  YAML::Node good_config_ = block("greeting: hello");
};

std::string file(const std::string& name) { return (kDir / (name + ".so")).string(); }

bool library_is_loaded(const std::string& name) {
  void* handle = dlopen(file(name).c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (!handle) return false;
  dlclose(handle);
  return true;
}

TEST_F(PluginLoaderTest, LoadsAGoodPluginAndPassesItsConfig) {
  const LoadedPlugin plugin = loader_.load("fixture-good", PluginKind::telephony, context(), good_config_);
  EXPECT_EQ(plugin.name, "fixture-good");
  EXPECT_EQ(plugin.version, "1.2.3");
  EXPECT_EQ(plugin.description, "loader test fixture");
  EXPECT_EQ(plugin.kind, PluginKind::telephony);
  EXPECT_EQ(plugin.sdk_major, concierge::kSdkVersionMajor);
  EXPECT_EQ(plugin.sdk_minor, concierge::kSdkVersionMinor);
  EXPECT_EQ(plugin.abi, CONCIERGE_ABI_TAG);
  EXPECT_TRUE(plugin.has_sdk_minor(1));
  EXPECT_EQ(plugin.file, kDir / "fixture-good.so");
  ASSERT_TRUE(plugin.instance.telephony);
  EXPECT_FALSE(plugin.instance.voice_model);
  EXPECT_FALSE(plugin.instance.agent);
  EXPECT_EQ(plugin.instance.telephony->http_routes(), std::vector<std::string>{"/fixture/hello"});
  EXPECT_TRUE(plugin.instance.telephony->place_call({}, nullptr));
}

TEST_F(PluginLoaderTest, TheInstanceKeepsTheLibraryLoaded) {
  std::shared_ptr<concierge::TelephonyProvider> provider;
  {
    LoadedPlugin plugin = loader_.load("fixture-good", PluginKind::telephony, context(), good_config_);
    provider = plugin.instance.telephony;
  }
  // Only the provider is left: the library must still be mapped, or the next virtual call would jump into nothing.
  EXPECT_TRUE(library_is_loaded("fixture-good"));
  EXPECT_EQ(provider->http_routes(), std::vector<std::string>{"/fixture/hello"});
  provider.reset();
  EXPECT_FALSE(library_is_loaded("fixture-good"));
}

TEST_F(PluginLoaderTest, BindTiesLaterObjectsToTheLibrary) {
  std::shared_ptr<concierge::CallLeg> leg;
  {
    LoadedPlugin plugin = loader_.load("fixture-good", PluginKind::telephony, context(), good_config_);
    leg = plugin.bind(plugin.instance.telephony->place_call({}, nullptr));
  }
  EXPECT_TRUE(library_is_loaded("fixture-good"));
  leg->hang_up();
  leg.reset();
  EXPECT_FALSE(library_is_loaded("fixture-good"));
}

// fixture-timer owns an armed steady_timer and is built to really unload. The io_context's timer service was made by
// the plugin's code, so the event loop must be destroyed while the library is still mapped, and only then the library:
// the order concierge-host's main() keeps.
TEST(PluginUnloading, ATimerOwningPluginUnloadsOnceTheEventLoopIsGone) {
  using namespace std::chrono_literals;
  std::shared_ptr<const void> library;
  {
    TestHost host;
    const PluginLoader loader(kDir);
    {
      const LoadedPlugin plugin = loader.load(
          "fixture-timer", PluginKind::telephony,
          concierge::PluginContext{host, concierge::host::make_logger("fixture", concierge::LogLevel::error), kDir},
          YAML::Load("greeting: hi"));
      library = plugin.library;
      host.io().run_for(50ms);  // the timer fires and re-arms at least once
    }
    EXPECT_TRUE(library_is_loaded("fixture-timer"));
  }  // the event loop goes first, with the plugin's timer service and the cancelled wait's handler
  EXPECT_TRUE(library_is_loaded("fixture-timer"));
  library.reset();
  EXPECT_FALSE(library_is_loaded("fixture-timer"));
  std::ifstream maps("/proc/self/maps");
  const std::string mapped((std::istreambuf_iterator<char>(maps)), std::istreambuf_iterator<char>());
  EXPECT_EQ(mapped.find(file("fixture-timer")), std::string::npos);
}

// The order the daemon had before: the library unloaded while the event loop still holds its timer service. This is
// the crash the test above guards against; it shows the fixture really unloads.
TEST(PluginUnloadingDeathTest, UnloadingBeforeTheEventLoopCrashes) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        auto host = std::make_unique<TestHost>();
        {
          const PluginLoader loader(kDir);
          const LoadedPlugin plugin = loader.load(
              "fixture-timer", PluginKind::telephony,
              concierge::PluginContext{*host, concierge::host::make_logger("fixture", concierge::LogLevel::error),
                                       kDir},
              YAML::Load("greeting: hi"));
        }
        if (library_is_loaded("fixture-timer")) std::_Exit(3);  // still mapped: the fixture would prove nothing
        host.reset();  // the event loop calls into the unmapped library
        std::_Exit(0);
      },
      [](int status) { return WIFSIGNALED(status); }, "");
}

TEST_F(PluginLoaderTest, InspectReadsOnlyTheDescriptor) {
  const LoadedPlugin plugin = loader_.inspect("fixture-good");
  EXPECT_EQ(plugin.version, "1.2.3");
  EXPECT_FALSE(plugin.instance.telephony);
  EXPECT_TRUE(plugin.library);
}

TEST_F(PluginLoaderTest, AvailableListsTheFolder) {
  const auto names = loader_.available();
  for (const char* name : {"fixture-bad-magic", "fixture-good", "fixture-plain", "fixture-sdk2", "fixture-text"})
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_TRUE(PluginLoader("/nonexistent/folder").available().empty());
}

TEST_F(PluginLoaderTest, MissingFileListsWhatIsThere) {
  const std::string error = error_of("twillio", PluginKind::telephony, good_config_);
  EXPECT_EQ(error.rfind(file("twillio") + ": no such plugin; " + kDir.string() + " has: ", 0), 0u) << error;
  EXPECT_NE(error.find("fixture-good"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

TEST_F(PluginLoaderTest, MissingFolder) {
  PluginLoader loader("/nonexistent/plugins");
  try {
    loader.load("twilio", PluginKind::telephony, context(), good_config_);
    FAIL() << "no error";
  } catch (const PluginLoadError& e) {
    EXPECT_EQ(std::string(e.what()),
              "/nonexistent/plugins/twilio.so: no such plugin; the plugin folder /nonexistent/plugins does not exist "
              "(set plugin_dir in the config)");
  }
}

TEST_F(PluginLoaderTest, TextFileNamedSo) {
  EXPECT_EQ(error_of("fixture-text", PluginKind::telephony, good_config_),
            file("fixture-text") + ": is not a shared library (not an ELF file)");
}

TEST_F(PluginLoaderTest, UnresolvedSymbolIsRefusedAtLoadWithTheLoadersReason) {
  EXPECT_EQ(error_of("fixture-unresolved", PluginKind::telephony, good_config_),
            file("fixture-unresolved") + ": cannot be loaded: undefined symbol: concierge_fixture_function_nobody_defines");
}

TEST_F(PluginLoaderTest, SharedLibraryWithoutDescriptor) {
  EXPECT_EQ(error_of("fixture-plain", PluginKind::telephony, good_config_),
            file("fixture-plain") + ": is not a concierge plugin (it exports neither concierge_plugin_entry nor "
                                     "concierge_plugin_descriptor)");
}

TEST_F(PluginLoaderTest, WrongMagic) {
  EXPECT_EQ(error_of("fixture-bad-magic", PluginKind::telephony, good_config_),
            file("fixture-bad-magic") + ": is not a concierge plugin (descriptor magic 0x12345678, expected "
                                        "0x474e4343)");
}

static std::string ours() {
  return std::to_string(concierge::kSdkVersionMajor) + "." + std::to_string(concierge::kSdkVersionMinor);
}

TEST_F(PluginLoaderTest, OtherSdkMajor) {
  EXPECT_EQ(error_of("fixture-sdk2", PluginKind::telephony, good_config_),
            file("fixture-sdk2") + ": built for SDK 2.0, this host has SDK " + ours() + "; rebuild the plugin");
}

TEST_F(PluginLoaderTest, NewerSdkMinor) {
  EXPECT_EQ(error_of("fixture-newer-minor", PluginKind::telephony, good_config_),
            file("fixture-newer-minor") +
                ": built for SDK 1.99, this host has SDK " + ours() + "; upgrade the host or rebuild the plugin against SDK " +
                ours());
}

TEST_F(PluginLoaderTest, WrongKind) {
  EXPECT_EQ(error_of("fixture-good", PluginKind::voice_model, good_config_),
            file("fixture-good") + ": is a telephony plugin, configured as voice_model");
}

TEST_F(PluginLoaderTest, NameThatDoesNotMatchTheFile) {
  EXPECT_EQ(error_of("fixture-misnamed", PluginKind::telephony, good_config_),
            file("fixture-misnamed") +
                ": declares the plugin name \"somebody-else\"; a plugin's file must be <its name>.so");
}

TEST_F(PluginLoaderTest, CreateThrowsConfigErrorForAMissingValue) {
  // The host's key path and the config file are put in front of the plugin's own key.
  const YAML::Node config = block("retries: 2");
  EXPECT_EQ(error_of("fixture-good", PluginKind::telephony, config),
            "/etc/concierge.yaml: plugins.telephony.config.greeting (line 1): required value is missing");
}

TEST_F(PluginLoaderTest, CreateThrowsConfigErrorWithTheLineOfTheBadValue) {
  const YAML::Node config = block("greeting: hi\n\nretries: 9\n");
  EXPECT_EQ(error_of("fixture-good", PluginKind::telephony, config),
            "/etc/concierge.yaml: plugins.telephony.config.retries (line 3): must be between 0 and 5, found 9");
  const YAML::Node unknown = block("greeting: hi\ncolour: red\n");
  EXPECT_EQ(error_of("fixture-good", PluginKind::telephony, unknown),
            "/etc/concierge.yaml: plugins.telephony.config.colour (line 2): unknown key (known keys here: greeting, "
            "retries)");
}

TEST_F(PluginLoaderTest, CreateThrowsSomethingElse) {
  EXPECT_EQ(error_of("fixture-throws", PluginKind::telephony, good_config_),
            file("fixture-throws") + ": create() failed: the fixture refuses to start");
}

TEST_F(PluginLoaderTest, CreateReturnsNothing) {
  EXPECT_EQ(error_of("fixture-empty", PluginKind::telephony, good_config_),
            file("fixture-empty") + ": create() returned no telephony object");
}

TEST_F(PluginLoaderTest, RefusedPluginsAreUnloaded) {
  error_of("fixture-sdk2", PluginKind::telephony, good_config_);
  error_of("fixture-throws", PluginKind::telephony, good_config_);
  EXPECT_FALSE(library_is_loaded("fixture-sdk2"));
  EXPECT_FALSE(library_is_loaded("fixture-throws"));
}

TEST_F(PluginLoaderTest, LoadConfiguredPluginsUsesTheConfigsFileAndKeyPaths) {
  concierge::host::Environment env;
  const auto config = concierge::host::parse_host_config(
      "plugin_dir: " + kDir.string() +
          "\n"
          "plugins:\n"
          "  telephony:\n"
          "    plugin: fixture-good\n"
          "    config:\n"
          "      greeting: 42\n"
          "      retries: many\n"
          "  voice_model: {plugin: fixture-good}\n"
          "  agent: {plugin: fixture-good}\n",
      "/srv/concierge.yaml", env);
  try {
    concierge::host::load_configured_plugins(config, [&](const std::string&) { return context(); });
    FAIL() << "no error";
  } catch (const PluginLoadError& e) {
    EXPECT_EQ(std::string(e.what()),
              "/srv/concierge.yaml: plugins.telephony.config.retries (line 7): expected a whole number, found "
              "\"many\"");
  }
}

// An SDK 1.0 plugin's descriptor ends before `size`; the host reads none of what follows it (the fixture puts a size
// and an ABI tag there that would be refused) and the plugin works.
TEST_F(PluginLoaderTest, AnOlderMinorLoadsAndIsNeverReadPastItsDescriptor) {
  const LoadedPlugin plugin = loader_.load("fixture-old-minor", PluginKind::telephony, context(), good_config_);
  EXPECT_EQ(plugin.sdk_major, 1u);
  EXPECT_EQ(plugin.sdk_minor, 0u);
  EXPECT_EQ(plugin.version, "0.9.0");
  EXPECT_EQ(plugin.abi, "");
  EXPECT_FALSE(plugin.has_sdk_minor(1));
  ASSERT_TRUE(plugin.instance.telephony);
  EXPECT_EQ(plugin.instance.telephony->http_routes(), std::vector<std::string>{"/fixture/hello"});
}

TEST_F(PluginLoaderTest, AnotherToolchainsAbiIsRefusedNamingBoth) {
  EXPECT_EQ(error_of("fixture-other-abi", PluginKind::telephony, good_config_),
            file("fixture-other-abi") +
                ": built with gcc-4 libstdc++-cxx11-abi-0 boost-1_70 yaml-cpp-0.6.0 nlohmann_json-3.0.0, this host "
                "with " CONCIERGE_ABI_TAG "; rebuild the plugin with the host's compiler and libraries");
}

TEST_F(PluginLoaderTest, ADescriptorShorterThanItsMinorIsRefused) {
  EXPECT_EQ(error_of("fixture-short-descriptor", PluginKind::telephony, good_config_),
            file("fixture-short-descriptor") + ": its descriptor is 40 bytes, SDK 1.1 defines " +
                std::to_string(sizeof(concierge::PluginDescriptor)) + "; rebuild the plugin");
}

TEST(AbiTag, NamesTheCompilerTheStandardLibraryAndTheLibraries) {
  const std::string tag = CONCIERGE_ABI_TAG;
  EXPECT_TRUE(std::regex_match(tag, std::regex(R"((gcc|clang)-\d+ libstdc\+\+-cxx11-abi-[01] boost-1_74 )"
                                               R"(yaml-cpp-\d+\.\d+\.\d+ nlohmann_json-3\.\d+\.\d+)")))
      << tag;
}

// The host promises plugins a logger; a host (or test) that passes none gets one that discards.
TEST_F(PluginLoaderTest, APluginAlwaysGetsALogger) {
  concierge::PluginContext without_log{host_, nullptr, kDir};
  const LoadedPlugin plugin = loader_.load("fixture-good", PluginKind::telephony, without_log, good_config_);
  EXPECT_TRUE(plugin.instance.telephony);
}

// Several folders: the first that has <name>.so wins; a miss names every folder and what they hold.
TEST_F(PluginLoaderTest, SeveralFoldersAreSearchedInOrder) {
  namespace fs = std::filesystem;
  const fs::path first = fs::temp_directory_path() / ("concierge-first-" + std::to_string(getpid()));
  fs::create_directories(first);
  fs::copy_file(kDir / "fixture-good.so", first / "fixture-good.so", fs::copy_options::overwrite_existing);
  const PluginLoader loader({first, "/nonexistent/plugins", kDir});
  EXPECT_EQ(loader.find("fixture-good"), first / "fixture-good.so");
  EXPECT_EQ(loader.find("fixture-sdk2"), kDir / "fixture-sdk2.so");
  const LoadedPlugin plugin = loader.load("fixture-good", PluginKind::telephony, context(), good_config_);
  EXPECT_EQ(plugin.file, first / "fixture-good.so");
  try {
    loader.find("twillio");
    FAIL() << "no error";
  } catch (const PluginLoadError& e) {
    const std::string error = e.what();
    EXPECT_EQ(error.rfind("twillio.so: no such plugin in " + first.string() + ", /nonexistent/plugins, " +
                              kDir.string() + "; they have: ",
                          0),
              0u)
        << error;
    EXPECT_NE(error.find("fixture-good, fixture-misnamed"), std::string::npos) << error;  // each name once
  }
  try {
    PluginLoader(std::vector<std::filesystem::path>{"/nonexistent/a", "/nonexistent/b"}).find("twilio");
    FAIL() << "no error";
  } catch (const PluginLoadError& e) {
    EXPECT_EQ(std::string(e.what()),
              "twilio.so: no such plugin; none of the plugin folders /nonexistent/a, /nonexistent/b exists (set "
              "plugin_dir in the config)");
  }
  fs::remove_all(first);
}

// A plugin named by its file: loaded from there; its descriptor must still name it <file stem>.
TEST_F(PluginLoaderTest, LoadFileTakesAPath) {
  const PluginLoader nowhere("/nonexistent/plugins");
  const LoadedPlugin plugin =
      nowhere.load_file(kDir / "fixture-good.so", PluginKind::telephony, context(), good_config_);
  EXPECT_EQ(plugin.name, "fixture-good");
  EXPECT_TRUE(plugin.instance.telephony);
  try {
    nowhere.load_file(kDir / "fixture-misnamed.so", PluginKind::telephony, context(), good_config_);
    FAIL() << "no error";
  } catch (const PluginLoadError& e) {
    EXPECT_EQ(std::string(e.what()), file("fixture-misnamed") +
                                         ": declares the plugin name \"somebody-else\"; a plugin's file must be "
                                         "<its name>.so");
  }
  try {
    nowhere.load_file("/nonexistent/x.so", PluginKind::telephony, context(), good_config_);
    FAIL() << "no error";
  } catch (const PluginLoadError& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/x.so: no such file");
  }
}

// --list-plugins' contents: every .so, usable or not, and the reason for each refusal; a missing folder too.
TEST_F(PluginLoaderTest, ListShowsEveryFileAndWhyItIsRefused) {
  const PluginLoader loader({"/nonexistent/plugins", kDir});
  const auto listing = loader.list();
  ASSERT_FALSE(listing.empty());
  EXPECT_EQ(listing.front().error, "/nonexistent/plugins: no such folder");
  auto entry = [&](const std::string& name) -> const concierge::host::PluginListing& {
    for (const auto& e : listing)
      if (e.file == kDir / (name + ".so")) return e;
    throw std::runtime_error(name + " not listed");
  };
  ASSERT_TRUE(entry("fixture-good").plugin);
  EXPECT_EQ(entry("fixture-good").plugin->version, "1.2.3");
  EXPECT_FALSE(entry("fixture-good").plugin->library);  // a listing keeps nothing loaded
  ASSERT_TRUE(entry("fixture-old-minor").plugin);
  EXPECT_EQ(entry("fixture-old-minor").plugin->sdk_minor, 0u);
  EXPECT_EQ(entry("fixture-sdk2").error,
            file("fixture-sdk2") + ": built for SDK 2.0, this host has SDK " + ours() + "; rebuild the plugin");
  EXPECT_NE(entry("fixture-text").error.find("not an ELF file"), std::string::npos);
  EXPECT_NE(entry("fixture-unresolved").error.find("undefined symbol"), std::string::npos);
  EXPECT_NE(entry("fixture-plain").error.find("exports neither concierge_plugin_entry nor concierge_plugin_descriptor"), std::string::npos);
  EXPECT_NE(entry("fixture-other-abi").error.find("built with gcc-4"), std::string::npos);
  std::size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(kDir)) files += e.path().extension() == ".so";
  EXPECT_EQ(listing.size(), files + 1);  // nothing left out

  const std::string text = concierge::host::format_plugin_listing(listing);
  EXPECT_NE(text.find("refused      /nonexistent/plugins: no such folder\n"), std::string::npos) << text;
  const std::string sdk = std::to_string(concierge::kSdkVersionMajor) + "\\." +
                          std::to_string(concierge::kSdkVersionMinor);
  EXPECT_TRUE(std::regex_search(
      text, std::regex("\ntelephony +fixture-good +1\\.2\\.3 +SDK " + sdk + "  " + file("fixture-good") + "\n")))
      << text;
  EXPECT_NE(text.find("refused      " + file("fixture-sdk2") + ": built for SDK 2.0"), std::string::npos) << text;
}

TEST_F(PluginLoaderTest, ListMarksAShadowedFile) {
  namespace fs = std::filesystem;
  const fs::path first = fs::temp_directory_path() / ("concierge-shadow-" + std::to_string(getpid()));
  fs::create_directories(first);
  fs::copy_file(kDir / "fixture-good.so", first / "fixture-good.so", fs::copy_options::overwrite_existing);
  const auto listing = PluginLoader({first, kDir}).list();
  const auto second = std::find_if(listing.begin(), listing.end(),
                                   [](const auto& e) { return e.file == kDir / "fixture-good.so"; });
  ASSERT_NE(second, listing.end());
  EXPECT_EQ(second->shadowed_by, first / "fixture-good.so");
  EXPECT_NE(concierge::host::format_plugin_listing(listing).find(
                file("fixture-good") + " (not used: " + (first / "fixture-good.so").string() + " comes first)\n"),
            std::string::npos);
  EXPECT_TRUE(listing.front().shadowed_by.empty());
  fs::remove_all(first);
}

// What the daemon's main() runs: a plugin given by path, the others found in a list of folders, each reported
// to `loaded` as soon as it is loaded.
TEST_F(PluginLoaderTest, LoadConfiguredPluginsTakesPathsAndFolders) {
  concierge::host::Environment env;
  const auto config = concierge::host::parse_host_config(
      "plugin_dir: [/nonexistent/plugins, " + kDir.string() +
          "]\n"
          "plugins:\n"
          "  telephony: {plugin: " + (kDir / "fixture-old-minor.so").string() + ", config: {greeting: hi}}\n"
          "  voice_model: {plugin: fixture-good, config: {greeting: hi}}\n"
          "  agent: {plugin: fixture-good, config: {greeting: hi}}\n",
      "/srv/concierge.yaml", env);
  std::vector<std::string> order;
  try {
    concierge::host::load_configured_plugins(
        config, [&](const std::string&) { return context(); },
        [&](const LoadedPlugin& p) { order.push_back(p.name + "@" + p.file.string()); });
    FAIL() << "no error";
  } catch (const PluginLoadError& e) {
    // fixture-good is a telephony plugin: the voice_model slot refuses it, after telephony was loaded and reported.
    EXPECT_EQ(std::string(e.what()), file("fixture-good") + ": is a telephony plugin, configured as voice_model");
  }
  EXPECT_EQ(order, std::vector<std::string>{"fixture-old-minor@" + file("fixture-old-minor")});
}

}  // namespace
