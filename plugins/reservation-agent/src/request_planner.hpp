#pragma once
// plan(): a request as people write it (and/or structured fields) -> a reservation task, or the question to ask.
// The parsing rules are listed in README.md; the spoken-text rules (times, dates, party sizes) in spoken.hpp.
#include <chrono>
#include <functional>

#include "concierge/agent.hpp"
#include "reservation_config.hpp"
#include "reservation_task.hpp"

namespace concierge::reservation {

using Clock = std::function<std::chrono::system_clock::time_point()>;

class RequestPlanner {
 public:
  explicit RequestPlanner(ReservationConfig config, Clock now = [] { return std::chrono::system_clock::now(); });
  TaskPlan plan(const TaskRequest& request) const;
  const ReservationConfig& config() const { return config_; }

 private:
  ReservationConfig config_;
  Clock now_;
};

}  // namespace concierge::reservation
