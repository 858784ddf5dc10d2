#include "tradestore/migration/phase.h"

#include <gtest/gtest.h>

#include <sstream>

#include "testing/pg_environment.h"
#include "testing/phases.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"
#include "testing/trades.h"
#include "tradestore/cli/cli.h"
#include "tradestore/migration/backfill.h"
#include "tradestore/sqlite/legacy_generator.h"
#include "tradestore/sqlite/phase_mirror.h"
#include "tradestore/sqlite/sqlite_trade_store.h"
#include "tradestore/verify/verifier.h"

namespace tradestore {
namespace {

using testing::PgEnvironment;
using testing::TempDir;
using testing::TestPgOptions;

class PhaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = PgEnvironment::Get().FreshDatabaseName();
    dsn_ = PgEnvironment::Get().pg().Dsn(db_);
    path_ = dir_.File("trade_store.db");
    ASSERT_TRUE(GenerateLegacyStore({.path = path_, .rows = 800}).ok());
    auto store = PhaseStore::Open(TestPgOptions(dsn_));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  PhaseMoveResult Move(Phase to, PhaseMoveOptions options = {}) {
    options.sqlite_path = path_;
    options.target = to;
    options.changed_by = "test";
    auto result = store_->Move(options);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : PhaseMoveResult();
  }

  // Backfill and a clean full verify: what the gates want besides soak and
  // the outbox.
  void BackfillAndVerify() {
    ASSERT_TRUE(testing::Backfill(path_, dsn_).ok());
    VerifyOptions verify;
    verify.sqlite_path = path_;
    verify.pg = TestPgOptions(dsn_);
    std::ostringstream log;
    auto report = RunVerify(verify, log);
    ASSERT_TRUE(report.ok() && report->clean());
  }

  Phase Current() { return store_->Current()->phase; }

  // A trade written in dual_write an hour ago that no relay has applied.
  void AddStaleOutboxEntry() {
    SimulatedClock clock(
        Timestamp::FromUnixMicros(Clock::Real()->Now().unix_micros() -
                                  int64_t{3600} * 1000000)
            .value());
    auto sqlite = SqliteTradeStore::Open({.path = path_, .clock = &clock});
    ASSERT_TRUE(sqlite.ok()) << sqlite.status();
    int64_t seq = 0;
    TS_ASSERT_OK((*sqlite)->InsertEnqueued(testing::SampleTrade(), true, &seq));
    EXPECT_GT(seq, 0);
  }

  std::string Sql(const std::string& sql) { return testing::Sql(db_, sql); }

