#include "call_store.hpp"

#include <sqlite3.h>

#include <stdexcept>

namespace concierge::host {
namespace {

class MemoryCallStore final : public CallStore {
 public:
  void save(const CallRecord&) override {}
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
    exec("CREATE TABLE IF NOT EXISTS calls (call_id TEXT PRIMARY KEY, status TEXT NOT NULL, "
         "created_at TEXT NOT NULL, updated_at TEXT NOT NULL, record TEXT NOT NULL)");
    if (sqlite3_prepare_v2(db_,
                           "INSERT INTO calls (call_id, status, created_at, updated_at, record) VALUES (?,?,?,?,?) "
                           "ON CONFLICT(call_id) DO UPDATE SET status=excluded.status, "
                           "updated_at=excluded.updated_at, record=excluded.record",
                           -1, &upsert_, nullptr) != SQLITE_OK)
      fail("prepare");
    if (sqlite3_prepare_v2(db_, "SELECT record FROM calls WHERE call_id = ?", -1, &select_one_, nullptr) != SQLITE_OK)
      fail("prepare");
  }
  ~SqliteCallStore() override {
    sqlite3_finalize(select_one_);
    sqlite3_finalize(upsert_);
    sqlite3_close(db_);
  }

  void save(const CallRecord& record) override {
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
    if (sqlite3_step(upsert_) != SQLITE_DONE) fail("saving call " + record.call_id);
  }

  std::vector<CallRecord> load_all() override {
    std::vector<CallRecord> out;
    sqlite3_stmt* select = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT call_id, record FROM calls ORDER BY created_at", -1, &select, nullptr) !=
        SQLITE_OK)
      fail("prepare");
    while (sqlite3_step(select) == SQLITE_ROW) {
      const char* text = reinterpret_cast<const char*>(sqlite3_column_text(select, 1));
      try {
        out.push_back(CallRecord::from_json(nlohmann::json::parse(text ? text : "")));
      } catch (const std::exception& e) {
        // A damaged row must not keep the daemon from starting; it is reported and skipped.
        const char* id = reinterpret_cast<const char*>(sqlite3_column_text(select, 0));
        skipped_.push_back(std::string(id ? id : "?") + ": " + e.what());
      }
    }
    sqlite3_finalize(select);
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
  [[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error("call database " + file_.string() + ": " + what + ": " + sqlite3_errmsg(db_));
  }

  std::filesystem::path file_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* upsert_ = nullptr;
  sqlite3_stmt* select_one_ = nullptr;
  std::vector<std::string> skipped_;
};

}  // namespace

std::unique_ptr<CallStore> make_memory_call_store() { return std::make_unique<MemoryCallStore>(); }
std::unique_ptr<CallStore> make_sqlite_call_store(const std::filesystem::path& file) {
  return std::make_unique<SqliteCallStore>(file);
}

}  // namespace concierge::host
