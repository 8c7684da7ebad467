#pragma once
// Where call records go so that they survive the daemon. SQLite by default (one file, no server; WAL so a crash
// loses at most the last record update); the interface is what a PostgreSQL store for several daemons behind a load
// balancer would implement.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "call_record.hpp"

namespace concierge::host {

class CallStore {
 public:
  virtual ~CallStore() = default;
  virtual void save(const CallRecord& record) = 0;  // insert or replace; throws std::runtime_error on failure
  virtual std::vector<CallRecord> load_all() = 0;   // oldest first
  // One record by its id (a record past calls.history_limit, amended after its end); nullopt when the store has
  // none or it cannot be read as a record. Throws std::runtime_error when the store fails.
  virtual std::optional<CallRecord> load(const std::string& call_id) = 0;
  virtual std::string describe() const = 0;         // for the startup line
};

// Keeps nothing: records live only in the daemon's memory.
std::unique_ptr<CallStore> make_memory_call_store();
std::unique_ptr<CallStore> make_sqlite_call_store(const std::filesystem::path& file);

}  // namespace concierge::host
