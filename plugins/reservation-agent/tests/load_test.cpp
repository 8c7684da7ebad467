// Loads the built module through Boost.DLL, as the daemon does, and checks the descriptor and create().
#include <boost/dll/shared_library.hpp>
#include <gtest/gtest.h>
#include <stdexcept>
#include <yaml-cpp/yaml.h>

#include "concierge/config.hpp"
#include "concierge/plugin.hpp"

namespace {

class NullHost : public concierge::HostServices {
 public:
  // The reservation agent does no I/O; a use of the loop would be a bug this test should surface.
  boost::asio::io_context& io() override { throw std::logic_error("the reservation agent must not use the loop"); }
  void run_blocking(std::function<void()> work) override { work(); }
  std::string public_domain() const override { return ""; }
  std::shared_ptr<concierge::CallEvents> accept_inbound_call(const concierge::InboundCall&) override { return nullptr; }
};

TEST(ReservationAgentModule, LoadsDescribesItselfAndCreatesFromAnEmptyBlock) {
  boost::dll::shared_library library(CONCIERGE_PLUGIN_DIR "/reservation-agent.so",
                                     boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  ASSERT_TRUE(library.has("concierge_plugin_descriptor"));
  ASSERT_TRUE(library.has("concierge_plugin_create"));
  const auto* descriptor = library.get<concierge::PluginDescriptorFunction>("concierge_plugin_descriptor")();
  EXPECT_EQ(descriptor->magic, concierge::kPluginMagic);
  EXPECT_EQ(descriptor->sdk_major, static_cast<std::uint32_t>(CONCIERGE_SDK_VERSION_MAJOR));
  EXPECT_EQ(descriptor->kind, concierge::PluginKind::agent);
  EXPECT_STREQ(descriptor->name, "reservation-agent");
  EXPECT_STREQ(descriptor->version, "1.0.0");

  NullHost host;
  const concierge::PluginContext context{host, nullptr, {}};
  auto create = library.get<concierge::PluginCreateFunction>("concierge_plugin_create");
  {
    concierge::PluginInstance instance = create(context, YAML::Node(YAML::NodeType::Map));
    ASSERT_TRUE(instance.agent);
    EXPECT_FALSE(instance.telephony);
    const concierge::TaskPlan plan =
        instance.agent->plan({"Book a table at Demo Restaurant for 2 people a week from today at 7pm under the name Sam Lee", {}});
    EXPECT_TRUE(plan.ready) << plan.question;
    EXPECT_EQ(plan.phone_number, "+1234567890");
  }
  EXPECT_THROW(create(context, YAML::Load("bogus: 1")), concierge::ConfigError);

  // Errors name the key path the host gives (concierge::plugin_config), nested entries included.
  concierge::PluginContext placed{host, nullptr, {}, "plugins.agent.config"};
  try {
    create(placed, YAML::Load("restaurants:\n  - name: Demo\n    phone: twelve\n"));
    FAIL() << "no error";
  } catch (const concierge::ConfigError& e) {
    EXPECT_EQ(e.key_path(), "plugins.agent.config.restaurants[0].phone");
    EXPECT_EQ(e.line(), 3);
  }
}

}  // namespace
