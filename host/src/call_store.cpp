#include "call_store.hpp"

#include <sqlite3.h>

#include <stdexcept>
#include <string_view>

namespace concierge::host {
namespace {

class MemoryCallStore final : public CallStore {
 public:
  bool keeps_records() const override { return false; }
  std::vector<StoredListingEntry> list_older(const std::optional<ListingPosition>&, std::size_t) override {
    return {};
  }
  void save(const CallRecord&, const std::string&) override {}
  std::vector<CallRecord> load_all() override { return {}; }
  std::optional<CallRecord> load(const std::string&) override { return std::nullopt; }
  std::string describe() const override { return "memory only (calls.database not set)"; }
};

class SqliteCallStore final : public CallStore {
 public:
  explicit SqliteCallStore(const std::filesystem::path& file) : file_(file) {
    if (sqlite3_open(file.c_str(), &db_) != SQLITE_OK) {
      std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw std::runtime_error("cannot open call database " + file.string() + ": " + message);
    }
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    // Reads through a memory map instead of a pread per page: a 500-entry page past the daemon's memory (list_older)
    // touches ~1,000 pages of a store larger than SQLite's cache, 2.4 ms on the event loop with pread, 1.5 ms so.
    exec("PRAGMA mmap_size=268435456");
    exec("CREATE TABLE IF NOT EXISTS calls (call_id TEXT PRIMARY KEY, status TEXT NOT NULL, "
         "created_at TEXT NOT NULL, updated_at TEXT NOT NULL, record TEXT NOT NULL, entry TEXT)");
    // A store written before the listing entry was kept (a NULL entry is rebuilt by load_all, at startup).
    if (!has_column("entry")) exec("ALTER TABLE calls ADD COLUMN entry TEXT");
    // The listing's order past the daemon's memory, read as a range (list_older).
    exec("CREATE INDEX IF NOT EXISTS calls_by_creation ON calls (created_at, call_id)");
    if (sqlite3_prepare_v2(db_,
                           "INSERT INTO calls (call_id, status, created_at, updated_at, record, entry) "
                           "VALUES (?,?,?,?,?,?) ON CONFLICT(call_id) DO UPDATE SET status=excluded.status, "
                           "updated_at=excluded.updated_at, record=excluded.record, entry=excluded.entry",
                           -1, &upsert_, nullptr) != SQLITE_OK)
      fail("prepare");
    if (sqlite3_prepare_v2(db_, "SELECT record FROM calls WHERE call_id = ?", -1, &select_one_, nullptr) != SQLITE_OK)
      fail("prepare");
    if (sqlite3_prepare_v2(db_,
                           "SELECT created_at, call_id, entry, record FROM calls WHERE (created_at, call_id) < (?, ?) "
                           "ORDER BY created_at DESC, call_id DESC LIMIT ?",
                           -1, &select_older_, nullptr) != SQLITE_OK)
      fail("prepare");
    if (sqlite3_prepare_v2(db_,
                           "SELECT created_at, call_id, entry, record FROM calls "
                           "ORDER BY created_at DESC, call_id DESC LIMIT ?",
                           -1, &select_newest_, nullptr) != SQLITE_OK)
      fail("prepare");
  }
  ~SqliteCallStore() override {
    sqlite3_finalize(select_newest_);
    sqlite3_finalize(select_older_);
    sqlite3_finalize(select_one_);
    sqlite3_finalize(upsert_);
    sqlite3_close(db_);
  }

