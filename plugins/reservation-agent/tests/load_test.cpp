// Loads the built module through the daemon's loader, as the daemon does: through the C boundary (concierge/abi.h),
// where the module exports concierge_plugin_entry and nothing else of ours, and the host's adapter makes an Agent of
// its tables. Checks the descriptor, create(), a plan, and that config errors name the key path and the line.
#include <gtest/gtest.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "concierge/net/asio.hpp"
#include "plugin_loader.hpp"

namespace {

class Host : public concierge::HostServices {
 public:
  boost::asio::io_context& io() override { return io_; }
  void run_blocking(std::function<void()> work) override { work(); }
  std::string public_domain() const override { return ""; }
  std::shared_ptr<concierge::CallEvents> accept_inbound_call(const concierge::InboundCall&) override { return nullptr; }

 private:
  boost::asio::io_context io_;
};

// A C++ symbol from the standard library's headers (a template's static, typeinfo of a std type): mangled, and
// naming nothing of ours or of the libraries a plugin must not expose (Boost, yaml-cpp, nlohmann).
bool is_standard_library(const std::string& name) {
  if (name.rfind("_Z", 0) != 0) return false;
  for (const char* ours : {"concierge", "boost", "YAML", "nlohmann"})
    if (name.find(ours) != std::string::npos) return false;
  return true;
}

// Defined dynamic symbols that are not the standard library's: what the module exports of its own.
std::vector<std::string> own_exports(const std::string& module) {
  std::vector<std::string> names;
  FILE* out = popen((std::string(CONCIERGE_NM) + " -D --defined-only '" + module + "'").c_str(), "r");
  if (!out) return names;
  char line[4096];
  while (fgets(line, sizeof line, out)) {
    std::string text(line);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    const auto first = text.find(' '), second = text.find(' ', first + 1);
    if (second == std::string::npos) continue;
    const std::string name = text.substr(second + 1);
    if (!is_standard_library(name)) names.push_back(name);
  }
  pclose(out);
  return names;
}

TEST(ReservationAgentModule, LoadsThroughTheCBoundaryPlansAndNamesConfigErrors) {
  EXPECT_EQ(own_exports(CONCIERGE_PLUGIN_DIR "/reservation-agent.so"),
            std::vector<std::string>{"concierge_plugin_entry"});
  Host host;
  const concierge::host::PluginLoader loader(CONCIERGE_PLUGIN_DIR);
  const concierge::PluginContext context{host, nullptr, {}};
  {
    const auto plugin = loader.load("reservation-agent", concierge::PluginKind::agent, context,
                                    YAML::Node(YAML::NodeType::Map), "plugins.agent.config", "/etc/concierge.yaml");
    EXPECT_TRUE(plugin.c_abi);
    EXPECT_EQ(plugin.version, "1.1.0");
    ASSERT_TRUE(plugin.instance.agent);
    const concierge::TaskPlan plan = plugin.instance.agent->plan(
        {"Book a table at Demo Restaurant for 2 people a week from today at 7pm under the name Sam Lee", {}});
    EXPECT_TRUE(plan.ready) << plan.question;
    EXPECT_EQ(plan.phone_number, "+1234567890");
    EXPECT_FALSE(plan.details.empty());
    auto session = plugin.instance.agent->open_session(plan);
    ASSERT_TRUE(session);
    EXPECT_FALSE(session->instructions().empty());
    EXPECT_FALSE(session->tools().empty());
  }
  auto error_of = [&](const char* yaml) {
    try {
      loader.load("reservation-agent", concierge::PluginKind::agent, context, YAML::Load(yaml), "plugins.agent.config",
                  "/etc/concierge.yaml");
    } catch (const concierge::host::PluginLoadError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of("bogus: 1").rfind("/etc/concierge.yaml: plugins.agent.config.bogus (line 1): unknown key", 0), 0u)
      << error_of("bogus: 1");
  // Nested entries too: the plugin names the key path, the host finds the line from the positions it gave.
  const std::string nested = error_of("restaurants:\n  - name: Demo\n    phone: twelve\n");
  EXPECT_EQ(nested.rfind("/etc/concierge.yaml: plugins.agent.config.restaurants[0].phone (line 3): ", 0), 0u) << nested;
}

}  // namespace
