// The fixture of the backfill tests (backfill_test.cc, backfill_index_test.cc):
// a fresh database each, a generated legacy store, runs of the backfill and
// the checks of an exact copy.
#ifndef TRADESTORE_TESTS_MIGRATION_BACKFILL_FIXTURE_H_
#define TRADESTORE_TESTS_MIGRATION_BACKFILL_FIXTURE_H_

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "testing/eventually.h"
#include "testing/pg_environment.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"
#include "testing/trades.h"
#include "tradestore/cli/cli.h"
#include "tradestore/internal/sha256.h"
#include "tradestore/migration/backfill.h"
#include "tradestore/postgres/migrator.h"
#include "tradestore/postgres/pg_mirror.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/postgres/pg_trade_store.h"
#include "tradestore/postgres/pg_transact.h"
#include "tradestore/sqlite/legacy_generator.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore::backfill_tests {

using testing::PgEnvironment;
using testing::TempDir;
using testing::TestPgOptions;

class BackfillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = PgEnvironment::Get().FreshDatabaseName();
    dsn_ = PgEnvironment::Get().pg().Dsn(db_);
  }

  std::string Legacy(int64_t rows, int64_t bad_every) {
    const std::string path = dir_.File("trade_store.db");
    auto made = GenerateLegacyStore(
        {.path = path, .rows = rows, .bad_every = bad_every});
    EXPECT_TRUE(made.ok()) << made.status();
    return path;
  }

  absl::StatusOr<BackfillReport> Backfill(const std::string& path,
                                          bool dry_run = false) {
    BackfillOptions options;
    options.sqlite_path = path;
    options.pg = TestPgOptions(dsn_);
    options.batch_rows = 700;
    options.dry_run = dry_run;
    std::ostringstream log;
    return RunBackfill(options, log);
  }

  // A run that calls `after_batch` after each batch's commit.
  absl::StatusOr<BackfillReport> BackfillWatching(
      const std::string& path, int batch_rows,
      std::function<void(int64_t)> after_batch,
      std::string* log_text = nullptr) {
    BackfillOptions options;
    options.sqlite_path = path;
    options.pg = TestPgOptions(dsn_);
    options.batch_rows = batch_rows;
    options.after_batch = std::move(after_batch);
    std::ostringstream log;
    auto report = RunBackfill(options, log);
    if (log_text != nullptr) *log_text = log.str();
    return report;
  }

  std::string Sql(const std::string& sql) { return testing::Sql(db_, sql); }

  // Every convertible SQLite row is in Postgres, equal in every field; every
  // other one is quarantined. Returns the number of rows compared.
  int64_t ExpectExactCopy(const std::string& path) {
    auto sqlite = SqliteTradeStore::Open({.path = path});
    auto pg = PgTradeStore::Open(TestPgOptions(dsn_));
    EXPECT_TRUE(sqlite.ok() && pg.ok());
    if (!sqlite.ok() || !pg.ok()) return 0;
    int64_t compared = 0, quarantined = 0, after = 0;
    for (;;) {
      auto rows = (*sqlite)->ScanStoredRows(after, 1000);
      EXPECT_TRUE(rows.ok());
      if (!rows.ok() || rows->empty()) break;
      auto copied = (*pg)->ScanById(after, 1000);
      EXPECT_TRUE(copied.ok());
      size_t j = 0;
      for (const StoredRow& row : *rows) {
        after = row.id;
        auto expected = ConvertStoredRow(row, nullptr);
        if (!expected.ok()) {
          ++quarantined;
          continue;
        }
        while (j < copied->size() && (*copied)[j].id < row.id) ++j;
        if (j >= copied->size() || (*copied)[j].id != row.id) {
          ADD_FAILURE() << "row " << row.id << " missing in Postgres";
          continue;
        }
        EXPECT_EQ((*copied)[j], *expected) << "row " << row.id;
        ++compared;
      }
    }
    EXPECT_EQ(*(*pg)->Count(), compared);
    EXPECT_EQ(Sql("SELECT count(*) FROM trades_quarantine"),
              absl::StrCat(quarantined, "\n"));
    return compared;
  }

  std::string Indexes() {
    return Sql(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'trades' "
        "ORDER BY 1");
  }
  // The primary key's constraint name, then the number of fence triggers.
  std::string KeyAndFence() {
    return Sql("SELECT conname FROM pg_constraint WHERE conrelid = "
               "'trades'::regclass AND contype = 'p'") +
           Sql("SELECT count(*) FROM pg_trigger WHERE tgrelid = "
               "'trades'::regclass AND tgname = 'trades_backfill_fence'");
  }

  static constexpr const char* kAllIndexes =
      "idx_trades_symbol\nidx_trades_timestamp\nidx_trades_updated_at\n"
      "trades_client_order_id_key\ntrades_pkey\n";

  TempDir dir_;
  std::string db_, dsn_;
};

}  // namespace tradestore::backfill_tests

#endif  // TRADESTORE_TESTS_MIGRATION_BACKFILL_FIXTURE_H_
