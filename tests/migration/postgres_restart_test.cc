// Postgres crashes (`pg_ctl stop -m immediate`, then started again) at the
// failpoints of internal/failpoint.h while a backfill, the relay, verify or
// a phase move runs in this process: each reconnects and finishes, every
// row of the legacy file is accounted for, and verify is clean.
#include <gtest/gtest.h>

#include <sstream>

#include "absl/strings/str_cat.h"
#include "testing/pg_environment.h"
#include "testing/phases.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"
#include "testing/trades.h"
#include "tradestore/internal/failpoint.h"
#include "tradestore/migration/backfill.h"
#include "tradestore/migration/phase.h"
#include "tradestore/migration/phased_trade_store.h"
#include "tradestore/sqlite/legacy_generator.h"
#include "tradestore/sqlite/sqlite_trade_store.h"
#include "tradestore/verify/verifier.h"

namespace tradestore {
namespace {

using testing::PgEnvironment;
using testing::Sql;

class PostgresRestartTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = PgEnvironment::Get().FreshMigratedDatabase();
    path_ = dir_.File("store.db");
  }
  void TearDown() override { internal::DisarmFailpoints(); }

  PgOptions Options() {
    PgOptions o = testing::TestPgOptions(PgEnvironment::Get().pg().Dsn(db_));
    o.backoff.deadline = std::chrono::seconds(60);  // past the restart
    return o;
  }

  // At `point`'s first reach, Postgres crashes and comes back.
  void CrashPostgresAt(const std::string& point) {
    TS_ASSERT_OK(internal::ArmFailpoint(point, 1, [this] {
      auto& pg = PgEnvironment::Get().pg();
      EXPECT_TRUE(pg.StopServer(/*immediate=*/true).ok());
      EXPECT_TRUE(pg.StartServer().ok());
      ++restarts_;
    }));
  }

  // The embedded store on path_, in whatever phase is set.
  absl::StatusOr<std::unique_ptr<PhasedTradeStore>> OpenStore() {
    PhasedStoreOptions options;
    options.sqlite_path = path_;
    options.pg = Options();
    return PhasedTradeStore::Open(options);
  }

  absl::StatusOr<VerifyReport> Verify() {
    VerifyOptions v;
    v.sqlite_path = path_;
    v.pg = Options();
    v.min_age = std::chrono::microseconds(0);
    std::ostringstream log;
    return RunVerify(v, log);
  }

  std::string Count(const std::string& sql) {
    return testing::SqlValue(db_, sql);
  }

  testing::TempDir dir_;
  std::string db_, path_;
  int restarts_ = 0;
};

class BackfillRestartTest : public PostgresRestartTest {};

TEST_P(BackfillRestartTest, FinishesWithEveryRowAccountedFor) {
  auto made = GenerateLegacyStore(
      {.path = path_, .rows = 6000, .bad_every = 499, .seed = 3});
  ASSERT_TRUE(made.ok()) << made.status();
  CrashPostgresAt(GetParam());
  BackfillOptions b;
  b.sqlite_path = path_;
  b.pg = Options();
  b.batch_rows = 1000;
  std::ostringstream log;
  auto report = RunBackfill(b, log);
  TS_ASSERT_OK(report);
  EXPECT_EQ(restarts_, 1);
  EXPECT_EQ(Count("SELECT (SELECT count(*) FROM trades) + (SELECT count(*) "
                  "FROM trades_quarantine)"),
            "6000");
  EXPECT_EQ(Count("SELECT count(*) FROM pg_constraint WHERE conrelid = "
                  "'trades'::regclass AND contype = 'p'"),
            "1");
  auto verified = Verify();
  TS_ASSERT_OK(verified);
  EXPECT_TRUE(verified->clean());
}

INSTANTIATE_TEST_SUITE_P(Points, BackfillRestartTest,
                         ::testing::Values("backfill.batch.before_commit",
                                           "backfill.batch.after_commit",
                                           "backfill.before_index_rebuild",
                                           "backfill.before_key_restore"));

TEST_F(PostgresRestartTest, TheRelayAfterItsCommitCarriesOn) {
  ASSERT_TRUE(SqliteTradeStore::Open({.path = path_}).ok());
  TS_ASSERT_OK(testing::ForcePhaseUpTo(Options(), path_, Phase::kDualWrite,
                                       "restart test"));
  auto store = OpenStore();
  TS_ASSERT_OK(store);
  CrashPostgresAt("relay.after_pg_commit");
  for (int i = 0; i < 200; ++i) {
    Trade t = testing::SampleTrade();
    t.client_order_id = absl::StrCat("restart-", i);
    TS_ASSERT_OK((*store)->Insert(t));
  }
  TS_ASSERT_OK((*store)->DrainOutbox(std::chrono::seconds(60)));
  EXPECT_EQ(restarts_, 1);
  EXPECT_EQ(Count("SELECT count(*) FROM trades"), "200");
  store->reset();
  auto verified = Verify();
  TS_ASSERT_OK(verified);
  EXPECT_TRUE(verified->clean());
}

TEST_F(PostgresRestartTest, VerifyRecordsItsRunAfterARestart) {
  auto made = GenerateLegacyStore({.path = path_, .rows = 500});
  ASSERT_TRUE(made.ok()) << made.status();
  BackfillOptions b;
  b.sqlite_path = path_;
  b.pg = Options();
  std::ostringstream log;
  TS_ASSERT_OK(RunBackfill(b, log));
  CrashPostgresAt("verify.before_record");
  auto verified = Verify();
  TS_ASSERT_OK(verified);
  EXPECT_TRUE(verified->clean());
  EXPECT_EQ(restarts_, 1);
  EXPECT_EQ(Count("SELECT count(*) FROM verification_runs WHERE clean"), "1");
}

TEST_F(PostgresRestartTest, APhaseMoveToPostgresOnlyStillMovesTheSequence) {
  ASSERT_TRUE(SqliteTradeStore::Open({.path = path_}).ok());
  TS_ASSERT_OK(testing::ForcePhaseUpTo(Options(), path_, Phase::kReadPostgres,
                                       "restart test"));
  {
    // Ids given by SQLite reach Postgres through the relay: its sequence
    // stays behind them until the move to postgres_only.
    auto store = OpenStore();
    TS_ASSERT_OK(store);
    for (int i = 0; i < 50; ++i) {
      TS_ASSERT_OK((*store)->Insert(testing::SampleTrade()));
    }
    TS_ASSERT_OK((*store)->DrainOutbox(std::chrono::seconds(60)));
  }
  ASSERT_EQ(Count("SELECT max(id) FROM trades"), "50");
  CrashPostgresAt("phase.after_commit");
  auto phases = PhaseStore::Open(Options());
  TS_ASSERT_OK(phases);
  PhaseMoveOptions move;
  move.sqlite_path = path_;
  move.target = Phase::kPostgresOnly;
  move.force = true;
  move.reason = "restart test";
  auto moved = (*phases)->Move(move);
  TS_ASSERT_OK(moved);
  ASSERT_TRUE(moved->after.has_value()) << moved->refusal;
  EXPECT_EQ(restarts_, 1);
  // Postgres numbers new trades past every id SQLite gave.
  EXPECT_EQ(Count("SELECT nextval(pg_get_serial_sequence('trades', 'id')) > "
                  "50"),
            "t");
}

}  // namespace
}  // namespace tradestore