  TempDir dir_;
  std::string db_, dsn_, path_;
  std::unique_ptr<PhaseStore> store_;
};

TEST_F(PhaseTest, StartsInSqliteOnlyAndRefusesToSkip) {
  EXPECT_EQ(Current(), Phase::kSqliteOnly);
  const PhaseMoveResult r = Move(Phase::kPostgresOnly);
  EXPECT_TRUE(r.refused);
  EXPECT_EQ(r.refusal,
            "no skipping: from sqlite_only the next phase is dual_write");
  EXPECT_EQ(Current(), Phase::kSqliteOnly);
}

TEST_F(PhaseTest, IntoDualWriteIsUngatedAndMirroredIntoSqlite) {
  PhaseMoveOptions options;
  options.reason = "go";
  const PhaseMoveResult r = Move(Phase::kDualWrite, options);
  ASSERT_FALSE(r.refused) << r.refusal;
  ASSERT_TRUE(r.after.has_value());
  EXPECT_EQ(r.after->version, 2);
  auto mirrored = ReadSqlitePhase(path_);
  TS_ASSERT_OK(mirrored);
  ASSERT_TRUE(mirrored->has_value());
  EXPECT_EQ((*mirrored)->phase, Phase::kDualWrite);
  EXPECT_EQ((*mirrored)->version, 2);
}

TEST_F(PhaseTest, ARefusalNamesEveryFailedGate) {
  Move(Phase::kDualWrite);
  Sql("INSERT INTO trades_quarantine (source_id, reason, raw) VALUES "
      "(5, 'price: is NULL', '{}')");
  AddStaleOutboxEntry();
  const PhaseMoveResult r = Move(Phase::kReadPostgres);
  EXPECT_TRUE(r.refused);
  for (const char* gate :
       {"backfill completed: no backfill", "no full verification recorded",
        "soak in dual_write: 0.0h so far; --min-soak is 48.0h",
        "outbox drained: 1 entries waiting, the oldest 3600",
        "quarantine resolved: 1 quarantined rows"}) {
    EXPECT_NE(r.refusal.find(gate), std::string::npos) << gate << "\n"
                                                       << r.refusal;
  }
  EXPECT_EQ(Current(), Phase::kDualWrite);
}

TEST_F(PhaseTest, AllGatesPassAndTheMoveIsMadeWithoutForce) {
  Move(Phase::kDualWrite);
  BackfillAndVerify();
  PhaseMoveOptions options;
  options.min_soak = std::chrono::seconds(0);
  const PhaseMoveResult r = Move(Phase::kReadPostgres, options);
  ASSERT_EQ(r.gates.size(), 5u);
  for (const GateCheck& g : r.gates) {
    EXPECT_TRUE(g.passed) << g.name << ": " << g.detail;
  }
  EXPECT_FALSE(r.refused) << r.refusal;
  EXPECT_EQ(Current(), Phase::kReadPostgres);
  EXPECT_FALSE(store_->History()->back().forced);
}

TEST_F(PhaseTest, EachGateFailsOnItsOwnAndForceIsRecorded) {
  Move(Phase::kDualWrite);
  BackfillAndVerify();
  AddStaleOutboxEntry();
  PhaseMoveOptions options;
  options.min_soak = std::chrono::seconds(0);
  PhaseMoveResult r = Move(Phase::kReadPostgres, options);
  ASSERT_EQ(r.gates.size(), 5u);
  for (const GateCheck& g : r.gates) {
    EXPECT_EQ(g.passed, g.name != "outbox drained")
        << g.name << ": " << g.detail;
  }
  EXPECT_TRUE(r.refused);
  // A longer allowed lag lets the same outbox pass.
  options.max_outbox_lag = std::chrono::hours(2);
  options.dry_run = true;
  r = Move(Phase::kReadPostgres, options);
  EXPECT_FALSE(r.refused) << r.refusal;
  options.max_outbox_lag = std::chrono::seconds(5);
  options.dry_run = false;

  // A stale verification is refused.
  options.max_verify_age = std::chrono::seconds(0);
  Sql("UPDATE verification_runs SET finished_at = now() - interval '1 hour'");
  r = Move(Phase::kReadPostgres, options);
  EXPECT_NE(r.refusal.find("old; --max-verify-age is 0.0h"), std::string::npos)
      << r.refusal;

  // Dry run: the report, no change.
  options.max_verify_age = std::chrono::hours(24);
  options.force = true;
  options.reason = "outbox checked by hand";
  options.dry_run = true;
  r = Move(Phase::kReadPostgres, options);
  EXPECT_FALSE(r.refused);
  EXPECT_FALSE(r.after.has_value());
  EXPECT_EQ(Current(), Phase::kDualWrite);

  options.dry_run = false;
  r = Move(Phase::kReadPostgres, options);
  ASSERT_TRUE(r.after.has_value());
  EXPECT_EQ(Current(), Phase::kReadPostgres);
  auto history = store_->History();
  TS_ASSERT_OK(history);
  ASSERT_EQ(history->size(), 3u);
  EXPECT_TRUE(history->back().forced);
  EXPECT_EQ(history->back().reason, "outbox checked by hand");
  EXPECT_EQ(Sql("SELECT gates->3->>'gate' FROM migration_phase_history "
                "WHERE version = 3"),
            "outbox drained\n");
}

TEST_F(PhaseTest, ForceNeedsAReason) {
  PhaseMoveOptions options;
  options.sqlite_path = path_;
  options.target = Phase::kDualWrite;
  options.force = true;
  EXPECT_EQ(store_->Move(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PhaseTest,
       RollbackFromReadPostgresIsImmediateFromPostgresOnlyCatchesUp) {
  Move(Phase::kDualWrite);
  PhaseMoveOptions force;
  force.force = true;
  force.reason = "test";
  Move(Phase::kReadPostgres, force);
  PhaseMoveResult back = Move(Phase::kDualWrite);
  EXPECT_FALSE(back.refused) << back.refusal;
  EXPECT_TRUE(back.gates.empty());
  EXPECT_EQ(Current(), Phase::kDualWrite);

  Move(Phase::kReadPostgres, force);
  Move(Phase::kPostgresOnly, force);
  back = Move(Phase::kDualWrite);
  EXPECT_NE(back.refusal.find("roll back one phase at a time"),
            std::string::npos);
  // The reverse catch-up runs as part of the move (the phased store test
  // checks what it copies).
  back = Move(Phase::kReadPostgres);
  EXPECT_FALSE(back.refused) << back.refusal;
  ASSERT_EQ(back.gates.size(), 1u);
  EXPECT_EQ(back.gates[0].name, "reverse catch-up into SQLite");
  EXPECT_TRUE(back.gates[0].passed) << back.gates[0].detail;
  EXPECT_EQ(Current(), Phase::kReadPostgres);
}

TEST_F(PhaseTest, CliShowSetHistoryAndExitCodes) {
  std::ostringstream out, err;
  EXPECT_EQ(
      cli::RunCli({"phase", "show", "--sqlite", path_, "--pg", dsn_}, out, err),
      0)
      << err.str();
  EXPECT_NE(out.str().find("phase: sqlite_only (version 1"), std::string::npos);
  std::ostringstream out2, err2;
  EXPECT_EQ(cli::RunCli({"phase", "set", "read_postgres", "--sqlite", path_,
                         "--pg", dsn_},
                        out2, err2),
            1);
  EXPECT_NE(out2.str().find("no skipping"), std::string::npos);
  std::ostringstream out3, err3;
  EXPECT_EQ(cli::RunCli({"phase", "set", "dual_write", "--sqlite", path_,
                         "--pg", dsn_, "--reason", "soak starts"},
                        out3, err3),
            0)
      << err3.str();
  std::ostringstream out4, err4;
  EXPECT_EQ(cli::RunCli({"phase", "history", "--sqlite", path_, "--pg", dsn_},
                        out4, err4),
            0);
  EXPECT_NE(out4.str().find("sqlite_only -> dual_write"), std::string::npos)
      << out4.str();
  std::ostringstream out5, err5;
  EXPECT_EQ(
      cli::RunCli({"phase", "set", "nowhere", "--sqlite", path_, "--pg", dsn_},
                  out5, err5),
      2);
  EXPECT_NE(err5.str().find("\"nowhere\" is not one of"), std::string::npos);
  std::ostringstream out6, err6;
  EXPECT_EQ(cli::RunCli({"phase", "set", "read_postgres", "--sqlite", path_,
                         "--pg", dsn_, "--force"},
                        out6, err6),
            2);
  EXPECT_NE(err6.str().find("--force needs --reason"), std::string::npos);
}

// With Postgres out of reach, `phase show` shows the phase the SQLite file
// mirrors (what the embedded store follows then), and says so.
TEST_F(PhaseTest, ShowReadsTheSqliteMirrorWhilePostgresIsDown) {
  std::ostringstream set_out, set_err;
  ASSERT_EQ(cli::RunCli({"phase", "set", "dual_write", "--sqlite", path_,
                         "--pg", dsn_, "--reason", "soak starts"},
                        set_out, set_err),
            0)
      << set_err.str();
  std::ostringstream out, err;
  EXPECT_EQ(cli::RunCli({"phase", "show", "--sqlite", path_, "--pg",
                         "host=127.0.0.1 port=9 dbname=none connect_timeout=1",
                         "--deadline", "1s"},
                        out, err),
            0)
      << err.str();
  EXPECT_NE(out.str().find("phase: dual_write (version 2"), std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("the SQLite file's mirror"), std::string::npos);
  EXPECT_NE(err.str().find("Postgres unreachable"), std::string::npos)
      << err.str();
  // No mirror to fall back on: it could not look.
  std::ostringstream out2, err2;
  EXPECT_EQ(
      cli::RunCli({"phase", "show", "--sqlite", dir_.File("none.db"), "--pg",
                   "host=127.0.0.1 port=9 dbname=none "
                   "connect_timeout=1",
                   "--deadline", "1s"},
                  out2, err2),
      2);
}

}  // namespace
}  // namespace tradestore
