// Call records survive the daemon: the SQLite store keeps them, and a restart marks interrupted calls failed.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>

#include "call_record.hpp"
#include "call_store.hpp"

using namespace concierge;
using namespace concierge::host;

namespace {
std::filesystem::path temp_db(const std::string& name) {
  auto path = std::filesystem::temp_directory_path() / ("concierge-store-" + name + "-" + std::to_string(getpid()) + ".db");
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
  return path;
}

CallRecord sample_record(const std::string& id, CallStatus status) {
  CallRecord r;
  r.call_id = id;
  r.status = status;
  r.created_at = r.updated_at = Clock::now();
  r.callee_name = "Demo Restaurant";
  r.phone_number = "+1234567890";
  r.summary = "table for 4";
  r.details = {{"party_size", 4}, {"time", "19:00"}};
  r.status_history = {{CallStatus::queued, r.created_at}, {status, r.created_at}};
  r.transcript.push_back({Speaker::callee, "Demo Restaurant, how can I help?", r.created_at});
  r.transcript.push_back({Speaker::agent, "A table for four, please.", r.created_at});
  r.metrics.frames_from_line = 1234;
  r.metrics.voice_to_voice_count = 2;
  r.metrics.voice_to_voice_ms_sum = 640;
  if (is_terminal(status)) {
    r.ended_at = r.created_at;
    r.result = Outcome{true, "4572", "", {{"time", "19:00"}}};
  }
  return r;
}
}  // namespace

TEST(CallRecord, JsonRoundTripKeepsEverything) {
  const CallRecord original = sample_record("call_1", CallStatus::completed);
  const CallRecord copy = CallRecord::from_json(original.to_json(true));
  EXPECT_EQ(copy.to_json(true), original.to_json(true));
  EXPECT_EQ(copy.transcript.size(), 2u);
  ASSERT_TRUE(copy.result);
  EXPECT_EQ(copy.result->confirmation_number, "4572");
}

TEST(CallRecord, ListingLeavesOutTheTranscript) {
  const auto j = sample_record("call_1", CallStatus::completed).to_json(false);
  EXPECT_FALSE(j.contains("transcript"));
  EXPECT_EQ(j["status"], "completed");
  EXPECT_EQ(j["result"]["confirmation_number"], "4572");
}

TEST(SqliteCallStore, SavesUpdatesAndLoadsInCreationOrder) {
  const auto db = temp_db("order");
  {
    auto store = make_sqlite_call_store(db);
    auto first = sample_record("call_a", CallStatus::dialing);
    store->save(first);
    auto second = sample_record("call_b", CallStatus::completed);
    second.created_at += std::chrono::seconds(1);
    store->save(second);
    first.status = CallStatus::busy;  // an update replaces the row
    store->save(first);
  }
  auto store = make_sqlite_call_store(db);
  auto records = store->load_all();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].call_id, "call_a");
  EXPECT_EQ(records[0].status, CallStatus::busy);
  EXPECT_EQ(records[1].call_id, "call_b");
  EXPECT_EQ(records[1].transcript.size(), 2u);
  std::filesystem::remove(db);
}

TEST(SqliteCallStore, ADamagedRowIsSkippedNotFatal) {
  const auto db = temp_db("damaged");
  {
    auto store = make_sqlite_call_store(db);
    store->save(sample_record("call_ok", CallStatus::completed));
  }
  // Corrupt one record the way a half-written or hand-edited row would look.
  {
    auto store = make_sqlite_call_store(db);
    auto bad = sample_record("call_bad", CallStatus::completed);
    store->save(bad);
  }
  const std::string sql = "sqlite3 '" + db.string() + "' \"UPDATE calls SET record='{not json' WHERE call_id='call_bad'\"";
  if (std::system(sql.c_str()) != 0) GTEST_SKIP() << "sqlite3 command-line tool not available";
  auto store = make_sqlite_call_store(db);
  auto records = store->load_all();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].call_id, "call_ok");
  EXPECT_NE(store->describe().find("1 unreadable"), std::string::npos);
  std::filesystem::remove(db);
}

