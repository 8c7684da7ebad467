#pragma once
// Every call the daemon knows: the active ones (each a CallBridge) and the finished ones' records, kept up to the
// history limit in memory and all of them in the call store. Lives on the event loop; not thread-safe by design.
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "call_bridge.hpp"
#include "call_store.hpp"
#include "concierge/agent.hpp"
#include "concierge/plugin.hpp"

namespace concierge::host {

struct CallLimits {
  std::size_t max_concurrent_calls = 1000;
  std::size_t history_limit = 1000;
  bool accept_inbound = false;
};

class CallManager {
 public:
  CallManager(CallServices services, std::shared_ptr<Agent> agent, std::unique_ptr<CallStore> store,
              CallLimits limits);
  ~CallManager();

  struct Reply {
    int status;
    nlohmann::json body;
  };
  // POST /calls: plans the task with the agent and, when it is complete, places the call.
  Reply start(const TaskRequest& request);
  std::shared_ptr<CallEvents> accept_inbound(const InboundCall& call);
  nlohmann::json list() const;
  std::optional<nlohmann::json> status(const std::string& call_id) const;
  Reply hang_up(const std::string& call_id);
  void shutdown(const std::string& reason);  // cancels every active call

  std::size_t active_calls() const { return active_.size(); }
  std::string prometheus_metrics() const;
  const CallStore& store() const { return *store_; }
  std::size_t recovered_interrupted() const { return recovered_interrupted_; }

 private:
  std::string new_call_id();
  std::shared_ptr<CallRecord> new_record(const TaskPlan& plan, bool inbound);  // queued, remembered, saved
  void remember(std::shared_ptr<CallRecord> record);
  void persist(const CallRecord& record);

  CallServices services_;
  std::shared_ptr<Agent> agent_;
  std::unique_ptr<CallStore> store_;
  CallLimits limits_;
  std::map<std::string, std::shared_ptr<CallBridge>> active_;
  std::map<std::string, std::shared_ptr<CallRecord>> records_;
  std::vector<std::string> order_;  // call ids, oldest first, for the history limit and the listing
  std::size_t recovered_interrupted_ = 0;
};

}  // namespace concierge::host
