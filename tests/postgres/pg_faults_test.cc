// Postgres ending or refusing the store's work: each of its connections
// terminated in turn (pg_terminate_backend) under load, directly and through
// the dual-write relay; statement_timeout and
// idle_in_transaction_session_timeout hit by the store's own calls; a full
// disk (a file size limit on the server's new backends). Jepsen's
// accounting each time (testing/write_load.h): acknowledged writes stored
// exactly once, failed ones not at all.
#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "testing/pg_environment.h"
#include "testing/phases.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"
#include "testing/trades.h"
#include "testing/write_load.h"
#include "tradestore/cli/cli.h"
#include "tradestore/internal/failpoint.h"
#include "tradestore/internal/process.h"
#include "tradestore/migration/phased_trade_store.h"
#include "tradestore/ops/pg_cluster.h"
#include "tradestore/postgres/pg_test_hooks.h"
#include "tradestore/postgres/pg_trade_store.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore {
namespace {

using testing::PgEnvironment;
using testing::Steady;

class PgFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = PgEnvironment::Get().FreshMigratedDatabase();
    dsn_ = PgEnvironment::Get().pg().Dsn(db_);
  }
  void TearDown() override {
    internal::DisarmFailpoints();
    if (locker_.joinable()) ReleaseTrades();
    FreeDisk();
  }

  PgOptions Options(const std::string& server_settings = "") {
    PgOptions o = testing::TestPgOptions(
        server_settings.empty()
            ? dsn_
            : absl::StrCat(dsn_, " options='", server_settings, "'"));
    o.backoff.deadline = std::chrono::seconds(30);
    return o;
  }

  // Ends the tradestore connection with the lowest pid not ended before;
  // false when there is none right now.
  bool TerminateNext(std::set<std::string>& ended) {
    std::string not_in = "0";
    for (const auto& pid : ended) absl::StrAppend(&not_in, ",", pid);
    const std::string pid(absl::StripTrailingAsciiWhitespace(testing::Sql(
        db_, absl::StrCat("SELECT min(pid) FROM pg_stat_activity WHERE "
                          "datname = current_database() AND "
                          "application_name = 'tradestore' AND pid NOT IN (",
                          not_in, ")"))));
    if (pid.empty()) return false;
    ended.insert(pid);
    return testing::Sql(db_, absl::StrCat("SELECT pg_terminate_backend(", pid,
                                          ", 5000)")) == "t\n";
  }

  // Ends `rounds` connections in turn while `load` writes; fails (never
  // hangs) when the store opens no new connection to end for 3 minutes.
  void TerminateInTurn(testing::WriteLoad& load, int rounds) {
    std::set<std::string> ended;
    auto give_up = Steady::now() + std::chrono::minutes(3);
    for (int done = 0; done < rounds;) {
      ASSERT_TRUE(load.WaitAcks(10, Steady::now()));
      if (TerminateNext(ended)) {
        ++done;
        give_up = Steady::now() + std::chrono::minutes(3);
      }
      ASSERT_LT(Steady::now(), give_up)
          << "no new tradestore connection to end after " << done << " of "
          << rounds;
    }
  }

  void ExpectAccounted(const std::vector<testing::Outcome>& outcomes,
                       const std::string& tag) {
    const auto a = testing::Account(outcomes, testing::StoredKeys(dsn_, tag));
    EXPECT_GT(a.ok, 0);
    EXPECT_TRUE(a.clean()) << a.Problems();
    std::cout << "[ pg faults ] " << tag << ": " << a.Counts() << "\n";
  }

  // Holds an EXCLUSIVE lock on trades from another session until
  // ReleaseTrades: writes wait, reads (the test's own) do not.
  void LockTrades() {
    locker_ = std::thread([this] {
      (void)PgEnvironment::Get().pg().Psql(
          db_,
          "SET application_name = 'locker'; BEGIN; LOCK TABLE trades IN "
          "EXCLUSIVE MODE; SELECT pg_sleep(600); COMMIT;");
    });
    const auto give_up = Steady::now() + std::chrono::seconds(60);
    while (testing::Sql(db_,
                        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON "
                        "c.oid = l.relation WHERE c.relname = 'trades' AND "
                        "l.mode = 'ExclusiveLock' AND l.granted") != "1\n") {
      ASSERT_LT(Steady::now(), give_up) << "the lock was never granted";
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  void ReleaseTrades() {
    testing::Sql(db_,
                 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                 "WHERE application_name = 'locker'");
    locker_.join();
  }

  int64_t Stored(const std::string& key) {
    int64_t n = -1;
    EXPECT_TRUE(absl::SimpleAtoi(
        absl::StripTrailingAsciiWhitespace(
            testing::Sql(db_, absl::StrCat("SELECT count(*) FROM trades WHERE "
                                           "client_order_id = '",
                                           key, "'"))),
        &n));
    return n;
  }

  std::unique_ptr<PhasedTradeStore> DualWrite(const testing::TempDir& dir,
                                              const PgOptions& pg) {
    const std::string path = dir.File("store.db");
    EXPECT_TRUE(SqliteTradeStore::Open({.path = path}).ok());
    EXPECT_TRUE(testing::ForcePhaseUpTo(Options(), path, Phase::kDualWrite,
                                        "postgres faults")
                    .ok());
    PhasedStoreOptions options;
    options.sqlite_path = path;
    options.pg = pg;
    auto store = PhasedTradeStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  void ExpectVerifyClean(const std::string& path) {
    std::ostringstream out, err;
    EXPECT_EQ(cli::RunCli({"verify", "--sqlite", path, "--pg", dsn_}, out, err),
              0)
        << out.str() << err.str();
  }

  // A disk that fills up under the trades table: the table is grown past a
  // WAL segment (16 MB; a failed WAL write would be a PANIC, not a full
  // disk; ids far above the store's), then every backend the server starts
  // from now on may not write beyond the table's end, so the next page it
  // needs cannot be added.
  void FillDisk() {
    testing::Sql(db_,
                 "ALTER TABLE trades SET (autovacuum_enabled = false); "
                 "INSERT INTO trades (id, symbol, side, quantity, price, "
                 "\"timestamp\", status) SELECT 100000000 + g, 'FILL', "
                 "'BUY', 1, 1, now(), 'NEW' FROM generate_series(1, 250000) g");
    const std::string size =
        testing::SqlValue(db_, "SELECT pg_relation_size('trades')");
    int64_t bytes = 0;
    ASSERT_TRUE(absl::SimpleAtoi(size, &bytes)) << size;
    ASSERT_GT(bytes, 20 << 20);
    filled_ = true;
    ASSERT_TRUE(SetFileSizeLimit(
        PgEnvironment::Get().pg().cluster().PostmasterPid(), size));
  }
  // Space again, for the server and each of its processes.
  void FreeDisk() {
    if (!filled_) return;
    filled_ = false;
    const int postmaster = PgEnvironment::Get().pg().cluster().PostmasterPid();
    EXPECT_TRUE(SetFileSizeLimit(postmaster, "unlimited")) << postmaster;
    for (absl::string_view p : absl::StrSplit(
             testing::Sql("postgres", "SELECT pid FROM pg_stat_activity"), '\n',
             absl::SkipEmpty())) {
      int pid = 0;
      // Some have ended meanwhile (psql's own): no matter.
      if (absl::SimpleAtoi(p, &pid)) SetFileSizeLimit(pid, "unlimited");
    }
  }
  // As the server's own user: root without CAP_SYS_RESOURCE (a container)
  // may not change another user's limits.
  static bool SetFileSizeLimit(int pid, const std::string& soft) {
    auto user = ops::ServiceUser();
    if (!user.ok() || pid <= 0) return false;
    auto r = internal::RunCommand({"prlimit", "--pid", std::to_string(pid),
                                   absl::StrCat("--fsize=", soft, ":")},
                                  *user);
    return r.ok() && r->exit_code == 0;
  }

  std::string db_, dsn_;
  std::thread locker_;
  bool filled_ = false;
};

TEST_F(PgFaultsTest, EachConnectionTerminatedInTurnLosesAndDoublesNothing) {
  auto store = PgTradeStore::Open(Options());
  TS_ASSERT_OK(store);
  testing::WriteLoad load(**store, "term", 4);
  TerminateInTurn(load, 12);
  load.Stop();
  EXPECT_GE((*store)->pool_stats().connects, 12);
  ExpectAccounted(load.outcomes(), "term");
}

TEST_F(PgFaultsTest, TheRelaysConnectionsTerminatedInTurnLoseNothing) {
  testing::TempDir dir;
  auto store = DualWrite(dir, Options());
  ASSERT_NE(store, nullptr);
  // The writers rest between writes: in a tight loop under ASan they kept
  // the store's lock from the relay for minutes, so it opened no new
  // connection to end.
  testing::WriteLoad load(*store, "relay", 2, std::chrono::milliseconds(1));
  TerminateInTurn(load, 8);
  load.Stop();
  TS_ASSERT_OK(store->DrainOutbox(std::chrono::seconds(60)));
  store.reset();
  // Dual-write acknowledges on the SQLite commit: every acknowledged
  // write must have reached Postgres once through the relay.
  ExpectAccounted(load.outcomes(), "relay");
  ExpectVerifyClean(dir.File("store.db"));
}

TEST_F(PgFaultsTest, AStatementTimeoutFailsTheWriteAndWritesNothing) {
  auto store = PgTradeStore::Open(Options("-c statement_timeout=200"));
  TS_ASSERT_OK(store);
  LockTrades();
  auto blocked = (*store)->Insert(testing::KeyedTrade("timed-out"));
  ReleaseTrades();
  ASSERT_FALSE(blocked.ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(blocked.status())) << blocked.status();
  EXPECT_NE(blocked.status().message().find("statement timeout"),
            std::string::npos)
      << blocked.status();
  EXPECT_EQ(Stored("timed-out"), 0);
  TS_EXPECT_OK((*store)->Insert(testing::KeyedTrade("after")).status());
  EXPECT_EQ(Stored("after"), 1);
}

TEST_F(PgFaultsTest, TheRelayOutlastsStatementTimeouts) {
  testing::TempDir dir;
  auto store = DualWrite(dir, Options("-c statement_timeout=200"));
  ASSERT_NE(store, nullptr);
  LockTrades();
  std::vector<testing::Outcome> outcomes;
  for (int i = 0; i < 20; ++i) {
    const std::string key = absl::StrCat("locked-", i);
    const absl::Status s = store->Insert(testing::KeyedTrade(key)).status();
    TS_EXPECT_OK(s);  // acknowledged by SQLite, Postgres or not
    outcomes.push_back({testing::Outcome::kOk, key, Steady::now(), ""});
  }
  // The relay keeps failing, and keeps its backlog, while the lock holds.
  while (store->relay_stats().failures < 2) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(Stored("locked-0"), 0);
  ReleaseTrades();
  TS_ASSERT_OK(store->DrainOutbox(std::chrono::seconds(60)));
  EXPECT_NE(store->relay_stats().last_error.find("statement timeout"),
            std::string::npos)
      << store->relay_stats().last_error;
  store.reset();
  ExpectAccounted(outcomes, "locked");
  ExpectVerifyClean(dir.File("store.db"));
}

TEST_F(PgFaultsTest, AnIdleInTransactionTimeoutBeforeCommitIsRetriedOnce) {
  // The session is ended by the server while the store holds its
  // transaction open before COMMIT (the hook sleeps 20 times the limit).
  int slept = 0;
  PgTestHooks hooks;
  hooks.before_commit = [&](int) {
    if (slept++ == 0) std::this_thread::sleep_for(std::chrono::seconds(2));
  };
  PgOptions o = Options("-c idle_in_transaction_session_timeout=100");
  o.hooks = &hooks;
  auto store = PgTradeStore::Open(o);
  TS_ASSERT_OK(store);
  TS_EXPECT_OK((*store)->Insert(testing::KeyedTrade("idle")).status());
  EXPECT_GE(slept, 2);  // a second attempt committed
  EXPECT_EQ(Stored("idle"), 1);
}

TEST_F(PgFaultsTest, TheRelayRetriesABatchWhoseSessionTheServerEnded) {
  testing::TempDir dir;
  auto store =
      DualWrite(dir, Options("-c idle_in_transaction_session_timeout=100"));
  ASSERT_NE(store, nullptr);
  std::atomic<bool> slept{false};
  TS_ASSERT_OK(internal::ArmFailpoint("mirror.before_pg_commit", 1, [&] {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    slept = true;
  }));
  std::vector<testing::Outcome> outcomes;
  for (int i = 0; i < 20; ++i) {
    const std::string key = absl::StrCat("idle-", i);
    TS_EXPECT_OK(store->Insert(testing::KeyedTrade(key)).status());
    outcomes.push_back({testing::Outcome::kOk, key, Steady::now(), ""});
  }
  TS_ASSERT_OK(store->DrainOutbox(std::chrono::seconds(60)));
  EXPECT_TRUE(slept.load());
  // The batch whose session ended was run again on a new connection.
  EXPECT_GE(store->pool_stats().retries, 1);
  EXPECT_GE(store->pool_stats().connects, 2);
  store.reset();
  ExpectAccounted(outcomes, "idle");
  ExpectVerifyClean(dir.File("store.db"));
}

TEST_F(PgFaultsTest, AFullDiskFailsTheWriteAndWritesNothing) {
  ASSERT_NO_FATAL_FAILURE(FillDisk());
  PgOptions o = Options();
  o.backoff.deadline = std::chrono::seconds(2);
  auto store = PgTradeStore::Open(o);
  TS_ASSERT_OK(store);
  std::string failed;
  absl::Status why;
  for (int i = 0; i < 5000 && failed.empty(); ++i) {
    const std::string key = absl::StrCat("full-", i);
    auto r = (*store)->Insert(testing::KeyedTrade(key));
    if (!r.ok()) {
      failed = key;
      why = r.status();
    }
  }
  ASSERT_FALSE(failed.empty()) << "the table never needed a new page";
  EXPECT_FALSE(absl::IsUnknown(why)) << why;
  EXPECT_NE(why.message().find("could not extend file"), std::string::npos)
      << why;
  EXPECT_EQ(Stored(failed), 0);
  std::cout << "[ pg faults ] full disk: " << why << "\n";
  FreeDisk();
  TS_EXPECT_OK((*store)->Insert(testing::KeyedTrade(failed)).status());
  EXPECT_EQ(Stored(failed), 1);
}

TEST_F(PgFaultsTest, TheRelayKeepsItsBacklogThroughAFullDisk) {
  ASSERT_NO_FATAL_FAILURE(FillDisk());
  testing::TempDir dir;
  auto store = DualWrite(dir, Options());
  ASSERT_NE(store, nullptr);
  std::vector<testing::Outcome> outcomes;
  for (int i = 0; i < 300; ++i) {
    const std::string key = absl::StrCat("full-", i);
    TS_ASSERT_OK(store->Insert(testing::KeyedTrade(key)).status());
    outcomes.push_back({testing::Outcome::kOk, key, Steady::now(), ""});
  }
  const auto give_up = Steady::now() + std::chrono::seconds(60);
  while (store->relay_stats().last_error.find("could not extend file") ==
         std::string::npos) {
    ASSERT_LT(Steady::now(), give_up)
        << "relay: " << store->relay_stats().entries_applied << " applied, "
        << store->relay_stats().failures << " failures, last error "
        << store->relay_stats().last_error << "; stored "
        << testing::SqlValue(db_,
                             "SELECT count(*) FROM trades WHERE "
                             "client_order_id LIKE 'full-%'");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  FreeDisk();
  TS_ASSERT_OK(store->DrainOutbox(std::chrono::seconds(60)));
  EXPECT_EQ(store->relay_stats().rows_quarantined, 0);
  store.reset();
  ExpectAccounted(outcomes, "full");
  testing::Sql(db_, "DELETE FROM trades WHERE symbol = 'FILL'");
  ExpectVerifyClean(dir.File("store.db"));
}

}  // namespace
}  // namespace tradestore
