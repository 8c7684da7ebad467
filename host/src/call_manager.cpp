#include "call_manager.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <random>

#include "c_plugin.hpp"
#include "time_format.hpp"
#include "concierge/net/asio.hpp"

namespace concierge::host {
namespace {
// The agent session of a call the agent has no task for: no instructions, no tools, no verdict beyond that.
class NoTaskSession final : public AgentSession {
 public:
  std::string instructions() const override { return {}; }
  std::vector<ToolDefinition> tools() const override { return {}; }
  ToolResult on_tool_call(const ToolCall& call) override {
    return {{{"ok", false}, {"error", "no task for this call; unknown tool " + call.name}}, false};
  }
  void on_transcript(const TranscriptEntry&) override {}
  Outcome outcome() const override { return {false, "", "An inbound call without a task", {}}; }
};
}  // namespace

CallManager::CallManager(CallServices services, std::shared_ptr<Agent> agent, std::unique_ptr<CallStore> store,
                         CallLimits limits)
    : services_(std::move(services)),
      agent_(std::move(agent)),
      store_(std::move(store)),
      limits_(limits),
      quota_(limits.per_token) {
  services_.record_changed = [this](const CallRecord& record) { persist(record); };
  services_.finished = [this](const std::string& call_id) {
    if (auto owner = owner_of_.find(call_id); owner != owner_of_.end()) {
      quota_.ended(owner->second);
      owner_of_.erase(owner);
    }
    // Dropped on the next turn of the loop: the bridge is still on the stack that finished it.
    auto it = active_.find(call_id);
    if (it == active_.end()) return;
    auto bridge = it->second;
    active_.erase(it);
    boost::asio::post(services_.io, [bridge] {});
  };
  services_.amend_finished = std::make_shared<const CallServices::FinishedCallAmender>(
      [this](const std::string& call_id, std::string_view provider_call_id, const CallStatusUpdate* late) {
        amend_finished(call_id, provider_call_id, late);
      });
  // Calls that were running when the daemon stopped (or crashed) can never finish now: say so in their records.
  auto stored = store_->load_all();
  stored_total_ = stored.size();
  for (auto& record : stored) {
    auto shared = std::make_shared<CallRecord>(std::move(record));
    if (!is_terminal(shared->status)) {
      shared->status = CallStatus::failed;
      shared->status_reason = "the daemon stopped during the call";
      // The last thing known of the call is when its record last changed: that is when it ended, not this restart.
      shared->ended_at = shared->updated_at;
      shared->status_history.emplace_back(CallStatus::failed, shared->updated_at);
      if (!shared->result) shared->result = Outcome{false, "", "The daemon stopped during the call", {}};
      persist(*shared);
      ++recovered_interrupted_;
    }
    remember(shared);
  }
  // Their listing entries now, before the daemon serves anything: a flood of listings must find them ready, not
  // serialise thousands of records on the event loop.
  const auto now = std::chrono::steady_clock::now();
  for (const auto& [id, record] : records_) listed_json_.emplace(id, ListedEntry{listing_entry(*record), now});
}

CallManager::~CallManager() = default;

std::string CallManager::new_call_id() {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  for (;;) {
    std::string id = "call_";
    std::uint64_t bits = random();
    for (int i = 0; i < 16; ++i, bits >>= 4) id.push_back(kHex[bits & 15]);
    if (!records_.count(id)) return id;
  }
}

std::shared_ptr<CallRecord> CallManager::new_record(const TaskPlan& plan, bool inbound) {
  auto record = std::make_shared<CallRecord>();
  record->call_id = new_call_id();
  record->inbound = inbound;
  record->created_at = record->updated_at = Clock::now();
  record->callee_name = clean_text(services_.secrets, plan.callee_name);
  record->phone_number = clean_text(services_.secrets, plan.phone_number);
  record->summary = clean_text(services_.secrets, plan.summary);
  record->details = clean_json(services_.secrets, plan.details);
  record->status_history.emplace_back(CallStatus::queued, record->created_at);
  ++stored_total_;
  remember(record);
  persist(*record);
  return record;
}

void CallManager::persist(const CallRecord& record) {
  // The listing entry is made here, once, for the store and for the listing in memory: a page never has to
  // serialise a call whose state just changed (500 calls ringing at once would otherwise make the next page build
  // 500 entries on the loop, 10-18 ms).
  std::string entry = listing_entry(record);
  if (records_.count(record.call_id))
    listed_json_.insert_or_assign(record.call_id, ListedEntry{entry, std::chrono::steady_clock::now()});
  else
    listed_json_.erase(record.call_id);
  try {
    store_->save(record, entry);
  } catch (const std::exception& e) {
    ++services_.metrics.errors;
    services_.log->error(std::string("could not save call record: ") + e.what());
  }
}

void CallManager::remember(std::shared_ptr<CallRecord> record) {
  const std::uint64_t sequence = next_sequence_++;
  order_.emplace(sequence, record->call_id);
  sequence_of_[record->call_id] = sequence;
  records_[record->call_id] = std::move(record);
  // Keep memory bounded: forget the oldest finished calls past the limit (the store still has them).
  while (order_.size() > limits_.history_limit) {
    auto oldest = std::find_if(order_.begin(), order_.end(), [&](const auto& entry) { return !active_.count(entry.second); });
    if (oldest == order_.end()) break;
    records_.erase(oldest->second);
    sequence_of_.erase(oldest->second);
    listed_json_.erase(oldest->second);
    order_.erase(oldest);
  }
}

nlohmann::json CallManager::questions_body(const TaskPlan& plan) {
  // The sentence for people, and beside it what a program needs: which fields are missing, which are doubtful
  // (the agent's reading has a question per field), and what was understood so far.
  nlohmann::json body = {{"error", plan.question}, {"question", plan.question}, {"understood", plan.details}};
  nlohmann::json missing = nlohmann::json::array(), doubtful = nlohmann::json::array(),
                 questions = nlohmann::json::array();
  if (const auto it = plan.reading.find("questions"); it != plan.reading.end() && it->is_array()) {
    questions = *it;
    for (const auto& q : *it) {
      if (!q.is_object() || !q.contains("field")) continue;
      const std::string kind = q.value("kind", "");
      auto& list = kind == "missing" ? missing : doubtful;
      if (std::find(list.begin(), list.end(), q["field"]) == list.end()) list.push_back(q["field"]);
    }
  }
  body["missing"] = std::move(missing);
  body["doubtful"] = std::move(doubtful);
  body["questions"] = std::move(questions);
  if (!plan.reading.empty()) body["reading"] = plan.reading;
  return body;
}

CallManager::Reply CallManager::plan_only(const TaskRequest& request) {
  TaskPlan plan;
  try {
    plan = agent_->plan(request);
  } catch (const std::exception& e) {
    return {500, {{"error", std::string("the agent could not read the request: ") + e.what()}}};
  }
  if (!plan.ready) {
    nlohmann::json body = questions_body(plan);
    body["dry_run"] = true;
    return {422, std::move(body)};
  }
  // No record, no call: only what would be dialled and why.
  return {200, {{"dry_run", true},
                {"ready", true},
                {"callee_name", plan.callee_name},
                {"phone_number", plan.phone_number},
                {"summary", plan.summary},
                {"details", plan.details},
                {"reading", plan.reading}}};
}

CallManager::Reply CallManager::start(const TaskRequest& request, std::string_view owner) {
  if (services_.metrics.overload.overloaded) {
    ++services_.metrics.calls_refused_overload;
    char load[96];
    std::snprintf(load, sizeof load, "its event loop is %.0f%% busy and %.1f ms behind",
                  100 * services_.metrics.overload.busy, services_.metrics.overload.last_lag_ms);
    return {503, {{"error", std::string("the daemon is overloaded (") + load +
                                "); calls in progress carry on, new calls are refused until it catches up; "
                                "try again shortly"},
                  {"overloaded", true}}};
  }
  if (active_.size() >= limits_.max_concurrent_calls) {
    ++services_.metrics.calls_refused_capacity;
    return {503, {{"error", "the daemon is at its limit of " + std::to_string(limits_.max_concurrent_calls) +
                                " concurrent calls; try again shortly"}}};
  }
  // The credential's own limits, before the agent spends any work on the request.
  if (auto refusal = quota_.check(owner, std::chrono::steady_clock::now())) {
    ++services_.metrics.calls_refused_quota[refusal->limit];
    services_.log->warning("POST /calls refused (429): " + refusal->message);
    return {429,
            {{"error", refusal->message},
             {"refused", refusal->limit},
             {"retry_after_seconds", refusal->retry_after.count()}},
            {{"Retry-After", std::to_string(refusal->retry_after.count())}}};
  }
  TaskPlan plan;
  try {
    plan = agent_->plan(request);
  } catch (const std::exception& e) {
    return {500, {{"error", std::string("the agent could not read the request: ") + e.what()}}};
  }
  if (!plan.ready) return {422, questions_body(plan)};
  // The provider's destination policy, before anything is recorded or dialled.
  if (services_.telephony_checks_destinations) {
    if (std::string refusal = services_.telephony->check_destination(plan.phone_number); !refusal.empty()) {
      ++services_.metrics.calls_refused_destination;
      return {403, {{"error", "not dialled: " + refusal}, {"refused", "destination"}}};
    }
  }

  auto record = new_record(plan, false);

  auto bridge = std::make_shared<CallBridge>(services_, record, agent_->open_session(plan), plan.details,
                                             services_.agent_has_line_events);
  active_[record->call_id] = bridge;
  // Counted before it starts: a call that fails at once ends (and is uncounted as active) inside start_outbound.
  quota_.placed(owner, std::chrono::steady_clock::now());
  owner_of_.emplace(record->call_id, std::string(owner));
  services_.log->info("call " + record->call_id + ": " + plan.summary);
  bridge->start_outbound();
  return {201, {{"call_id", record->call_id}, {"status", to_string(record->status)}, {"summary", plan.summary},
                {"details", plan.details}}};
}

std::shared_ptr<CallEvents> CallManager::accept_inbound(const InboundCall& call) {
  if (!limits_.accept_inbound) {
    services_.log->warning("refused an inbound call from " + call.from + ": calls.inbound is off");
    return nullptr;
  }
  if (services_.metrics.overload.overloaded) {
    ++services_.metrics.calls_refused_overload;
    services_.log->warning("refused an inbound call from " + call.from + ": the daemon is overloaded");
    return nullptr;
  }
  if (active_.size() >= limits_.max_concurrent_calls) {
    ++services_.metrics.calls_refused_capacity;
    services_.log->warning("refused an inbound call from " + call.from + ": at the concurrent call limit");
    return nullptr;
  }
  TaskPlan plan;
  plan.ready = true;
  plan.callee_name = call.from;
  plan.phone_number = call.from;
  plan.summary = "inbound call from " + (call.from.empty() ? std::string("an unknown caller") : call.from);
  plan.details = {{"direction", "inbound"}, {"from", call.from}, {"to", call.to}};

  auto record = new_record(plan, true);
  record->provider_call_id = call.provider_call_id;

  std::unique_ptr<AgentSession> session;
  bool has_line_events = services_.agent_has_line_events;
  try {
    session = agent_->open_session(plan);
  } catch (const std::exception& e) {
    // An agent made for outbound tasks (the reservation agent) has nothing to do on an inbound call; the call is
    // still bridged (an echo or answering voice model needs no task) and its record says so.
    services_.log->info(std::string("inbound call from ") + (call.from.empty() ? "?" : call.from) +
                        ": the agent has no task for it (" + e.what() + "); bridging without one");
    session = std::make_unique<NoTaskSession>();
    has_line_events = true;  // the host's own session: built with this SDK
  }
  auto bridge = std::make_shared<CallBridge>(services_, record, std::move(session), plan.details, has_line_events);
  active_[record->call_id] = bridge;
  return bridge->start_inbound(call.leg);
}

namespace {
constexpr std::size_t kCursorDigits = 17;  // "2026-11-24T19:03:07.123Z" -> "20261124190307123"
}  // namespace

std::optional<ListingPosition> CallManager::parse_cursor(std::string_view cursor) {
  if (cursor.size() < kCursorDigits + 2 || cursor.size() > kCursorDigits + 1 + 128 || cursor[kCursorDigits] != '.')
    return std::nullopt;
  for (std::size_t i = 0; i < kCursorDigits; ++i)
    if (cursor[i] < '0' || cursor[i] > '9') return std::nullopt;
  const std::string_view id = cursor.substr(kCursorDigits + 1);
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return std::nullopt;
  const std::string_view d = cursor.substr(0, kCursorDigits);
  std::string created;
  created.reserve(24);
  created.append(d.substr(0, 4)).append("-").append(d.substr(4, 2)).append("-").append(d.substr(6, 2));
  created.append("T").append(d.substr(8, 2)).append(":").append(d.substr(10, 2)).append(":");
  created.append(d.substr(12, 2)).append(".").append(d.substr(14, 3)).append("Z");
  return ListingPosition{std::move(created), std::string(id)};
}

namespace {
std::string cursor_of(const ListingPosition& position) {
  std::string cursor;
  for (char c : position.created_at)
    if (c >= '0' && c <= '9') cursor += c;
  return cursor + "." + position.call_id;
}
}  // namespace

std::string CallManager::list_page(std::size_t limit, const std::optional<ListingPosition>& after) const {
  limit = std::clamp<std::size_t>(limit, 1, kMaxPageSize);
  std::string body = "{\"calls\":[";
  body.reserve(limit * 1024);
  std::size_t n = 0;
  std::optional<ListingPosition> last;  // the last call listed: where the next page starts
  // Newest first: walk back from the end of the memory, or from just before the cursor's call. A cursor whose call
  // is no longer in memory (or was never: another daemon's) goes straight to the store.
  auto it = order_.end();
  bool in_memory = true;
  if (after) {
    if (auto seq = sequence_of_.find(after->call_id); seq != sequence_of_.end()) it = order_.find(seq->second);
    else in_memory = false;
  }
  const auto now = std::chrono::steady_clock::now();
  std::size_t refreshed = 0;
  while (in_memory && it != order_.begin() && n < limit) {
    --it;
    const std::string& id = it->second;
    if (n++) body += ',';
    // Every change of a record goes through persist(), which makes its entry: a state change shows at once. A call
    // in progress also changes with every frame (its counters): its entry is re-made once it is a second old, but
    // for at most kRefreshesPerPage calls a page (a page of 500 calls in progress re-made at once held the loop
    // 10-18 ms under a listing flood); the others' counters may then be a few seconds old, and the next pages
    // refresh them in turn.
    auto cached = listed_json_.find(id);
    if (cached == listed_json_.end() ||
        (active_.count(id) && now - cached->second.made_at >= std::chrono::seconds(1) &&
         refreshed++ < kRefreshesPerPage)) {
      ListedEntry fresh{listing_entry(*records_.at(id)), now};
      if (cached == listed_json_.end()) cached = listed_json_.emplace(id, std::move(fresh)).first;
      else cached->second = std::move(fresh);
    }
    body += cached->second.json;
  }
  // The last call listed from memory (its position made once per page, not per entry).
  if (n > 0) {
    const auto& id = it->second;
    last = ListingPosition{iso8601_utc(records_.at(id)->created_at), id};
  }
  bool more = in_memory && it != order_.begin();
  if (!more && store_->keeps_records()) {
    // Past the memory, the store: the calls older than the oldest one in memory (or than the cursor's). One
    // indexed range read of at most a page, entries stored ready to send (a 500-entry page of a 10,000-call store:
    // ~1.5 ms on the loop, as a page from memory); one row more than the page needs says whether there is a next.
    std::optional<ListingPosition> from = last;
    if (!in_memory) from = after;
    else if (!from && !order_.empty()) from = ListingPosition{iso8601_utc(records_.at(order_.begin()->second)->created_at),
                                                              order_.begin()->second};
    const std::size_t wanted = limit - n + 1;
    auto rows = store_->list_older(from, wanted);
    for (auto& row : rows) {
      if (n == limit) {
        more = true;
        break;
      }
      // Listed from memory already (only when creation times and arrival disagree, e.g. the clock was set back).
      if (records_.count(row.position.call_id)) continue;
      if (n++) body += ',';
      body += row.entry;
      last = std::move(row.position);
    }
    if (!more && rows.size() == wanted && last) more = true;  // rows skipped as listed: there may be more still
  }
  const std::size_t total = store_->keeps_records() ? std::max(stored_total_, order_.size()) : order_.size();
  body += "],\"active\":" + std::to_string(active_.size()) + ",\"total\":" + std::to_string(total) +
          ",\"next_cursor\":";
  body += more && last ? "\"" + cursor_of(*last) + "\"" : std::string("null");
  body += '}';
  return body;
}

std::optional<nlohmann::json> CallManager::status(const std::string& call_id) const {
  if (auto it = records_.find(call_id); it != records_.end()) return it->second->to_json(true);
  // Past calls.history_limit (or another daemon's call, in a shared store): the store has it. One row by its key.
  if (auto stored = store_->load(call_id)) return stored->to_json(true);
  return std::nullopt;
}

CallManager::Reply CallManager::hang_up(const std::string& call_id) {
  auto it = active_.find(call_id);
  if (it == active_.end()) {
    bool ended = records_.count(call_id) > 0;
    if (!ended) {
      try {
        ended = store_->load(call_id).has_value();
      } catch (const std::exception&) {
        // Not known here either way: 404 says no call of this daemon's can be hung up by that id.
      }
    }
    if (ended) return {409, {{"error", "call " + call_id + " has already ended"}}};
    return {404, {{"error", "no call with id " + call_id}}};
  }
  it->second->cancel(CallStatus::canceled, "hung up at the user's request");
  return {200, *status(call_id)};
}

void CallManager::amend_finished(const std::string& call_id, std::string_view provider_call_id,
                                 const CallStatusUpdate* late) {
  if (active_.count(call_id)) return;  // in progress: its statuses go through its bridge, never through here
  if (auto it = records_.find(call_id); it != records_.end()) {
    if (amend(*it->second, provider_call_id, late)) persist(*it->second);
    return;
  }
  // Past calls.history_limit only the call store has the record: it is corrected there (one row read and written
  // by its primary key), so the listing after a restart and anything else that reads the store tells the truth.
  const std::string what = late ? " as " + std::string(to_string(late->status)) : std::string();
  std::optional<CallRecord> stored;
  try {
    stored = store_->load(call_id);
  } catch (const std::exception& e) {
    ++services_.metrics.errors;
    services_.log->error("call " + call_id + ": its provider reported it after its end" + what +
                         ", but its record could not be read from the call store: " + e.what());
    return;
  }
  if (!stored) {
    services_.log->warning("call " + call_id + ": its provider reported it after its end" + what +
                           ", but no record of it is kept (past calls.history_limit, and " + store_->describe() +
                           " has none)");
    return;
  }
  if (!amend(*stored, provider_call_id, late)) return;
  persist(*stored);
  services_.log->info("call " + call_id + ": the record amended was past calls.history_limit: corrected in the "
                      "call store");
}

bool CallManager::amend(CallRecord& record, std::string_view provider_call_id, const CallStatusUpdate* late) const {
  if (!is_terminal(record.status)) return false;  // never made live again; a stored live record is one interrupted
  const auto now = Clock::now();
  bool changed = false;
  if (!provider_call_id.empty() && record.provider_call_id.empty()) {
    record.provider_call_id = clean_text(services_.secrets, provider_call_id);
    changed = true;
  }
  if (late) {
    // The history tells what happened when; the same status twice in a row says nothing new.
    if (record.status_history.empty() || record.status_history.back().first != late->status)
      record.status_history.emplace_back(late->status, now);
    const std::string reason = clean_text(services_.secrets, late->reason);
    if (!reason.empty()) record.status_reason = reason;
    if (is_terminal(late->status)) {
      record.status = late->status;
      record.ended_at = now;
    }
    if (late->duration_seconds) record.duration_seconds = late->duration_seconds;
    if (!late->answered_by.empty()) record.answered_by = clean_text(services_.secrets, late->answered_by);
    // What the user reads as the outcome says the same as the record (a call that had failed here stays a task
    // not done; only its words change).
    if (record.result && !record.result->success && !reason.empty()) record.result->failure_reason = reason;
    services_.log->info("call " + record.call_id + ": record amended after its end: " +
                        std::string(to_string(record.status)) + (reason.empty() ? std::string() : ", " + reason));
    changed = true;
  }
  if (changed) record.updated_at = now;
  return changed;
}

void CallManager::shutdown(const std::string& reason) {
  auto active = active_;  // finishing a call removes it from active_
  for (auto& [id, bridge] : active) bridge->cancel(CallStatus::canceled, reason);
}

std::string CallManager::prometheus_metrics() const {
  const auto& m = services_.metrics;
  std::string out;
  out.reserve(8192);
  auto counter = [&](const char* name, const char* help, std::uint64_t value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name + " " +
           std::to_string(value) + "\n";
  };
  auto gauge = [&](const char* name, const char* help, const std::string& value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n" + name + " " + value + "\n";
  };
  out += "# HELP concierge_calls Calls known to the daemon, by state.\n# TYPE concierge_calls gauge\n";
  // Counted by the enum's value, not by name: a string per record made a scrape of 10,500 records 2 ms on the loop.
  constexpr CallStatus kStates[] = {CallStatus::queued,    CallStatus::dialing,   CallStatus::ringing,
                                    CallStatus::in_progress, CallStatus::completed, CallStatus::failed,
                                    CallStatus::no_answer, CallStatus::busy,      CallStatus::canceled,
                                    CallStatus::timed_out};
  std::array<std::size_t, std::size(kStates)> counts{};
  for (const auto& [id, record] : records_)
    for (std::size_t i = 0; i < counts.size(); ++i)
      if (kStates[i] == record->status) {
        ++counts[i];
        break;
      }
  std::map<std::string_view, std::size_t> by_state;  // in the order of their names, as before
  for (std::size_t i = 0; i < counts.size(); ++i) by_state[to_string(kStates[i])] = counts[i];
  for (const auto& [state, n] : by_state)
    out += "concierge_calls{state=\"" + std::string(state) + "\"} " + std::to_string(n) + "\n";
  gauge("concierge_active_calls", "Calls in progress now.", std::to_string(active_.size()));
  gauge("concierge_max_concurrent_calls", "The configured limit.", std::to_string(limits_.max_concurrent_calls));
  counter("concierge_frames_in_total", "Callee audio frames received from the telephony provider.",
          m.frames_from_line);
  counter("concierge_frames_out_total", "Agent audio frames handed to the telephony provider.", m.frames_to_line);
  counter("concierge_frames_to_voice_total", "Audio frames handed to the voice model.", m.frames_to_voice);
  counter("concierge_frames_from_voice_total", "Audio frames received from the voice model.", m.frames_from_voice);
  counter("concierge_errors_total", "Errors: plugin errors, bad input, failed saves.", m.errors);
  counter("concierge_calls_refused_total", "Calls refused because the daemon was at its limit.",
          m.calls_refused_capacity);
  counter("concierge_calls_refused_overload_total",
          "New calls and media streams refused because the daemon was overloaded (event loop lag or busy share).",
          m.calls_refused_overload);
  counter("concierge_calls_refused_destination_total",
          "POST /calls refused with 403 by the telephony plugin's destination policy.", m.calls_refused_destination);
  // Every refusal of a call by policy, by reason: 403 for where it would go, 429 for the credential's limits.
  out += "# HELP concierge_calls_refused_policy_total POST /calls refused by policy, by reason: destination (403), "
         "calls_per_minute, calls_per_hour or concurrent_calls (429, calls.limits_per_token).\n"
         "# TYPE concierge_calls_refused_policy_total counter\n";
  for (const auto& [reason, n] :
       {std::pair<const char*, std::uint64_t>{"destination", m.calls_refused_destination},
        {"calls_per_minute", m.calls_refused_quota.calls_per_minute},
        {"calls_per_hour", m.calls_refused_quota.calls_per_hour},
        {"concurrent_calls", m.calls_refused_quota.concurrent_calls}})
    out += std::string("concierge_calls_refused_policy_total{reason=\"") + reason + "\"} " + std::to_string(n) + "\n";
  {
    const auto& q = quota_.limits();
    out += "# HELP concierge_calls_limit_per_token The configured limits per API token (calls.limits_per_token; 0: "
           "none).\n# TYPE concierge_calls_limit_per_token gauge\n";
    out += "concierge_calls_limit_per_token{limit=\"per_minute\"} " + std::to_string(q.per_minute) + "\n";
    out += "concierge_calls_limit_per_token{limit=\"per_hour\"} " + std::to_string(q.per_hour) + "\n";
    out += "concierge_calls_limit_per_token{limit=\"concurrent\"} " + std::to_string(q.concurrent) + "\n";
  }
  counter("concierge_api_unauthorized_total", "Control-API requests refused with 401: no API token or a wrong one.",
          m.api_unauthorized);
  gauge("concierge_connections_open", "Open HTTP and WebSocket connections.", std::to_string(m.connections_open));
  counter("concierge_connections_refused_total",
          "Connections closed on arrival: over server.max_connections or max_connections_per_client, or shed when "
          "the daemon ran out of file descriptors.",
          m.connections_refused);
  gauge("concierge_overloaded", "1 while the daemon refuses new calls because its event loop lags or is too busy.",
        m.overload.overloaded ? "1" : "0");
  gauge("concierge_overload_lag_threshold_milliseconds", "server.overload_lag_ms (0: off).",
        std::to_string(m.overload.threshold_ms));
  gauge("concierge_event_loop_busy_ratio",
        "Share of wall time the event loop's thread spends working, smoothed over ~0.3 s.",
        std::to_string(m.overload.busy));
  gauge("concierge_overload_busy_threshold_ratio", "server.overload_busy_ratio (0: off).",
        std::to_string(m.overload.busy_threshold));
  m.loop_lag_ms.render(out, "concierge_event_loop_lag_milliseconds",
                       "How late the event loop ran its 10 ms timer: how long work waits on a busy loop.");
  {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.6f", m.loop_run_delay_seconds);
    out += std::string("# HELP concierge_event_loop_run_delay_seconds_total Time the event loop's thread waited for a "
                       "CPU while it had work (the machine's other load, not the loop's own).\n"
                       "# TYPE concierge_event_loop_run_delay_seconds_total counter\n"
                       "concierge_event_loop_run_delay_seconds_total ") + seconds + "\n";
  }
  counter("concierge_interruptions_total", "Barge-ins: the callee spoke over the agent.", m.interruptions);
  counter("concierge_input_tokens_total", "Voice model input tokens.", m.input_tokens);
  counter("concierge_output_tokens_total", "Voice model output tokens.", m.output_tokens);
  {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.3f", m.audio_seconds);
    out += std::string("# HELP concierge_voice_audio_seconds_total Voice model audio seconds (models that bill audio "
                       "time, such as GPT-Live).\n# TYPE concierge_voice_audio_seconds_total counter\n"
                       "concierge_voice_audio_seconds_total ") + seconds + "\n";
  }
  m.line_to_voice_us.render(out, "concierge_frame_processing_microseconds",
                            "The host's work per audio frame (conversion and hand-over).", "direction=\"in\"");
  std::string second;
  m.voice_to_line_us.render(second, "concierge_frame_processing_microseconds", "", "direction=\"out\"");
  // One HELP/TYPE per metric family: drop the second header.
  second.erase(0, second.find('\n', second.find('\n') + 1) + 1);
  out += second;
  m.voice_to_voice_ms.render(out, "concierge_voice_to_voice_milliseconds",
                             "Callee stops speaking -> first agent audio handed to the line.");
  m.response_latency_ms.render(out, "concierge_voice_response_latency_milliseconds",
                               "The voice model's own latency: end of the callee's speech -> its first audio.");
  c_abi::render_plugin_metrics(out);  // what C plugins count themselves (concierge_host_api.metric_add)
  return out;
}

}  // namespace concierge::host
