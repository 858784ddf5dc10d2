#include "tradestore/migration/backfill.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "migration/backfill_fixture.h"

namespace tradestore {
namespace {

using backfill_tests::BackfillTest;
using testing::PgEnvironment;
using testing::TestPgOptions;

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

}  // namespace
}  // namespace tradestore
