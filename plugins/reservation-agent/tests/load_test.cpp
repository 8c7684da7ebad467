// Loads the built module through the daemon's loader, as the daemon does: through the C boundary (concierge/abi.h),
// where the module exports concierge_plugin_entry and nothing else of ours, and the host's adapter makes an Agent of
// its tables. Checks the descriptor, create(), a plan, and that config errors name the key path and the line.
#include <gtest/gtest.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "concierge/abi.h"
#include "concierge/net/asio.hpp"
#include "module_exports.hpp"
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

std::vector<std::string> own_exports(const std::string& module) {
  return concierge::testing::own_exports(CONCIERGE_NM, module);
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

// C ABI 1.1: the agent's line events cross the C boundary (the C++ layer's trampolines, the host's adapter) as the
// SDK's AgentSession::listens_for_beep / on_line_event, so the host runs its beep detector for this agent again and
// the agent holds end_call's voicemail_left to the beep it was told of.
TEST(ReservationAgentModule, LineEventsCrossTheCBoundary) {
  Host host;
  const concierge::host::PluginLoader loader(CONCIERGE_PLUGIN_DIR);
  const concierge::PluginContext context{host, nullptr, {}};
  const auto plugin = loader.load(
      "reservation-agent", concierge::PluginKind::agent, context,
      YAML::Load("customer: {name: Alex Morgan, phone: \"+15551230000\"}\nvoicemail: {policy: leave_message}\n"),
      "plugins.agent.config", "/etc/concierge.yaml");
  ASSERT_TRUE(plugin.c_abi);
  EXPECT_EQ(plugin.c_abi_minor, static_cast<std::uint32_t>(CONCIERGE_ABI_MINOR));
  const concierge::TaskPlan plan =
      plugin.instance.agent->plan({"Book a table at Demo Restaurant for 2 people a week from today at 7pm", {}});
  ASSERT_TRUE(plan.ready) << plan.question;
  auto session = plugin.instance.agent->open_session(plan);
  EXPECT_TRUE(session->listens_for_beep());  // leave_message: the host's detector is asked for
  const nlohmann::json left = nlohmann::json::parse(R"({"reason": "voicemail_left", "summary": "left"})");
  const concierge::ToolResult early = session->on_tool_call(concierge::ToolCall{"c1", "end_call", left});
  EXPECT_FALSE(early.end_call);
  EXPECT_NE(early.output.dump().find("no voicemail beep has been heard"), std::string::npos) << early.output.dump();
  concierge::LineEvent dtmf;
  dtmf.kind = concierge::line_event::dtmf;
  dtmf.detail = "5";
  EXPECT_EQ(session->on_line_event(dtmf), "(The callee pressed the key 5 on their phone.)");
  concierge::LineEvent beep;
  beep.kind = concierge::line_event::beep;
  beep.beep_hz = 1000;
  const std::string note = session->on_line_event(beep);
  EXPECT_NE(note.find("say voicemail_message from the data now"), std::string::npos) << note;
  EXPECT_TRUE(session->on_tool_call(concierge::ToolCall{"c2", "end_call", left}).end_call);
  const concierge::Outcome outcome = session->outcome();
  EXPECT_EQ(outcome.details.value("outcome", ""), "voicemail_left");
  EXPECT_EQ(outcome.details.value("voicemail_after", ""), "beep");
  EXPECT_EQ(outcome.details.value("callee_pressed", ""), "5");

  // Without the policy the agent does not ask for the detector.
  const auto quiet = loader.load("reservation-agent", concierge::PluginKind::agent, context,
                                 YAML::Node(YAML::NodeType::Map), "plugins.agent.config", "/etc/concierge.yaml");
  const concierge::TaskPlan hang_up_plan = quiet.instance.agent->plan(
      {"Book a table at Demo Restaurant for 2 people a week from today at 7pm under the name Sam Lee", {}});
  EXPECT_FALSE(quiet.instance.agent->open_session(hang_up_plan)->listens_for_beep());
}

}  // namespace