  void save(const CallRecord& record, const std::string& entry) override {
    const auto json = record.to_json(true);
    const std::string text = json.dump();
    const std::string status(to_string(record.status));
    const std::string created = json["created_at"], updated = json["updated_at"];
    sqlite3_reset(upsert_);
    sqlite3_bind_text(upsert_, 1, record.call_id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(upsert_, 2, status.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(upsert_, 3, created.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(upsert_, 4, updated.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(upsert_, 5, text.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(upsert_, 6, entry.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(upsert_) != SQLITE_DONE) fail("saving call " + record.call_id);
  }

  bool keeps_records() const override { return true; }

  std::vector<StoredListingEntry> list_older(const std::optional<ListingPosition>& before,
                                             std::size_t limit) override {
    sqlite3_stmt* select = before ? select_older_ : select_newest_;
    sqlite3_reset(select);
    int at = 1;
    if (before) {
      sqlite3_bind_text(select, at++, before->created_at.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(select, at++, before->call_id.c_str(), -1, SQLITE_TRANSIENT);
    }
    sqlite3_bind_int64(select, at, static_cast<sqlite3_int64>(limit));
    std::vector<StoredListingEntry> out;
    out.reserve(limit);
    auto text = [&](int column) {
      const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(select, column));
      return std::string(t ? t : "", static_cast<std::size_t>(sqlite3_column_bytes(select, column)));
    };
    int step;
    while ((step = sqlite3_step(select)) == SQLITE_ROW) {
      StoredListingEntry row{{text(0), text(1)}, text(2)};
      if (row.entry.empty()) {
        // A row written by something that does not keep the entry (load_all rebuilds them at startup): built here.
        try {
          row.entry = listing_entry(CallRecord::from_json(nlohmann::json::parse(text(3))));
        } catch (const std::exception&) {
          continue;  // a damaged row is no record (load_all skips it too)
        }
      }
      out.push_back(std::move(row));
    }
    const bool failed = step != SQLITE_DONE;
    sqlite3_reset(select);
    if (failed) fail("listing calls");
    return out;
  }

  std::vector<CallRecord> load_all() override {
    std::vector<CallRecord> out;
    sqlite3_stmt* select = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT call_id, record, entry IS NULL FROM calls ORDER BY created_at", -1, &select,
                           nullptr) != SQLITE_OK)
      fail("prepare");
    std::vector<std::size_t> without_entry;  // rows written without their listing entry: given one below
    while (sqlite3_step(select) == SQLITE_ROW) {
      const char* text = reinterpret_cast<const char*>(sqlite3_column_text(select, 1));
      try {
        out.push_back(CallRecord::from_json(nlohmann::json::parse(text ? text : "")));
        if (sqlite3_column_int(select, 2)) without_entry.push_back(out.size() - 1);
      } catch (const std::exception& e) {
        // A damaged row must not keep the daemon from starting; it is reported and skipped.
        const char* id = reinterpret_cast<const char*>(sqlite3_column_text(select, 0));
        skipped_.push_back(std::string(id ? id : "?") + ": " + e.what());
      }
    }
    sqlite3_finalize(select);
    if (!without_entry.empty()) {
      // Once, in one transaction: later listings past the daemon's memory copy the entries instead of rebuilding.
      sqlite3_stmt* update = nullptr;
      if (sqlite3_prepare_v2(db_, "UPDATE calls SET entry = ? WHERE call_id = ?", -1, &update, nullptr) != SQLITE_OK)
        fail("prepare");
      exec("BEGIN");
      for (std::size_t i : without_entry) {
        const std::string entry = listing_entry(out[i]);
        sqlite3_reset(update);
        sqlite3_bind_text(update, 1, entry.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(update, 2, out[i].call_id.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_step(update);
      }
      sqlite3_finalize(update);
      exec("COMMIT");
    }
    return out;
  }

  std::optional<CallRecord> load(const std::string& call_id) override {
    sqlite3_reset(select_one_);
    sqlite3_bind_text(select_one_, 1, call_id.c_str(), -1, SQLITE_TRANSIENT);
    const int step = sqlite3_step(select_one_);
    if (step == SQLITE_DONE) return std::nullopt;
    if (step != SQLITE_ROW) fail("reading call " + call_id);
    const char* text = reinterpret_cast<const char*>(sqlite3_column_text(select_one_, 0));
    std::optional<CallRecord> record;
    try {
      record = CallRecord::from_json(nlohmann::json::parse(text ? text : ""));
    } catch (const std::exception&) {
      // A damaged row is no record (load_all skips it too); an amendment must not replace it with a guess.
    }
    sqlite3_reset(select_one_);
    return record;
  }

  std::string describe() const override {
    std::string d = "sqlite " + file_.string();
    if (!skipped_.empty()) d += " (" + std::to_string(skipped_.size()) + " unreadable records skipped)";
    return d;
  }

 private:
  void exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error ? error : "?";
      sqlite3_free(error);
      throw std::runtime_error("call database " + file_.string() + ": " + message);
    }
  }
  bool has_column(const char* name) {
    sqlite3_stmt* info = nullptr;
    if (sqlite3_prepare_v2(db_, "PRAGMA table_info(calls)", -1, &info, nullptr) != SQLITE_OK) fail("prepare");
    bool found = false;
    while (!found && sqlite3_step(info) == SQLITE_ROW) {
      const char* column = reinterpret_cast<const char*>(sqlite3_column_text(info, 1));
      found = column && std::string_view(column) == name;
    }
    sqlite3_finalize(info);
    return found;
  }
  [[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error("call database " + file_.string() + ": " + what + ": " + sqlite3_errmsg(db_));
  }

  std::filesystem::path file_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* upsert_ = nullptr;
  sqlite3_stmt* select_one_ = nullptr;
  sqlite3_stmt* select_older_ = nullptr;
  sqlite3_stmt* select_newest_ = nullptr;
  std::vector<std::string> skipped_;
};

}  // namespace

std::string listing_entry(const CallRecord& record) {
  // Records hold valid UTF-8 (CallBridge cleans what plugins give it); replacing instead of throwing is the last
  // line of defence, so that no record can ever make the listing fail.
  return record.to_json(false).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::unique_ptr<CallStore> make_memory_call_store() { return std::make_unique<MemoryCallStore>(); }
std::unique_ptr<CallStore> make_sqlite_call_store(const std::filesystem::path& file) {
  return std::make_unique<SqliteCallStore>(file);
}

}  // namespace concierge::host
