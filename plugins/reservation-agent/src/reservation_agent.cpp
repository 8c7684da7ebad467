#include "reservation_agent.hpp"

#include <stdexcept>

#include "reservation_session.hpp"

namespace concierge::reservation {

ReservationAgent::ReservationAgent(ReservationConfig config, Clock now) : planner_(std::move(config), std::move(now)) {}

TaskPlan ReservationAgent::plan(const TaskRequest& request) const { return planner_.plan(request); }

std::unique_ptr<AgentSession> ReservationAgent::open_session(const TaskPlan& plan) const {
  if (!plan.ready) throw std::invalid_argument("reservation-agent: cannot call with a plan that is not ready");
  std::string error;
  auto task = task_from_details(plan.details, &error);
  if (!task) throw std::invalid_argument("reservation-agent: " + error);
  return std::make_unique<ReservationSession>(std::move(*task));
}

std::shared_ptr<Agent> make_reservation_agent(const YAML::Node& block, const std::string& path) {
  return std::make_shared<ReservationAgent>(parse_reservation_config(block, path));
}

std::shared_ptr<Agent> make_reservation_agent(const ConfigNode& block) {
  return make_reservation_agent(block.yaml(), block.path());
}

}  // namespace concierge::reservation
