#include "tradestore/migration/backfill.h"

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
#include "tradestore/postgres/migrator.h"
#include "tradestore/postgres/pg_mirror.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/postgres/pg_trade_store.h"
#include "tradestore/postgres/pg_transact.h"
#include "tradestore/sqlite/legacy_generator.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore {
namespace {

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

TEST_F(BackfillTest, CopiesExactlyAndQuarantinesEveryKindOfBadRow) {
  const std::string path = Legacy(3000, 100);  // 30 bad rows, 9 kinds
  auto report = Backfill(path);
  TS_ASSERT_OK(report);
  EXPECT_EQ(report->rows_read, 3000);
  EXPECT_EQ(report->rows_copied, 2970);
  EXPECT_EQ(report->rows_quarantined, 30);
  EXPECT_EQ(report->rows_skipped, 0);
  EXPECT_GT(report->converted_from_float, 0);
  EXPECT_EQ(report->high_water_id, 3000);
  EXPECT_EQ(ExpectExactCopy(path), 2970);
  // Each kind of bad row, with the column and the problem.
  const std::string reasons = Sql(
      "SELECT string_agg(DISTINCT regexp_replace(reason, '\"[^\"]*\"', 'V'), "
      "' | ') FROM trades_quarantine");
  for (const char* expected :
       {"price: is NULL", "quantity: V is not a decimal number",
        "quantity: -3 must be > 0",
        "price: REAL 12345678901.5 is outside DECIMAL(18,8)",
        "symbol: V must be 1 to 20 characters", "side: V is not BUY or SELL",
        "timestamp: V is not a timestamp", "status: V is too long",
        "symbol: V is not valid UTF-8"}) {
    EXPECT_NE(reasons.find(expected), std::string::npos)
        << expected << " not in " << reasons;
  }
  // The raw values as stored, for the operator.
  EXPECT_EQ(Sql("SELECT raw->>'quantity' FROM trades_quarantine "
                "WHERE source_id = 200"),
            "one and a half\n");
  EXPECT_EQ(Sql("SELECT raw->'symbol'->>'$hex' FROM trades_quarantine "
                "WHERE source_id = 900"),
            "425443ff\n");
}

TEST_F(BackfillTest, ASecondRunChangesNothing) {
  const std::string path = Legacy(2000, 0);
  TS_ASSERT_OK(Backfill(path));
  const std::string digest =
      "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM trades t";
  const std::string before = Sql(digest);
  auto again = Backfill(path);
  TS_ASSERT_OK(again);
  EXPECT_EQ(again->rows_read, 0);  // resumed at the high-water mark
  EXPECT_EQ(again->resumed_after_id, 2000);
  // Even without the checkpoint, a replay changes nothing.
  Sql("DELETE FROM backfill_checkpoints");
  auto replay = Backfill(path);
  TS_ASSERT_OK(replay);
  EXPECT_EQ(replay->rows_read, 2000);
  EXPECT_EQ(replay->rows_copied, 0);
  EXPECT_EQ(replay->rows_skipped, 2000);
  EXPECT_EQ(Sql(digest), before);
}

TEST_F(BackfillTest, NeverOverwritesANewerVersionWrittenByDualWrite) {
  const std::string path = Legacy(1500, 0);
  TS_ASSERT_OK(MigrateSchema(TestPgOptions(dsn_)));
  // Dual-write already moved trade 777 on: Postgres holds version 3.
  {
    auto sqlite = SqliteTradeStore::Open({.path = path});
    TS_ASSERT_OK(sqlite);
    auto legacy = (*sqlite)->Get(777);
    TS_ASSERT_OK(legacy);
    auto pg = PgTradeStore::Open(TestPgOptions(dsn_));
    TS_ASSERT_OK(pg);
    TS_ASSERT_OK((*pg)->Insert(*legacy));
  }
  Sql("UPDATE trades SET version = 3, status = 'CANCELLED' WHERE id = 777");
  auto report = Backfill(path);
  TS_ASSERT_OK(report);
  EXPECT_EQ(report->rows_skipped, 1);
  EXPECT_EQ(report->rows_copied, 1499);
  EXPECT_EQ(Sql("SELECT version || ' ' || status FROM trades WHERE id = 777"),
            "3 CANCELLED\n");
}

TEST_F(BackfillTest, MovesTheSequencePastTheLargestId) {
  const std::string path = Legacy(1000, 0);
  auto report = Backfill(path);
  TS_ASSERT_OK(report);
  EXPECT_EQ(report->next_id, 1001);
  auto pg = PgTradeStore::Open(TestPgOptions(dsn_));
  TS_ASSERT_OK(pg);
  auto fresh = (*pg)->Insert(testing::SampleTrade());
  TS_ASSERT_OK(fresh);
  EXPECT_EQ(fresh->trade.id, 1001);
}

// A dry run opens SQLite read-only: on a legacy file it says the file needs
// `tradestore prepare`, and on a prepared one it reads every row; neither
// changes a byte of the file.
TEST_F(BackfillTest, DryRunReadsEverythingAndWritesNothing) {
  const std::string path = Legacy(1000, 50);
  const std::string legacy = *internal::Sha256OfFile(path);
  auto unprepared = Backfill(path, /*dry_run=*/true);
  TS_EXPECT_CODE(unprepared, absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(unprepared.status().message()),
              ::testing::HasSubstr("tradestore prepare"));
  EXPECT_EQ(*internal::Sha256OfFile(path), legacy);
  TS_ASSERT_OK(SqliteTradeStore::Open({.path = path}));  // prepares it
  const std::string prepared = *internal::Sha256OfFile(path);
  auto report = Backfill(path, /*dry_run=*/true);
  EXPECT_EQ(*internal::Sha256OfFile(path), prepared);
  TS_ASSERT_OK(report);
  EXPECT_TRUE(report->dry_run);
  EXPECT_EQ(report->rows_read, 1000);
  EXPECT_EQ(report->rows_copied, 980);
  EXPECT_EQ(report->rows_quarantined, 20);
  EXPECT_EQ(Sql("SELECT to_regclass('trades') IS NULL"), "t\n");
}

TEST_F(BackfillTest, KeepsLegacyColumnsTheTargetDoesNotKnow) {
  const std::string path = Legacy(10, 0);
  {
    auto store = SqliteTradeStore::Open({.path = path});
    TS_ASSERT_OK(store);
  }
  // An older column: added by hand the way old code would have.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         "ALTER TABLE trades ADD COLUMN venue TEXT;"
                         "UPDATE trades SET venue = 'XNAS' WHERE id = 3",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  auto report = Backfill(path);
  TS_ASSERT_OK(report);
  EXPECT_EQ(report->extra_columns, std::vector<std::string>{"venue"});
  EXPECT_EQ(Sql("SELECT extra FROM trades WHERE id = 3"),
            "{\"venue\": \"XNAS\"}\n");
  EXPECT_EQ(Sql("SELECT extra FROM trades WHERE id = 4"),
            "{\"venue\": null}\n");
}

TEST_F(BackfillTest, RefusesWhatIsNotATradeStore) {
  auto missing = Backfill(dir_.File("absent.db"));
  TS_EXPECT_CODE(missing, absl::StatusCode::kNotFound);
  const std::string empty = dir_.File("empty.db");
  {
    sqlite3* raw = nullptr;
    sqlite3_open(empty.c_str(), &raw);
    sqlite3_exec(raw, "CREATE TABLE other (x)", nullptr, nullptr, nullptr);
    sqlite3_close(raw);
  }
  auto no_table = Backfill(empty);
  TS_EXPECT_CODE(no_table, absl::StatusCode::kNotFound);
  EXPECT_NE(no_table.status().message().find("no trades table"),
            std::string::npos);
  const std::string junk = dir_.File("junk.db");
  FILE* f = fopen(junk.c_str(), "w");
  fputs("this is not a database, just some text that is long enough", f);
  fclose(f);
  auto not_db = Backfill(junk);
  TS_EXPECT_CODE(not_db, absl::StatusCode::kDataLoss);
}

TEST_F(BackfillTest, CliWritesTheJsonReport) {
  const std::string path = Legacy(500, 100);
  std::ostringstream out, err;
  const std::string json = dir_.File("report.json");
  const int code = cli::RunCli(
      {"backfill", "--sqlite", path, "--pg", dsn_, "--json", json}, out, err);
  EXPECT_EQ(code, 0) << err.str();
  EXPECT_NE(out.str().find("quarantined  5"), std::string::npos) << out.str();
  std::ifstream in(json);
  const auto report = nlohmann::json::parse(in);
  for (const char* key :
       {"rows_read", "rows_copied", "rows_quarantined", "rows_skipped",
        "converted_from_float", "duration_s", "rows_per_s"}) {
    EXPECT_TRUE(report.contains(key)) << key;
  }
  EXPECT_EQ(report["rows_read"], 500);
  EXPECT_EQ(report["rows_quarantined"], 5);
}

// Runs the real binary and kills it with SIGKILL once the checkpoint has
// passed `kill_after_id` (so the kill lands at a random point of a later
// batch); returns whether it was killed before finishing.
bool RunAndKill(const std::string& path, const std::string& dsn,
                int64_t kill_after_id, const std::string& db) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execl(TRADESTORE_CLI, "tradestore", "backfill", "--sqlite", path.c_str(),
          "--pg", dsn.c_str(), "--batch-rows", "3000",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  for (;;) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return false;  // finished
    auto last = PgEnvironment::Get().pg().Psql(
        db, "SELECT coalesce(max(last_id), 0) FROM backfill_checkpoints");
    if (last.ok() && std::atoll(last->c_str()) >= kill_after_id) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      // Its server processes may still be committing its last batch; a run
      // started before they end finds the checkpoint moving and refuses
      // ("is another backfill of this store running?"), as it should.
      EXPECT_TRUE(testing::Eventually([&] {
        auto others = PgEnvironment::Get().pg().Psql(
            db,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = "
            "current_database() AND pid <> pg_backend_pid()");
        return others.ok() && std::atoll(others->c_str()) == 0;
      }));
      return true;
    }
  }
}

TEST_F(BackfillTest, KillNineAtRandomPointsThenARerunEndsExact) {
  const std::string path = Legacy(150000, 997);
  TS_ASSERT_OK(MigrateSchema(TestPgOptions(dsn_)));
  std::mt19937 rng(std::random_device{}());
  int kills = 0;
  int64_t threshold = 0;
  for (int i = 0; i < 4; ++i) {
    threshold += 1 + rng() % 30000;
    kills += RunAndKill(path, dsn_, threshold, db_);
  }
  EXPECT_GE(kills, 1);
  auto final_run = Backfill(path);
  TS_ASSERT_OK(final_run);
  EXPECT_EQ(ExpectExactCopy(path), 150000 - 150000 / 997);
  EXPECT_EQ(Sql("SELECT last_id FROM backfill_checkpoints"), "150000\n");
  EXPECT_EQ(Indexes(), kAllIndexes);  // the drop survived the kills
  EXPECT_EQ(Sql("SELECT count(*) FROM deferred_indexes"), "0\n");
  EXPECT_EQ(KeyAndFence(), "trades_pkey\n0\n");
}

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
