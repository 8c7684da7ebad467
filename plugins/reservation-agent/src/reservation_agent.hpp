#pragma once
// The reservation agent: plan() reads what the user asked, open_session() makes one ReservationSession per call.
#include <memory>

#include "concierge/agent.hpp"
#include "concierge/config.hpp"
#include "request_planner.hpp"

namespace YAML { class Node; }

namespace concierge::reservation {

class ReservationAgent final : public Agent {
 public:
  explicit ReservationAgent(ReservationConfig config, Clock now = [] { return std::chrono::system_clock::now(); });
  TaskPlan plan(const TaskRequest& request) const override;
  // Throws std::invalid_argument when the plan is not ready or its details are not a reservation task.
  std::unique_ptr<AgentSession> open_session(const TaskPlan& plan) const override;

 private:
  RequestPlanner planner_;
};

// What the plugin's create() does: validate the block (ConfigError on mistakes), build the agent.
std::shared_ptr<Agent> make_reservation_agent(const YAML::Node& block, const std::string& path);
std::shared_ptr<Agent> make_reservation_agent(const ConfigNode& block);  // concierge::plugin_config()'s

}  // namespace concierge::reservation
