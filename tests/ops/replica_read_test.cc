// Reads on replicas (issue 22): a store given HAProxy's replica port sends
// symbol queries and counts there only when the replica is fit, so no read
// ever returns a state older than the caller's own last write, a replica
// whose replay is paused is left for the primary once it lags past the
// bound, an unreachable or stopped replica costs nothing but a counted
// fallback, and a replica promoted away is never read again.
#include <gtest/gtest.h>

#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "testing/ha_environment.h"
#include "testing/status_matchers.h"
#include "testing/trades.h"
#include "tradestore/internal/process.h"
#include "tradestore/ops/ha_stack.h"
#include "tradestore/postgres/pg_trade_store.h"

namespace tradestore {
namespace {

using testing::HaEnvironment;

class ReplicaReadTest : public ::testing::Test {
 protected:
  void SetUp() override { stack_ = HaEnvironment::Get().WaitHealthy(); }

  std::unique_ptr<PgTradeStore> Store(const std::string& replica_dsn,
                                      int64_t max_lag_bytes = 1 << 20) {
    PgOptions o;
    o.dsn = stack_.pgbouncer_dsn;
    o.replica_dsn = replica_dsn;
    o.max_replica_lag_bytes = max_lag_bytes;
    auto store = PgTradeStore::Open(o);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  static Trade Numbered(const std::string& symbol, int n) {
    Trade t = testing::SampleTrade();
    t.symbol = symbol;
    t.timestamp = Timestamp::FromUnixMicros(1'780'000'000'000'000 + n).value();
    return t;
  }

  static size_t Visible(PgTradeStore& store, const std::string& symbol) {
    auto rows = store.QueryBySymbol(
        {.symbol = symbol,
         .from = Timestamp::FromUnixMicros(0).value(),
         .to = Timestamp::FromUnixMicros(4'000'000'000'000'000).value(),
         .limit = 10000});
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? rows->size() : 0;
  }

  // Pauses WAL replay on every replica until the returned cleanup runs.
  // Patroni resumes a paused replay by itself unless it is in maintenance
  // mode, so that is turned on for the while.
  auto PauseReplay() {
    auto& env = HaEnvironment::Get();
    TS_EXPECT_OK(ops::SetMaintenance(env.dir(), true));
    std::vector<std::string> replicas;
    for (const auto& n : stack_.nodes) {
      if (n.role != "leader") replicas.push_back(env.NodeDsn(n));
    }
    for (const auto& dsn : replicas) {
      env.Sql(dsn, "SELECT pg_wal_replay_pause()");
      const auto until =
          std::chrono::steady_clock::now() + std::chrono::minutes(1);
      while (env.Sql(dsn, "SELECT pg_get_wal_replay_pause_state()") !=
                 "paused\n" &&
             std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      EXPECT_EQ(env.Sql(dsn, "SELECT pg_get_wal_replay_pause_state()"),
                "paused\n");
    }
    return absl::Cleanup([replicas] {
      auto& env = HaEnvironment::Get();
      for (const auto& dsn : replicas) {
        env.Sql(dsn, "SELECT pg_wal_replay_resume()");
      }
      TS_EXPECT_OK(ops::SetMaintenance(env.dir(), false));
    });
  }

  // The stack's asynchronous replica: a 3-node stack has one.
  const ops::StackNode* AsyncReplica() const {
    for (const auto& n : stack_.nodes) {
      if (n.role == "replica") return &n;
    }
    ADD_FAILURE() << "no asynchronous replica\n" << stack_.ToJson();
    return nullptr;
  }

  // Reads `symbol`, which must show `rows` trades, until `store` has read
  // on its replica more than `reads` times (a 2-minute deadline ends a
  // hung test; nothing is timed). Returns whether it did.
  static bool ReadUntilReplicaServes(PgTradeStore& store,
                                     const std::string& symbol, size_t rows,
                                     int64_t reads = 0) {
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::minutes(2);
    while (store.replica_stats().replica_reads <= reads &&
           std::chrono::steady_clock::now() < until) {
      EXPECT_EQ(Visible(store, symbol), rows);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return store.replica_stats().replica_reads > reads;
  }

  // `base` with this run's number: the stack outlives a test, so a test
  // run again (--gtest_repeat) must not count the last run's trades.
  std::string Symbol(const std::string& base) const {
    return absl::StrCat(base, "-", run_);
  }

  ops::StackStatus stack_;
  const int run_ = ++runs_;
  static inline int runs_ = 0;
};

TEST_F(ReplicaReadTest, ACallerAlwaysReadsItsOwnWrites) {
  auto store = Store(stack_.replica_dsn);
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(store->Insert(Numbered(Symbol("RYW-USD"), i)).ok());
    ASSERT_EQ(Visible(*store, Symbol("RYW-USD")), static_cast<size_t>(i + 1));
  }
  // With no new write the replicas catch up and serve the reads.
  EXPECT_TRUE(ReadUntilReplicaServes(*store, Symbol("RYW-USD"), 100));
  auto count = store->Count();
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_GE(*count, 100);
}

TEST_F(ReplicaReadTest, AReplicaWhoseReplayIsPausedIsLeftForThePrimary) {
  auto writer = Store("");
  ASSERT_NE(writer, nullptr);
  {
    const auto resume = PauseReplay();
    // More WAL than the reader's bound, written by another store: the
    // reader has no write of its own to wait for, only the bound.
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(writer->Insert(Numbered(Symbol("LAG-USD"), i)).ok());
    }
    auto reader = Store(stack_.replica_dsn, /*max_lag_bytes=*/8192);
    ASSERT_NE(reader, nullptr);
    EXPECT_EQ(Visible(*reader, Symbol("LAG-USD")), 200u);
    const ReplicaReadStats stats = reader->replica_stats();
    EXPECT_EQ(stats.replica_reads, 0);
    EXPECT_EQ(stats.behind + stats.unavailable, 1) << stats.last_lag_bytes;
  }
}

TEST_F(ReplicaReadTest, AnUnreachableReplicaCostsAFallbackOnly) {
  const int port = internal::FreeLoopbackPort().value();
  auto store = Store(absl::StrCat("host=127.0.0.1 port=", port,
                                  " dbname=trades user=tradestore_app"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Insert(Numbered(Symbol("DOWN-USD"), 1)).ok());
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(Visible(*store, Symbol("DOWN-USD")), 1u);
  const ReplicaReadStats stats = store->replica_stats();
  EXPECT_EQ(stats.replica_reads, 0);
  EXPECT_EQ(stats.unavailable, 5);
}

// A replica whose node is lost (Patroni and postmaster SIGKILLed) while the
// store reads from it: every read still answers, from the primary, and once
// the node is back and has caught up the store reads there again. A second
// store on HAProxy's replica port, which then has one replica left, never
// sees an error either.
TEST_F(ReplicaReadTest, AStoppedReplicaIsLeftUntilItIsBack) {
  auto& env = HaEnvironment::Get();
  const ops::StackNode* gone = AsyncReplica();
  ASSERT_NE(gone, nullptr);
  auto store = Store(env.NodeDsn(*gone));
  auto routed = Store(stack_.replica_dsn);
  ASSERT_NE(store, nullptr);
  ASSERT_NE(routed, nullptr);
  const std::string symbol = Symbol("STOP-USD");
  ASSERT_TRUE(store->Insert(Numbered(symbol, 0)).ok());
  ASSERT_TRUE(ReadUntilReplicaServes(*store, symbol, 1)) << "never read there";

  TS_ASSERT_OK(
      ops::InjectNodeFault(env.dir(), gone->name, ops::NodeFault::kNodeLoss));
  bool restarted = false;
  const absl::Cleanup rejoin = [&env, &restarted, name = gone->name] {
    if (!restarted) TS_EXPECT_OK(ops::RestartNode(env.dir(), name));
    env.WaitHealthy();
  };
  const ReplicaReadStats before = store->replica_stats();
  for (int i = 1; i <= 20; ++i) {
    ASSERT_TRUE(store->Insert(Numbered(symbol, i)).ok());
    ASSERT_EQ(Visible(*store, symbol), static_cast<size_t>(i + 1));
    ASSERT_EQ(Visible(*routed, symbol), static_cast<size_t>(i + 1));
  }
  const ReplicaReadStats down = store->replica_stats();
  EXPECT_EQ(down.replica_reads, before.replica_reads);
  EXPECT_GT(down.unavailable, before.unavailable);

  TS_ASSERT_OK(ops::RestartNode(env.dir(), gone->name));
  restarted = true;
  env.WaitHealthy();
  EXPECT_TRUE(ReadUntilReplicaServes(*store, symbol, 21, down.replica_reads))
      << "the node came back but was never read again";
}

// A replica promoted out of the cluster (here by hand, with Patroni paused
// so it stays promoted) is a primary of its own that no longer receives the
// leader's writes. The store stops reading from it at once: the next read
// finds it out of recovery and asks the primary.
TEST_F(ReplicaReadTest, AReplicaPromotedAwayIsNeverReadAgain) {
  auto& env = HaEnvironment::Get();
  const ops::StackNode* away = AsyncReplica();
  ASSERT_NE(away, nullptr);
  const std::string away_dsn = env.NodeDsn(*away);
  auto store = Store(away_dsn);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Insert(Numbered(Symbol("PROMO-USD"), 0)).ok());
  ASSERT_TRUE(ReadUntilReplicaServes(*store, Symbol("PROMO-USD"), 1))
      << "never read there";

  TS_ASSERT_OK(ops::SetMaintenance(env.dir(), true));
  // Patroni, resumed, demotes the node, but it is on a timeline the leader
  // never had, so no rewind brings it back: it is cloned again.
  const absl::Cleanup rejoin = [&env, name = away->name] {
    TS_EXPECT_OK(ops::SetMaintenance(env.dir(), false));
    TS_EXPECT_OK(ops::ReinitNode(env.dir(), name));
    env.WaitHealthy();
  };
  // Promoted, it would archive a timeline of its own into the cluster's
  // repository, which later tests restore from.
  env.Sql(away_dsn, "ALTER SYSTEM SET archive_command = 'true'");
  env.Sql(away_dsn, "SELECT pg_reload_conf()");
  const auto reloaded =
      std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (env.Sql(away_dsn, "SHOW archive_command") != "true\n" &&
         std::chrono::steady_clock::now() < reloaded) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(env.Sql(away_dsn, "SHOW archive_command"), "true\n");
  ASSERT_EQ(env.Sql(away_dsn, "SELECT pg_promote()"), "t\n");
  ASSERT_EQ(env.Sql(away_dsn, "SELECT pg_is_in_recovery()"), "f\n");

  const ReplicaReadStats before = store->replica_stats();
  for (int i = 1; i <= 20; ++i) {
    ASSERT_TRUE(store->Insert(Numbered(Symbol("PROMO-USD"), i)).ok());
    ASSERT_EQ(Visible(*store, Symbol("PROMO-USD")), static_cast<size_t>(i + 1));
  }
  const ReplicaReadStats after = store->replica_stats();
  EXPECT_EQ(after.replica_reads, before.replica_reads);
  EXPECT_EQ(after.behind - before.behind, 20);
  // Reading there would have been stale: it has none of the new trades.
  EXPECT_EQ(env.Sql(away_dsn,
                    absl::StrCat("SELECT count(*) FROM trades WHERE symbol = '",
                                 Symbol("PROMO-USD"), "'")),
            "1\n");
}

}  // namespace
}  // namespace tradestore
