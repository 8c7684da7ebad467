#pragma once
// Every call the daemon knows: the active ones (each a CallBridge) and the finished ones' records, kept up to the
// history limit in memory and all of them in the call store. Lives on the event loop; not thread-safe by design.
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "call_bridge.hpp"
#include "call_quota.hpp"
#include "call_store.hpp"
#include "concierge/agent.hpp"
#include "concierge/plugin.hpp"

namespace concierge::host {

struct CallLimits {
  std::size_t max_concurrent_calls = 1000;
  std::size_t history_limit = 1000;
  bool accept_inbound = false;
  CallQuotaLimits per_token;  // calls placed through the API, per API token (call_quota.hpp)
};

class CallManager {
 public:
  CallManager(CallServices services, std::shared_ptr<Agent> agent, std::unique_ptr<CallStore> store,
              CallLimits limits);
  ~CallManager();

  struct Reply {
    int status;
    nlohmann::json body;
    std::vector<std::pair<std::string, std::string>> headers = {};  // Retry-After with a 429
  };
  // POST /calls: plans the task with the agent and, when it is complete, places the call. `owner` names the API
  // credential the request came with: its limits (CallLimits::per_token) apply, and the call counts toward them.
  Reply start(const TaskRequest& request, std::string_view owner);
  // POST /calls with "dry_run": true: the agent's plan (200) or its questions (422), and no call, no record.
  Reply plan_only(const TaskRequest& request);
  std::shared_ptr<CallEvents> accept_inbound(const InboundCall& call);
  // GET /calls: one page of the calls, newest first, as the JSON body
  // {"calls": [...], "active": N, "total": N, "next_cursor": "..." or null}. `after` is where the previous page
  // stopped (its next_cursor, read by parse_cursor; nullopt: the first page). The pages walk the calls in memory,
  // then go on into the call store past calls.history_limit, so every stored call is listed. A finished call's
  // entry is serialised once (in memory, and beside its record in the store) and copied, so a page costs little on
  // the event loop however often it is asked for. Throws std::runtime_error when the store cannot be read.
  static constexpr std::size_t kDefaultPageSize = 50, kMaxPageSize = 500;
  static constexpr std::size_t kRefreshesPerPage = 25;  // calls in progress whose entries a page re-makes, at most
  std::string list_page(std::size_t limit, const std::optional<ListingPosition>& after) const;
  // A next_cursor ("20261124190307123.call_0123abcd": the creation time's digits and the id) as a position;
  // nullopt when it is not one.
  static std::optional<ListingPosition> parse_cursor(std::string_view cursor);
  // GET /calls/{id}: the record, from memory or (past calls.history_limit) from the call store. Throws
  // std::runtime_error when the store cannot be read.
  std::optional<nlohmann::json> status(const std::string& call_id) const;
  Reply hang_up(const std::string& call_id);
  void shutdown(const std::string& reason);  // cancels every active call
  // What a call's provider learnt after the call had finished here (CallEvents::on_late_status, a provider id
  // learnt late): amends the finished record and saves it. A late final status replaces the status, its reason and
  // ended_at; any late status is appended to the history. Never touches a call in progress and never makes a record
  // live again. A record no longer in memory (past calls.history_limit) is amended in the call store (read by its
  // id, saved back; it does not come back into memory); without a record there, the log says so.
  void amend_finished(const std::string& call_id, std::string_view provider_call_id, const CallStatusUpdate* late);

  std::size_t active_calls() const { return active_.size(); }
  std::string prometheus_metrics() const;
  void note_unauthorized() { ++services_.metrics.api_unauthorized; }
  const CallStore& store() const { return *store_; }
  std::size_t recovered_interrupted() const { return recovered_interrupted_; }

 private:
  std::string new_call_id();
  static nlohmann::json questions_body(const TaskPlan& plan);  // the 422 body
  std::shared_ptr<CallRecord> new_record(const TaskPlan& plan, bool inbound);  // queued, remembered, saved
  void remember(std::shared_ptr<CallRecord> record);
  void persist(const CallRecord& record);
  // amend_finished's change to one finished record (in memory or read from the store); false: nothing changed.
  bool amend(CallRecord& record, std::string_view provider_call_id, const CallStatusUpdate* late) const;

  CallServices services_;
  std::shared_ptr<Agent> agent_;
  std::unique_ptr<CallStore> store_;
  CallLimits limits_;
  std::map<std::string, std::shared_ptr<CallBridge>> active_;
  std::map<std::string, std::shared_ptr<CallRecord>> records_;
  // Every remembered call by the order it arrived in (oldest first): the listing's order and its cursors.
  std::map<std::uint64_t, std::string> order_;
  std::map<std::string, std::uint64_t> sequence_of_;
  std::uint64_t next_sequence_ = 1;
  struct ListedEntry {
    std::string json;
    std::chrono::steady_clock::time_point made_at;
  };
  mutable std::map<std::string, ListedEntry> listed_json_;  // listing entries, serialised (see list_page)
  std::size_t recovered_interrupted_ = 0;
  // Records in the store (those loaded at startup and every one created since): GET /calls' total when the store
  // keeps records. Counted, not asked of the store, so that a listing never scans it.
  std::size_t stored_total_ = 0;
  CallQuota quota_;
  std::map<std::string, std::string> owner_of_;  // active API-placed call -> the credential it counts against
};

}  // namespace concierge::host
