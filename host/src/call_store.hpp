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

// Where a listing page stops (and the next one starts): a record's creation time as the store writes it
// ("2026-11-24T19:03:07.123Z") and its id, which breaks ties between records created in the same millisecond.
struct ListingPosition {
  std::string created_at;
  std::string call_id;
};

// One record as GET /calls lists it, read from the store (the entry is the serialised JSON, ready to send).
struct StoredListingEntry {
  ListingPosition position;
  std::string entry;
};

// The listing entry of a record (without its transcript): what GET /calls sends and what the store keeps beside
// the record, so that a page read from the store is copied, not rebuilt. Never throws on bad UTF-8 (replaced).
std::string listing_entry(const CallRecord& record);

class CallStore {
 public:
  virtual ~CallStore() = default;
  // Whether records outlive the daemon here (false for the memory store: it keeps nothing).
  virtual bool keeps_records() const = 0;
  // The listing past the daemon's memory: up to `limit` entries of the records created before `before` (all when
  // nullopt), newest first (by creation time, then id). One indexed range read; entries are stored ready to send.
  // Throws std::runtime_error when the store fails.
  virtual std::vector<StoredListingEntry> list_older(const std::optional<ListingPosition>& before,
                                                     std::size_t limit) = 0;
  // Insert or replace, with the record's listing entry (listing_entry(record), made once by the caller, which keeps
  // it too); throws std::runtime_error on failure.
  virtual void save(const CallRecord& record, const std::string& entry) = 0;
  void save(const CallRecord& record) { save(record, listing_entry(record)); }
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