// One record by its id (an amendment of a record past calls.history_limit reads it so): the row as saved last, none
// for an id never saved, none for a damaged row (never a guess an amendment would write back).
TEST(SqliteCallStore, LoadsOneRecordByItsId) {
  const auto db = temp_db("one");
  auto store = make_sqlite_call_store(db);
  auto record = sample_record("call_one", CallStatus::failed);
  store->save(record);
  store->save(sample_record("call_other", CallStatus::completed));
  record.status = CallStatus::canceled;
  record.provider_call_id = "CA0123";
  store->save(record);
  const auto loaded = store->load("call_one");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->to_json(true), record.to_json(true));
  EXPECT_FALSE(store->load("call_never"));
  EXPECT_FALSE(make_memory_call_store()->load("call_one"));
  store.reset();
  const std::string sql =
      "sqlite3 '" + db.string() + "' \"UPDATE calls SET record='{not json' WHERE call_id='call_other'\"";
  if (std::system(sql.c_str()) != 0) GTEST_SKIP() << "sqlite3 command-line tool not available";
  store = make_sqlite_call_store(db);
  EXPECT_FALSE(store->load("call_other"));
  EXPECT_TRUE(store->load("call_one"));
  std::filesystem::remove(db);
}

// GET /calls past the daemon's memory: the store's records older than a position, newest first (creation time, then
// id for the same millisecond), a bounded page at a time, each entry the record's listing entry as saved last.
TEST(SqliteCallStore, ListsOlderRecordsNewestFirstAPageAtATime) {
  const auto db = temp_db("older");
  auto store = make_sqlite_call_store(db);
  EXPECT_TRUE(store->keeps_records());
  EXPECT_FALSE(make_memory_call_store()->keeps_records());
  const auto base = Clock::now();
  std::vector<CallRecord> records;
  for (int i = 0; i < 5; ++i) {
    auto r = sample_record("call_" + std::to_string(i), CallStatus::completed);
    r.created_at = base + std::chrono::milliseconds(10 * (i < 4 ? i : 3));  // call_3 and call_4: the same ms
    records.push_back(r);
  }
  for (int i : {3, 0, 4, 1, 2}) store->save(records[i]);  // saved out of order: the listing is by creation
  records[1].status = CallStatus::canceled;
  store->save(records[1]);  // a correction: its entry is the new one
  std::vector<std::string> ids;
  std::optional<ListingPosition> at;
  for (int page = 0; page < 4; ++page) {
    const auto rows = store->list_older(at, 2);
    ASSERT_LE(rows.size(), 2u);
    for (const auto& row : rows) {
      ids.push_back(row.position.call_id);
      EXPECT_EQ(nlohmann::json::parse(row.entry), nlohmann::json::parse(listing_entry(records.at(
                                                      std::stoi(row.position.call_id.substr(5))))));
    }
    if (rows.empty()) break;
    at = rows.back().position;
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"call_4", "call_3", "call_2", "call_1", "call_0"}));
  EXPECT_EQ(make_memory_call_store()->list_older(std::nullopt, 10).size(), 0u);
  std::filesystem::remove(db);
}

// A store written before the listing entry was kept (no `entry` column, as the bench's writer and older daemons
// wrote it) opens, lists its records, and gets every entry filled in once by load_all.
TEST(SqliteCallStore, AStoreWithoutListingEntriesIsListedAndFilledIn) {
  const auto db = temp_db("old-format");
  const auto record = sample_record("call_old", CallStatus::completed);
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
    const auto json = record.to_json(true);
    const std::string sql =
        "CREATE TABLE calls (call_id TEXT PRIMARY KEY, status TEXT NOT NULL, created_at TEXT NOT NULL, "
        "updated_at TEXT NOT NULL, record TEXT NOT NULL); INSERT INTO calls VALUES ('call_old', 'completed', '" +
        json["created_at"].get<std::string>() + "', '" + json["updated_at"].get<std::string>() + "', '" +
        json.dump() + "')";
    ASSERT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(raw);
    sqlite3_close(raw);
  }
  auto store = make_sqlite_call_store(db);
  auto rows = store->list_older(std::nullopt, 10);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].entry, listing_entry(record));
  EXPECT_EQ(store->load_all().size(), 1u);
  store.reset();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* select = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "SELECT entry FROM calls", -1, &select, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(select), SQLITE_ROW);
  const auto* entry = reinterpret_cast<const char*>(sqlite3_column_text(select, 0));
  EXPECT_EQ(std::string(entry ? entry : "(null)"), listing_entry(record));
  sqlite3_finalize(select);
  sqlite3_close(raw);
  std::filesystem::remove(db);
}

TEST(SqliteCallStore, UnwritableLocationIsAClearError) {
  try {
    make_sqlite_call_store("/nonexistent-folder/for/sure/calls.db");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open call database /nonexistent-folder"), std::string::npos);
  }
}
