// The trap of synchronous replication (issue 22): a COMMIT whose wait for
// the synchronous standby is cancelled returns success, with a warning,
// though the standby never got the transaction; a failover then loses it.
// The store must treat that outcome as unknown and acknowledge the trade
// only once the standby has it.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "testing/ha_environment.h"
#include "testing/trades.h"
#include "tradestore/postgres/pg_trade_store.h"

namespace tradestore {
namespace {

using testing::HaEnvironment;

// Polls `done` every 20 ms; gives up after a minute (a hung test, not a
// timing assertion).
template <typename F>
void WaitUntil(F done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (!done() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Through PgBouncer (its warning passed on) and straight to HAProxy.
class SyncCancelTest : public ::testing::TestWithParam<bool> {};

TEST_P(SyncCancelTest, ACancelledWaitForTheStandbyIsNoAcknowledgement) {
  auto& env = HaEnvironment::Get();
  const ops::StackStatus stack = env.WaitHealthy();
  std::string leader, standby;
  for (const auto& n : stack.nodes) {
    if (n.role == "leader") leader = env.NodeDsn(n);
    if (n.role == "sync_standby") standby = env.NodeDsn(n);
  }
  ASSERT_FALSE(leader.empty() || standby.empty()) << stack.ToJson();
  int receiver = 0;
  ASSERT_TRUE(
      absl::SimpleAtoi(absl::StripAsciiWhitespace(env.Sql(
                           standby, "SELECT pid FROM pg_stat_wal_receiver")),
                       &receiver));

  PgOptions options;
  options.dsn = GetParam() ? stack.pgbouncer_dsn : stack.primary_dsn;
  options.call_timeout_s = 600;  // the test holds a commit on purpose
  auto store = PgTradeStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  // Its own key and id each run: the stack outlives a test, and a test run
  // again (--gtest_repeat) must not find the last run's trade.
  static int runs = 0;
  const int run = ++runs;
  const std::string key = absl::StrCat("sync-cancel-", getpid(), "-", run);
  const std::string count_sql = absl::StrCat(
      "SELECT count(*) FROM trades WHERE client_order_id = '", key, "'");

  std::future<absl::StatusOr<InsertResult>> insert;
  // A stopped walreceiver stays connected, so the standby stays the
  // synchronous one and every commit waits for it. Declared after the
  // future: it runs first, so the insert can finish.
  ASSERT_EQ(kill(receiver, SIGSTOP), 0);
  absl::Cleanup resume = [receiver] { kill(receiver, SIGCONT); };
  // With an id of its own the insert's COMMIT is its only one (taking an id
  // from the sequence commits too, now and then, and waits the same way).
  Trade trade = testing::KeyedTrade(key);
  trade.id = 8'000'000'000 + int64_t{getpid()} * 1'000 + run;
  insert =
      std::async(std::launch::async, [&] { return (*store)->Insert(trade); });

  const std::string waiters_sql =
      "SELECT pid || ' ' || xact_start FROM pg_stat_activity "
      "WHERE wait_event = 'SyncRep'";
  std::string first;
  WaitUntil([&] { return !(first = env.Sql(leader, waiters_sql)).empty(); });
  ASSERT_FALSE(first.empty()) << "the insert's COMMIT never waited";
  env.Sql(leader, absl::StrCat("SELECT pg_cancel_backend(",
                               first.substr(0, first.find(' ')), ")"));

  // Cancelled, the COMMIT "succeeded" on the leader alone. The store must
  // not return yet: its lookup that settles the outcome commits too, and
  // that commit waits for the standby.
  const auto ready = [&] {
    return insert.wait_for(std::chrono::seconds(0)) ==
           std::future_status::ready;
  };
  WaitUntil([&] {
    if (ready()) return true;
    const std::string now = env.Sql(leader, waiters_sql);
    return !now.empty() && now != first;
  });
  ASSERT_FALSE(ready())
      << "returned before the synchronous standby has the trade: "
      << insert.get().status();
  EXPECT_EQ(env.Sql(leader, count_sql), "1\n");
  EXPECT_EQ(env.Sql(standby, count_sql), "0\n");

  std::move(resume).Invoke();
  const absl::StatusOr<InsertResult> result = insert.get();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->created);
  WaitUntil([&] { return env.Sql(standby, count_sql) == "1\n"; });
  EXPECT_EQ(env.Sql(standby, count_sql), "1\n");
  EXPECT_EQ(env.Sql(leader, count_sql), "1\n");
}

INSTANTIATE_TEST_SUITE_P(Paths, SyncCancelTest, ::testing::Bool(),
                         [](const auto& p) {
                           return p.param ? "PgBouncer" : "Straight";
                         });

}  // namespace
}  // namespace tradestore
