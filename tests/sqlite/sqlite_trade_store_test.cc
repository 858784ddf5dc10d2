// What is particular to the SQLite backend: taking a legacy file in place.
// The TradeStore behaviour itself is in trade_store_contract_test.cc.
#include "tradestore/sqlite/sqlite_trade_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <vector>

#include "testing/sqlite_file.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"
#include "tradestore/internal/sha256.h"
#include "tradestore/sqlite/id_ranges.h"

namespace tradestore {
namespace {

using testing::TempDir;

// Runs SQL on a raw connection, the way older code wrote the file.
std::string Sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::string out;
  char* error = nullptr;
  sqlite3_exec(
      db, sql.c_str(),
      [](void* arg, int n, char** values, char**) {
        auto* out = static_cast<std::string*>(arg);
        for (int i = 0; i < n; ++i) {
          if (!out->empty()) *out += "|";
          *out += values[i] != nullptr ? values[i] : "NULL";
        }
        return 0;
      },
      &out, &error);
  EXPECT_EQ(error, nullptr) << error << " in " << sql;
  sqlite3_free(error);
  sqlite3_close(db);
  return out;
}

// The file as execution-service's older code made it: the plan's seven
// columns, DECIMAL and DATETIME declared types (NUMERIC affinity).
void MakeLegacyFile(const std::string& path) {
  Sql(path,
      "CREATE TABLE trades (id INTEGER PRIMARY KEY AUTOINCREMENT, "
      "symbol VARCHAR(20) NOT NULL, side VARCHAR(4) NOT NULL, "
      "quantity DECIMAL(18,8) NOT NULL, price DECIMAL(18,8) NOT NULL, "
      "timestamp DATETIME NOT NULL, status VARCHAR(20) NOT NULL);"
      "INSERT INTO trades VALUES (1, 'BTC-USD', 'buy', 0.1, 43000.5, "
      "'2023-11-14 22:13:21.471325', 'FILLED');"
      "INSERT INTO trades VALUES (2, 'ETH-USD', 'SELL', '2.5', 2500, "
      "1700000001, 'NEW');"
      "INSERT INTO trades VALUES (3, 'ETH-USD', 'SELL', 1.0, 2500, "
      "1700000002000, 'NEW');"
      "PRAGMA user_version = 7;");
}

Trade NewTrade(const char* qty) {
  Trade t;
  t.symbol = "SOL-USD";
  t.side = Side::kSell;
  t.quantity = *Decimal::Parse(qty);
  t.price = *Decimal::Parse("98.76543210");
  t.timestamp = *Timestamp::Parse("2024-01-02T03:04:05.678901Z");
  return t;
}

// read_only opens change nothing: a legacy file is refused until prepared,
// and a prepared one is read while every write is refused.
TEST(SqliteTradeStoreTest, ReadOnlyOpensNeverWrite) {
  TempDir dir;
  const std::string path = dir.File("trade_store.db");
  MakeLegacyFile(path);
  const std::string legacy = *internal::Sha256OfFile(path);
  const SqliteStoreOptions read_only{.path = path, .read_only = true};
  auto refused = SqliteTradeStore::Open(read_only);
  TS_EXPECT_CODE(refused, absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("tradestore prepare"),
            std::string::npos)
      << refused.status();
  EXPECT_EQ(*internal::Sha256OfFile(path), legacy);
  TS_EXPECT_CODE(SqliteTradeStore::Open(
                     {.path = dir.File("absent.db"), .read_only = true}),
                 absl::StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(dir.File("absent.db")));

  TS_ASSERT_OK(SqliteTradeStore::Open({.path = path}));  // prepares it
  const std::string prepared = *internal::Sha256OfFile(path);
  auto store = SqliteTradeStore::Open(read_only);
  TS_ASSERT_OK(store);
  EXPECT_EQ(*(*store)->Count(), 3);
  EXPECT_EQ((*store)->Get(1)->quantity.ToString(), "0.10000000");
  Trade t = *(*store)->Get(1);
  t.id = 0;
  t.client_order_id = "new";
  EXPECT_FALSE((*store)->Insert(t).ok());
  EXPECT_FALSE((*store)->UpdateStatus(2, TradeStatus::kCancelled).ok());
  store->reset();
  EXPECT_EQ(*internal::Sha256OfFile(path), prepared);
}

TEST(SqliteTradeStoreTest, UpgradesLegacyFileInPlaceWithoutRewritingRows) {
  TempDir dir;
  const std::string path = dir.File("trade_store.db");
  MakeLegacyFile(path);
  const std::string before =
      Sql(path,
          "SELECT typeof(quantity), typeof(price), typeof(timestamp) "
          "FROM trades ORDER BY id");
  auto store = SqliteTradeStore::Open({.path = path});
  TS_ASSERT_OK(store);
  EXPECT_EQ(*(*store)->SchemaVersion(), kSqliteSchemaVersion);
  // Same storage classes as before: nothing was rewritten.
  EXPECT_EQ(Sql(path,
                "SELECT typeof(quantity), typeof(price), "
                "typeof(timestamp) FROM trades ORDER BY id"),
            before);
  EXPECT_EQ(Sql(path,
                "SELECT value FROM tradestore_meta WHERE key = "
                "'legacy_user_version'"),
            "7");
  auto first = (*store)->Get(1);
  TS_ASSERT_OK(first);
  EXPECT_EQ(first->side, Side::kBuy);
  EXPECT_EQ(first->quantity.ToString(), "0.10000000");
  EXPECT_EQ(first->version, 1);
  EXPECT_EQ((*store)->Get(2)->timestamp.ToIso8601(),
            "2023-11-14T22:13:21.000000Z");
  EXPECT_EQ((*store)->Get(3)->timestamp.ToIso8601(),
            "2023-11-14T22:13:22.000000Z");
}

TEST(SqliteTradeStoreTest, NewDecimalsAreExactEvenInNumericColumns) {
  TempDir dir;
  const std::string path = dir.File("trade_store.db");
  MakeLegacyFile(path);
  auto store = SqliteTradeStore::Open({.path = path});
  TS_ASSERT_OK(store);
  // 18 significant digits: a REAL would keep only ~15.
  auto inserted = (*store)->Insert(NewTrade("1234567890.12345678"));
  TS_ASSERT_OK(inserted);
  EXPECT_EQ(inserted->trade.id, 4);
  EXPECT_EQ(Sql(path,
                "SELECT typeof(quantity), typeof(price) FROM trades "
                "WHERE id = 4"),
            "blob|blob");
  EXPECT_EQ((*store)->Get(4)->quantity.ToString(), "1234567890.12345678");
}

TEST(SqliteTradeStoreTest, NewFileGetsTheFullSchemaWithTextDecimals) {
  TempDir dir;
  const std::string path = dir.File("new.db");
  auto store = SqliteTradeStore::Open({.path = path});
  TS_ASSERT_OK(store);
  TS_ASSERT_OK((*store)->Insert(NewTrade("0.00000001")));
  EXPECT_EQ(Sql(path, "SELECT typeof(quantity), quantity FROM trades"),
            "text|0.00000001");
  EXPECT_EQ(Sql(path, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(Sql(path, "PRAGMA user_version"),
            std::to_string(kSqliteSchemaVersion));
}

TEST(SqliteTradeStoreTest, ReopeningChangesNothing) {
  TempDir dir;
  const std::string path = dir.File("trade_store.db");
  MakeLegacyFile(path);
  { TS_ASSERT_OK(SqliteTradeStore::Open({.path = path})); }
  const std::string schema =
      Sql(path, "SELECT group_concat(sql) FROM sqlite_master");
  auto again = SqliteTradeStore::Open({.path = path});
  TS_ASSERT_OK(again);
  EXPECT_EQ(Sql(path, "SELECT group_concat(sql) FROM sqlite_master"), schema);
  EXPECT_EQ(*(*again)->Count(), 3);
}

TEST(SqliteTradeStoreTest, RefusesATableItCannotTake) {
  TempDir dir;
  const std::string path = dir.File("odd.db");
  Sql(path,
      "CREATE TABLE trades (id INTEGER PRIMARY KEY, symbol TEXT, "
      "side TEXT, amount REAL, timestamp TEXT, status TEXT)");
  auto store = SqliteTradeStore::Open({.path = path});
  TS_EXPECT_CODE(store, absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("quantity, price"), std::string::npos)
      << store.status();
  // The refused upgrade left the file as it was.
  EXPECT_EQ(Sql(path, "SELECT count(*) FROM pragma_table_info('trades')"), "6");

  const std::string text_id = dir.File("textid.db");
  Sql(text_id,
      "CREATE TABLE trades (id TEXT PRIMARY KEY, symbol TEXT, side "
      "TEXT, quantity TEXT, price TEXT, timestamp TEXT, status TEXT)");
  auto refused = SqliteTradeStore::Open({.path = text_id});
  TS_EXPECT_CODE(refused, absl::StatusCode::kFailedPrecondition);
}

TEST(SqliteTradeStoreTest, MissingFileIsNotFoundWhenNotCreating) {
  TempDir dir;
  auto store = SqliteTradeStore::Open(
      {.path = dir.File("absent.db"), .create_if_missing = false});
  TS_EXPECT_CODE(store, absl::StatusCode::kNotFound);
}

TEST(SqliteTradeStoreTest, UnreadableLegacyRowIsDataLossNamingRowAndColumn) {
  TempDir dir;
  const std::string path = dir.File("trade_store.db");
  MakeLegacyFile(path);
  Sql(path,
      "INSERT INTO trades VALUES (9, 'XRP-USD', 'BUY', 'abc', 1, "
      "'2023-01-01 00:00:00', 'NEW')");
  auto store = SqliteTradeStore::Open({.path = path});
  TS_ASSERT_OK(store);
  auto bad = (*store)->Get(9);
  TS_EXPECT_CODE(bad, absl::StatusCode::kDataLoss);
  EXPECT_NE(bad.status().message().find("row id 9: quantity"),
            std::string::npos)
      << bad.status();
  // The raw scan still returns it, for backfill to quarantine.
  auto rows = (*store)->ScanStoredRows(8, 10);
  TS_ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].quantity.text, "abc");
}

TEST(SqliteTradeStoreTest, UpdateOnLegacyRowKeepsOtherValues) {
  TempDir dir;
  const std::string path = dir.File("trade_store.db");
  MakeLegacyFile(path);
  auto store = SqliteTradeStore::Open({.path = path});
  TS_ASSERT_OK(store);
  auto updated = (*store)->UpdateStatus(2, TradeStatus::kFilled);
  TS_ASSERT_OK(updated);
  EXPECT_EQ(updated->version, 2);
  EXPECT_EQ(Sql(path,
                "SELECT typeof(quantity), quantity, status, version "
                "FROM trades WHERE id = 2"),
            "real|2.5|FILLED|2");
}

// Scans cut a store into id ranges of a given number of rows; ids with gaps
// (deleted rows, a jump) must neither shrink nor lose a range.
TEST(SqliteTradeStoreTest, IdRangesCutRowsNotIds) {
  TempDir dir;
  const std::string path = dir.File("trade_store.db");
  MakeLegacyFile(path);
  // Ids 1-3, 10-14, 1000 and 1001.
  std::string inserts;
  for (int id : {10, 11, 12, 13, 14, 1000, 1001}) {
    inserts += "INSERT INTO trades VALUES (" + std::to_string(id) +
               ", 'BTC-USD', 'BUY', 1, 2, 1700000001, 'NEW');";
  }
  Sql(path, inserts);
  auto store = SqliteTradeStore::Open({.path = path});
  TS_ASSERT_OK(store);
  SqliteTradeStore& s = **store;

  EXPECT_EQ(*s.BatchEnd(0, 2, 5000), 2);
  EXPECT_EQ(*s.BatchEnd(2, 2, 5000), 10);     // over the gap
  EXPECT_EQ(*s.BatchEnd(14, 5, 5000), 1001);  // fewer left than asked
  EXPECT_EQ(*s.BatchEnd(10, 4, 12), 12);      // never past up_to
  EXPECT_EQ(*s.BatchEnd(1001, 4, 5000), 0);   // none left
  EXPECT_EQ(*s.BatchEnd(0, 1, 5000), 1);
  EXPECT_EQ(*s.NextId(3, 5000), 10);
  EXPECT_EQ(*s.NextId(14, 999), 0);

  auto cut = [&](int64_t after, int64_t up_to, int rows, bool reach_end) {
    IdRanges ranges(s, after, up_to, rows, reach_end);
    std::vector<std::vector<int64_t>> out;
    for (;;) {
      auto r = ranges.Next();
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok() || !r->has_value()) return out;
      EXPECT_EQ((*r)->seq, static_cast<int64_t>(out.size()));
      out.push_back({(*r)->after_id, (*r)->last_id});
    }
  };
  using Cuts = std::vector<std::vector<int64_t>>;
  // The first cut counts rows: 1-3 and 10 are ten ids for four rows, sparse,
  // so the second counts too; 11-14 are dense, so the third is four ids wide
  // from the next id.
  EXPECT_EQ(cut(0, 5000, 4, false), (Cuts{{0, 10}, {10, 14}, {14, 1003}}));
  // reach_end: one last range to up_to, past the store's last row.
  EXPECT_EQ(cut(0, 5000, 6, true),
            (Cuts{{0, 12}, {12, 18}, {18, 1005}, {1005, 5000}}));
  EXPECT_EQ(cut(3, 13, 100, false), (Cuts{{3, 13}}));
}

