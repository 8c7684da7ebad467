#include "call_database.hpp"

#include <sqlite3.h>

#include <cstdio>

#include <nlohmann/json.hpp>

namespace concierge::bench {

std::string write_finished_calls(const std::string& file, int n) {
  using nlohmann::json;
  sqlite3* db = nullptr;
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) {
    std::string error = "cannot create " + file + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return error;
  }
  std::string error;
  auto check = [&](int code, int wanted, const char* what) {
    if (code != wanted && error.empty()) error = std::string(what) + " " + file + ": " + sqlite3_errmsg(db);
    return error.empty();
  };
  check(sqlite3_exec(db,
                     "CREATE TABLE IF NOT EXISTS calls (call_id TEXT PRIMARY KEY, status TEXT NOT NULL, created_at "
                     "TEXT NOT NULL, updated_at TEXT NOT NULL, record TEXT NOT NULL)",
                     nullptr, nullptr, nullptr),
        SQLITE_OK, "cannot create the calls table in");
  sqlite3_stmt* insert = nullptr;
  if (error.empty() && check(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), SQLITE_OK, "cannot write") &&
      check(sqlite3_prepare_v2(db, "INSERT INTO calls (call_id, status, created_at, updated_at, record) VALUES (?,?,?,?,?)", -1, &insert, nullptr), SQLITE_OK,
            "cannot write")) {
    for (int i = 0; i < n && error.empty(); ++i) {
      char id[32], at[32];
      std::snprintf(id, sizeof id, "call_%016x", i);
      std::snprintf(at, sizeof at, "2026-11-%02dT%02d:%02d:%02d.000Z", 1 + i / 86400 % 28, i / 3600 % 24,
                    i / 60 % 60, i % 60);
      json transcript = json::array();
      for (int t = 0; t < 12; ++t)
        transcript.push_back({{"speaker", t % 2 ? "agent" : "callee"},
                              {"text", "A line of the conversation, about as long as people speak, number " +
                                           std::to_string(t)},
                              {"at", at}});
      const json record{{"call_id", id},
                        {"status", "completed"},
                        {"status_reason", "hung up"},
                        {"direction", "outbound"},
                        {"created_at", at},
                        {"updated_at", at},
                        {"ended_at", at},
                        {"callee_name", "Demo Restaurant"},
                        {"phone_number", "+12125550100"},
                        {"summary", "Book a table at Demo Restaurant for 4 people on 2026-11-25 at 19:00"},
                        {"details", {{"restaurant", "Demo Restaurant"}, {"party_size", 4}, {"time", "19:00"}}},
                        {"provider_call_id", std::string("SIM") + id},
                        {"status_history",
                         {{{"status", "queued"}, {"at", at}}, {{"status", "completed"}, {"at", at}}}},
                        {"transcript", transcript},
                        {"result", {{"success", true}, {"confirmation_number", "DR-1234"}, {"failure_reason", ""},
                                    {"details", json::object()}}},
                        {"metrics", {{"frames_from_line", 1500}, {"frames_to_line", 1400}}}};
      const std::string text = record.dump();
      sqlite3_reset(insert);
      sqlite3_bind_text(insert, 1, id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(insert, 2, "completed", -1, SQLITE_STATIC);
      sqlite3_bind_text(insert, 3, at, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(insert, 4, at, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(insert, 5, text.c_str(), -1, SQLITE_TRANSIENT);
      check(sqlite3_step(insert), SQLITE_DONE, "cannot write");
    }
    sqlite3_finalize(insert);
    if (error.empty()) check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK, "cannot write");
  }
  sqlite3_close(db);
  return error;
}

}  // namespace concierge::bench
