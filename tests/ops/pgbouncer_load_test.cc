// PgBouncer operations under trading load, through the stack's PgBouncer
// (the project's pgbouncer.ini): PAUSE and RESUME, and a restart, while a
// writer inserts trades through the embedded store in dual_write and in
// postgres_only. No write fails, none is lost or doubled, and transaction
// pooling shows no prepared-statement error.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "testing/ops_environment.h"
#include "testing/phases.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"
#include "testing/trades.h"
#include "tradestore/clock.h"
#include "tradestore/migration/phased_trade_store.h"
#include "tradestore/ops/pg_cluster.h"
#include "tradestore/ops/pgbouncer.h"
#include "tradestore/postgres/pg_trade_store.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore {
namespace {

using testing::OpsEnvironment;

class PgBouncerLoadTest : public ::testing::TestWithParam<Phase> {
 protected:
  void SetUp() override {
    // The stack's PgBouncer serves the databases its ini names: trades.
    bouncer_ = OpsEnvironment::Get().stack().pgbouncer_dsn;
    path_ = dir_.File("store.db");
    ASSERT_TRUE(SqliteTradeStore::Open({.path = path_}).ok());
  }

  PgOptions Options(const std::string& dsn) {
    PgOptions o;
    o.dsn = dsn;
    return o;
  }

  void MoveTo(Phase phase) {
    TS_ASSERT_OK(
        testing::ForcePhaseUpTo(Options(bouncer_), path_, phase, "test"));
  }

  std::string bouncer_, path_;
  testing::TempDir dir_;
};

TEST_P(PgBouncerLoadTest, PauseResumeAndRestartFailNoWrite) {
  auto& env = OpsEnvironment::Get();
  // The trades database is shared by the suite: start from a clean table.
  env.Sql("trades", "TRUNCATE trades; TRUNCATE migration_phase_history");
  env.Sql("trades",
          "UPDATE migration_phase SET phase = 'sqlite_only', version = 0");
  MoveTo(GetParam());
  PhasedStoreOptions options;
  options.sqlite_path = path_;
  options.pg = Options(bouncer_);
  options.pg.backoff.deadline = std::chrono::seconds(60);
  options.phase_poll = std::chrono::milliseconds(0);
  options.sqlite_sync_full = false;
  auto store = PhasedTradeStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_EQ((*store)->phase(), GetParam());

  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::vector<std::string> failures;
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      Trade t = tradestore::testing::SampleTrade();
      t.client_order_id = absl::StrCat("load-", i);
      auto r = (*store)->Insert(t);
      if (r.ok()) {
        ++written;
      } else {
        failures.push_back(std::string(r.status().message()));
      }
    }
  });
  auto wait_for_writes = [&](int more) {
    const int target = written + more;
    while (written < target && failures.empty()) {
      Clock::Real()->SleepFor(std::chrono::milliseconds(5));
    }
  };
  wait_for_writes(50);
  ops::PgBouncerProcess bouncer(env.stack().dir + "/bouncer",
                                *ops::ServiceUser());
  // PAUSE (SIGUSR1) holds new server work; RESUME (SIGUSR2) lets it go.
  ASSERT_EQ(kill(bouncer.Pid(), SIGUSR1), 0);
  Clock::Real()->SleepFor(std::chrono::milliseconds(300));
  ASSERT_EQ(kill(bouncer.Pid(), SIGUSR2), 0);
  wait_for_writes(50);
  // A restart: every client connection drops; the store reconnects.
  TS_ASSERT_OK(bouncer.Stop());
  TS_ASSERT_OK(bouncer.Start(env.stack().dir + "/bouncer/pgbouncer.ini",
                             env.stack().pgbouncer_port));
  wait_for_writes(50);
  stop = true;
  writer.join();
  EXPECT_TRUE(failures.empty()) << failures.front();
  if (GetParam() == Phase::kDualWrite) {
    TS_ASSERT_OK((*store)->DrainOutbox(std::chrono::seconds(60)));
  }
  // Every acknowledged trade in Postgres exactly once.
  const std::string counts = env.Sql(
      "trades", "SELECT count(*), count(DISTINCT client_order_id) FROM trades");
  EXPECT_EQ(counts, absl::StrCat(written.load(), "|", written.load(), "\n"));
}

INSTANTIATE_TEST_SUITE_P(Phases, PgBouncerLoadTest,
                         ::testing::Values(Phase::kDualWrite,
                                           Phase::kPostgresOnly),
                         [](const auto& info) {
                           return std::string(PhaseName(info.param));
                         });

}  // namespace
}  // namespace tradestore