// Over dense ids, sparse ids and jumps between them, the ranges are
// consecutive, cover every row once, hold at most the rows asked for, and
// only a few (where the ids change from dense to sparse) hold fewer than
// half of them.
TEST(SqliteTradeStoreTest, IdRangesHoldTheirRowsWhereverIdsHaveGaps) {
  TempDir dir;
  const std::string path = dir.File("trade_store.db");
  MakeLegacyFile(path);
  // 1-3 (the legacy rows), 4-3000 dense, 600 rows 1,000 ids apart, 3,000
  // dense from 10,000,000, then every second id up to 10,010,000.
  Sql(path,
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
      "WHERE i < 5000) INSERT INTO trades SELECT id, 'BTC-USD', 'BUY', 1, 2, "
      "1700000001, 'NEW' FROM (SELECT i + 3 AS id FROM n WHERE i <= 2997 "
      "UNION ALL SELECT 3000 + i * 1000 FROM n WHERE i <= 600 "
      "UNION ALL SELECT 9999999 + i FROM n WHERE i <= 3000 "
      "UNION ALL SELECT 10005000 + 2 * i FROM n WHERE i <= 2500)");
  const int64_t total = std::stoll(Sql(path, "SELECT count(*) FROM trades"));
  ASSERT_EQ(total, 3000 + 600 + 3000 + 2500);
  auto store = SqliteTradeStore::Open({.path = path});
  TS_ASSERT_OK(store);

  for (int rows : {1, 7, 100, 1000}) {
    SCOPED_TRACE(rows);
    IdRanges ranges(**store, 0, INT64_MAX, rows, /*reach_end=*/false);
    int64_t after = 0, seen = 0, thin = 0, count = 0;
    for (;;) {
      auto r = ranges.Next();
      TS_ASSERT_OK(r);
      if (!r->has_value()) break;
      ASSERT_EQ((*r)->after_id, after);
      ASSERT_GT((*r)->last_id, after);
      const int64_t in =
          std::stoll(Sql(path, "SELECT count(*) FROM trades WHERE id > " +
                                   std::to_string(after) + " AND id <= " +
                                   std::to_string((*r)->last_id)));
      EXPECT_GE(in, 1);
      EXPECT_LE(in, rows);
      if (2 * in < rows) ++thin;
      seen += in;
      ++count;
      after = (*r)->last_id;
    }
    EXPECT_EQ(seen, total);
    EXPECT_GE(after, 10010000);  // the last range may reach past it
    EXPECT_LE(thin, 16) << count << " ranges";
  }
}

