// The backfill into an empty table: indexes dropped and rebuilt, the key's
// fence, stopping and resuming, two lanes, the SQLite writer never blocked,
// a least-privilege role (the fixture: backfill_fixture.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "migration/backfill_fixture.h"
#include "tradestore/migration/backfill.h"

namespace tradestore {
namespace {

using backfill_tests::BackfillTest;
using testing::TestPgOptions;

TEST_F(BackfillTest, LoadsAnEmptyTableBeforeBuildingItsIndexes) {
  const std::string path = Legacy(3000, 0);
  TS_ASSERT_OK(MigrateSchema(TestPgOptions(dsn_)));
  ASSERT_EQ(Indexes(), kAllIndexes);
  std::string during, recorded, fenced, log;
  auto report = BackfillWatching(
      path, 1000,
      [&](int64_t) {
        if (!during.empty()) return;
        during = Indexes();
        recorded =
            Sql("SELECT name, constraint_name FROM deferred_indexes "
                "ORDER BY 1");
        fenced = KeyAndFence();
      },
      &log);
  TS_ASSERT_OK(report);
  // The builds' progress ends with every row read by each of the four.
  EXPECT_THAT(log,
              ::testing::HasSubstr("indexes: 12000/12000 tuples (100.0%)"));
  // The partial unique index stays (it must hold during the load); the
  // plan's two, the updated_at one and the primary key, behind its fence,
  // wait for the end.
  EXPECT_EQ(during, "trades_client_order_id_key\n");
  EXPECT_EQ(recorded,
            "idx_trades_symbol|\nidx_trades_timestamp|\n"
            "idx_trades_updated_at|\ntrades_pkey|trades_pkey\n");
  EXPECT_EQ(fenced, "1\n");  // no key, one fence
  EXPECT_EQ(
      report->rebuilt_indexes,
      (std::vector<std::string>{"idx_trades_symbol", "idx_trades_timestamp",
                                "idx_trades_updated_at", "trades_pkey"}));
  EXPECT_EQ(Indexes(), kAllIndexes);
  EXPECT_EQ(KeyAndFence(), "trades_pkey\n0\n");
  EXPECT_EQ(Sql("SELECT count(*) FROM deferred_indexes"), "0\n");
  // The key's statistics are there for the id-range reads that follow.
  // (Not their values: a correlation from a sample of pages two lanes
  // wrote side by side varies from run to run.)
  EXPECT_EQ(Sql("SELECT count(*) FROM pg_stats WHERE tablename = "
                "'trades' AND attname = 'id'"),
            "1\n");
  EXPECT_EQ(Sql("SELECT indexdef FROM pg_indexes WHERE indexname = "
                "'idx_trades_symbol'"),
            "CREATE INDEX idx_trades_symbol ON public.trades USING btree "
            "(symbol, \"timestamp\" DESC, id DESC) WITH "
            "(deduplicate_items=off)\n");
}

// While the key is deferred no other writer gets a row in: not the
// service's insert (as a least-privilege role), not the relay's upsert, not
// a hand-written statement. Each is refused with a reason, and works again
// once the key is back.
TEST_F(BackfillTest, FencesEveryOtherWriterWhileTheKeyIsDeferred) {
  const std::string path = Legacy(3000, 0);
  TS_ASSERT_OK(MigrateSchema(TestPgOptions(dsn_)));
  const std::string fenced_dsn = testing::PasswordRole(
      db_, "fenced_app", "Fenced-Pw-4",
      "GRANT SELECT, INSERT, UPDATE ON trades TO fenced_app; "
      "GRANT USAGE ON SEQUENCE trades_id_seq TO fenced_app; "
      "GRANT SELECT ON schema_migrations TO fenced_app;");
  auto store = PgTradeStore::Open(TestPgOptions(fenced_dsn));
  ASSERT_TRUE(store.ok()) << store.status();
  auto pool = PgPool::Create(TestPgOptions(dsn_));
  ASSERT_TRUE(pool.ok()) << pool.status();
  PgMirror mirror(pool->get());
  Trade newer = testing::SampleTrade();
  newer.id = 10;  // a row the backfill copies in its first batch
  newer.version = 7;
  absl::Status insert, upsert, by_hand;
  auto report = BackfillWatching(path, 1000, [&](int64_t last_id) {
    if (last_id != 1000) return;
    insert = (*store)->Insert(testing::SampleTrade()).status();
    upsert = mirror.ApplyOne(newer).status();
    by_hand = pg::Transact(**pool, [&](pqxx::work& txn) {
      txn.exec("UPDATE trades SET status = 'CANCELLED' WHERE id = 5");
      return absl::OkStatus();
    });
  });
  TS_ASSERT_OK(report);
  EXPECT_THAT(insert.message(),
              ::testing::HasSubstr("with its primary key deferred"));
  EXPECT_THAT(by_hand.message(),
              ::testing::HasSubstr("with its primary key deferred"));
  // The upsert is refused by the planner (no key to conflict on), before
  // the fence: the pool's message names the likely cause.
  EXPECT_THAT(upsert.message(),
              ::testing::HasSubstr("with its primary key deferred?"));
  EXPECT_EQ(ExpectExactCopy(path), 3000);  // nothing else got in
  // The key is back, the fence gone: the same writes go through, guarded.
  EXPECT_EQ(KeyAndFence(), "trades_pkey\n0\n");
  TS_EXPECT_OK((*store)->Insert(testing::SampleTrade()));
  auto applied = mirror.ApplyOne(newer);
  TS_ASSERT_OK(applied);
  EXPECT_TRUE(*applied);
  EXPECT_EQ(Sql("SELECT count(*), max(version) FROM trades"), "3001|7\n");
}

// Past dual_write Postgres is where trades are acknowledged: the key, and
// with it every writer, stays; only the secondary indexes wait.
TEST_F(BackfillTest, KeepsTheKeyOncePostgresTakesTheWrites) {
  const std::string path = Legacy(2000, 0);
  TS_ASSERT_OK(MigrateSchema(TestPgOptions(dsn_)));
  Sql("UPDATE migration_phase SET phase = 'read_postgres'");
  std::string during;
  auto report = BackfillWatching(path, 500, [&](int64_t) {
    if (during.empty()) during = Indexes() + KeyAndFence();
  });
  TS_ASSERT_OK(report);
  EXPECT_EQ(during,
            "trades_client_order_id_key\ntrades_pkey\ntrades_pkey\n0\n");
  EXPECT_EQ(Indexes(), kAllIndexes);
}

// A stopped backfill's fence stands until that store's backfill finishes:
// another store's run is refused, and leaves the fence as it was.
TEST_F(BackfillTest, RefusesToRunBehindAnotherStoresFence) {
  const std::string path = Legacy(500, 0);
  TS_ASSERT_OK(MigrateSchema(TestPgOptions(dsn_)));
  Sql("INSERT INTO deferred_indexes (name, definition, deferred_by, "
      "constraint_name) SELECT 'trades_pkey', "
      "pg_get_indexdef('trades_pkey'::regclass), 'another-store', "
      "'trades_pkey'");
  Sql("ALTER TABLE trades DROP CONSTRAINT trades_pkey");
  Sql("CREATE TRIGGER trades_backfill_fence BEFORE INSERT OR UPDATE OR "
      "DELETE ON trades FOR EACH STATEMENT EXECUTE FUNCTION "
      "trades_backfill_fence()");
  auto report = Backfill(path);
  EXPECT_FALSE(report.ok());
  EXPECT_THAT(std::string(report.status().message()),
              ::testing::HasSubstr("deferred by the backfill of store "
                                   "another-store"));
  EXPECT_EQ(Sql("SELECT deferred_by FROM deferred_indexes WHERE "
                "constraint_name IS NOT NULL"),
            "another-store\n");
  EXPECT_EQ(Sql("SELECT count(*) FROM trades"), "0\n");
}

// Batches are copied on two lanes side by side but commit in order: when a
// batch's commit is reported, the checkpoint is exactly its last id (never a
// later batch's, which would leave a gap behind it after a kill).
// Ctrl-C (the stop flag) ends the run after a committed batch, saying
// where; the same command resumes there and ends exact.
TEST_F(BackfillTest, StopsCleanlyAndResumesWhereItSaid) {
  const std::string path = Legacy(5000, 97);
  std::atomic<bool> stop{false};
  int64_t first = 0;
  BackfillOptions options;
  options.sqlite_path = path;
  options.pg = TestPgOptions(dsn_);
  options.batch_rows = 500;
  options.stop = &stop;
  options.after_batch = [&](int64_t last_id) {
    if (first == 0) first = last_id;
    stop = true;  // as a signal handler would, after the first commit
  };
  std::ostringstream log;
  auto stopped = RunBackfill(options, log);
  ASSERT_EQ(stopped.status().code(), absl::StatusCode::kCancelled)
      << stopped.status();
  ASSERT_GT(first, 0);
  EXPECT_NE(stopped.status().message().find(
                absl::StrCat("stopped after id ", first, " (")),
            std::string::npos)
      << stopped.status();
  auto resumed = Backfill(path);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->resumed_after_id, first);
  ExpectExactCopy(path);
  // Its own counts, and the totals over both runs; where the time went.
  EXPECT_EQ(resumed->total_copied + resumed->total_quarantined +
                resumed->total_skipped,
            5000);
  EXPECT_LT(resumed->rows_copied, resumed->total_copied);
  std::ostringstream summary;
  resumed->PrintSummary(summary);
  EXPECT_NE(summary.str().find(absl::StrCat(
                "all runs     ", resumed->total_copied, " copied, ")),
            std::string::npos)
      << summary.str();
  for (const char* stage :
       {"copy", "indexes", "primary key", "analyze", "sequence"}) {
    EXPECT_NE(summary.str().find(absl::StrCat("    ", stage, " ")),
              std::string::npos)
        << stage << " in\n"
        << summary.str();
  }
}

TEST_F(BackfillTest, TwoLanesCommitInBatchOrder) {
  const std::string path = Legacy(12000, 250);
  std::vector<int64_t> hooked;
  std::vector<std::string> checkpoints;
  auto report = BackfillWatching(path, 500, [&](int64_t last_id) {
    hooked.push_back(last_id);
    checkpoints.push_back(Sql("SELECT last_id FROM backfill_checkpoints"));
  });
  TS_ASSERT_OK(report);
  ASSERT_EQ(hooked.size(), 24u);
  for (size_t i = 0; i < hooked.size(); ++i) {
    EXPECT_EQ(hooked[i], static_cast<int64_t>(500 * (i + 1)));
    EXPECT_EQ(checkpoints[i], absl::StrCat(hooked[i], "\n"));
  }
  EXPECT_EQ(report->rows_copied + report->rows_quarantined, 12000);
  EXPECT_EQ(Sql("SELECT count(*) FROM trades"),
            absl::StrCat(report->rows_copied, "\n"));
}

// The service keeps writing while the backfill reads (WAL, short read
// transactions): a write during the run never waits for the backfill. The
// writer waits for no lock at all (busy timeout 0): had the backfill held
// one, the insert would fail with SQLITE_BUSY.
TEST_F(BackfillTest, NeverBlocksTheSqliteWriter) {
  const std::string path = Legacy(20000, 0);
  auto writer = SqliteTradeStore::Open({.path = path, .busy_timeout_ms = 0});
  ASSERT_TRUE(writer.ok()) << writer.status();
  int writes = 0;
  auto report = BackfillWatching(path, 1000, [&](int64_t) {
    Trade t = testing::SampleTrade();
    t.client_order_id = absl::StrCat("during-backfill-", writes);
    auto inserted = (*writer)->Insert(t);
    EXPECT_TRUE(inserted.ok()) << inserted.status();
    ++writes;
  });
  TS_ASSERT_OK(report);
  EXPECT_EQ(writes, 20);
  // The run copied up to its high-water mark; the new rows are the relay's.
  EXPECT_EQ(report->high_water_id, 20000);
  EXPECT_EQ(report->rows_read, 20000);
}

// A deferred index someone built again by hand does not stop the rebuild.
TEST_F(BackfillTest, RebuildToleratesAnIndexThatAlreadyExists) {
  const std::string path = Legacy(500, 0);
  TS_ASSERT_OK(MigrateSchema(TestPgOptions(dsn_)));
  Sql("INSERT INTO deferred_indexes (name, definition, deferred_by) SELECT "
      "'idx_trades_symbol', pg_get_indexdef('idx_trades_symbol'::regclass), "
      "'elsewhere'");
  auto report = Backfill(path);
  TS_ASSERT_OK(report);
  EXPECT_EQ(Sql("SELECT count(*) FROM deferred_indexes"), "0\n");
  EXPECT_EQ(Indexes(), kAllIndexes);
}

// A role that may read and write the tables but owns none of them: the
// load goes in with the indexes and the key in place, and the copy is exact.
TEST_F(BackfillTest, RunsAsALeastPrivilegeRole) {
  const std::string path = Legacy(3000, 0);
  TS_ASSERT_OK(MigrateSchema(TestPgOptions(dsn_)));
  const std::string role_dsn = testing::PasswordRole(
      db_, "backfill_app", "Backfill-Pw-5",
      "GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO "
      "backfill_app; GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN "
      "SCHEMA public TO backfill_app;");
  BackfillOptions options;
  options.sqlite_path = path;
  options.pg = TestPgOptions(role_dsn);
  options.batch_rows = 700;
  std::ostringstream log;
  auto report = RunBackfill(options, log);
  TS_ASSERT_OK(report);
  EXPECT_EQ(report->rows_copied, 3000);
  EXPECT_TRUE(report->rebuilt_indexes.empty());
  EXPECT_EQ(Indexes(), kAllIndexes);
  EXPECT_EQ(KeyAndFence(), "trades_pkey\n0\n");
  EXPECT_EQ(ExpectExactCopy(path), 3000);
  EXPECT_EQ(report->next_id, 3001);
}

TEST_F(BackfillTest, KeepsTheIndexesWhenTheTableAlreadyHasRows) {
  const std::string path = Legacy(2000, 0);
  TS_ASSERT_OK(MigrateSchema(TestPgOptions(dsn_)));
  Sql("INSERT INTO trades (id, symbol, side, quantity, price, \"timestamp\", "
      "status) VALUES (5000, 'BTC-USD', 'BUY', 1, 1, now(), 'NEW')");
  std::string during;
  auto report = BackfillWatching(path, 500, [&](int64_t) {
    if (during.empty()) during = Indexes();
  });
  TS_ASSERT_OK(report);
  EXPECT_EQ(during, kAllIndexes);
  EXPECT_TRUE(report->rebuilt_indexes.empty());
  // A table whose rows so far came from dual-write may have no statistics
  // either.
  EXPECT_EQ(Sql("SELECT count(*) FROM pg_stats WHERE tablename = "
                "'trades' AND attname = 'id'"),
            "1\n");
}

}  // namespace
}  // namespace tradestore