// A clock whose first wait releases another connection's write lock: the
// open must wait for it, not fail at once (SQLite gives a rollback-journal
// file's lock upgrade no busy handler).
class ReleasingClock : public SimulatedClock {
 public:
  explicit ReleasingClock(testing::SqliteFile* holder)
      : SimulatedClock(Timestamp()), holder_(holder) {}
  void SleepFor(std::chrono::microseconds d) override {
    ++waits;
    if (holder_ != nullptr) {
      holder_->Exec("COMMIT");
      holder_ = nullptr;
    }
    SimulatedClock::SleepFor(d);
  }
  int waits = 0;

 private:
  testing::SqliteFile* holder_;
};

TEST(SqliteTradeStoreTest, WaitsForAWriterOfARollbackJournalFile) {
  TempDir dir;
  const std::string path = dir.File("legacy.db");
  {
    testing::SqliteFile file(path);
    file.Exec(testing::kLegacyTradesTable);
    file.Exec(testing::LegacyRowsSql(1, 3));
  }
  testing::SqliteFile holder(path);  // journal_mode is DELETE
  holder.Exec("BEGIN IMMEDIATE");
  ReleasingClock releasing(&holder);
  auto store = SqliteTradeStore::Open(
      {.path = path, .busy_timeout_ms = 5000, .clock = &releasing});
  TS_ASSERT_OK(store);
  EXPECT_GE(releasing.waits, 1);
  EXPECT_EQ(*(*store)->Count(), 3);

  // Past the busy timeout the open gives up, retryable.
  const std::string other = dir.File("other.db");
  {
    testing::SqliteFile file(other);
    file.Exec(testing::kLegacyTradesTable);
  }
  testing::SqliteFile keeper(other);
  keeper.Exec("BEGIN IMMEDIATE");
  SimulatedClock clock{Timestamp()};
  auto refused = SqliteTradeStore::Open(
      {.path = other, .busy_timeout_ms = 50, .clock = &clock});
  TS_EXPECT_CODE(refused, absl::StatusCode::kUnavailable);
  keeper.Exec("ROLLBACK");
}

}  // namespace
}  // namespace tradestore
