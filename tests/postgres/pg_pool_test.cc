// The connection pool on its own: never more connections than pool_size,
// a caller waits for one to come back (and is counted), a shutdown ends a
// wait at once, a connection the server ended is replaced.
#include "tradestore/postgres/pg_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <vector>

#include "testing/eventually.h"
#include "testing/pg_environment.h"
#include "testing/status_matchers.h"
#include "tradestore/postgres/pg_transact.h"

namespace tradestore {
namespace {

using testing::Eventually;
using testing::PgEnvironment;
using testing::SqlValue;
using testing::TestPgOptions;

class PgPoolTest : public ::testing::Test {
 protected:
  // The held calls end whatever the test's outcome: a failed assertion
  // must not leave a call holding its connection for ever.
  void TearDown() override {
    Release();
    for (auto& call : calls_) {
      if (call.valid()) call.wait();
    }
  }

  std::unique_ptr<PgPool> Pool(int size) {
    PgOptions options = TestPgOptions(PgEnvironment::Get().pg().Dsn(db_));
    options.pool_size = size;
    auto pool = PgPool::Create(options);
    EXPECT_TRUE(pool.ok()) << pool.status();
    return pool.ok() ? *std::move(pool) : nullptr;
  }

  // Starts a call that holds its connection until Release; returns its
  // index in calls_.
  size_t Hold(PgPool& pool) {
    std::shared_future<void> released = released_;
    calls_.push_back(std::async(std::launch::async, [&pool, released, this] {
      return pg::Transact(
          pool,
          [&](pqxx::work& txn) {
            txn.exec("SELECT 1");
            holding_.fetch_add(1);
            released.wait();
            return absl::OkStatus();
          },
          PgPool::Kind::kRead, pg::Bound::kNone);
    }));
    return calls_.size() - 1;
  }

  void Release() {
    if (!released_set_) release_.set_value();
    released_set_ = true;
  }

  const std::string db_ = PgEnvironment::Get().FreshDatabaseName();
  std::promise<void> release_;
  std::shared_future<void> released_ = release_.get_future().share();
  bool released_set_ = false;
  std::atomic<int> holding_{0};  // calls holding their connection now
  std::vector<std::future<absl::Status>> calls_;
};

TEST_F(PgPoolTest, ACallWaitsForAConnectionAndNoMoreAreOpened) {
  auto pool = Pool(2);
  ASSERT_NE(pool, nullptr);
  Hold(*pool);
  Hold(*pool);
  ASSERT_TRUE(Eventually([&] { return holding_.load() == 2; }));
  // Both connections are held: the third call can only wait.
  Hold(*pool);
  ASSERT_TRUE(Eventually([&] { return pool->stats().waits >= 1; }));
  EXPECT_EQ(holding_.load(), 2);
  Release();
  for (auto& call : calls_) TS_EXPECT_OK(call.get());
  EXPECT_EQ(pool->stats().connects, 2);
  EXPECT_EQ(pool->stats().waits, 1);
}

TEST_F(PgPoolTest, AShutdownEndsAWaitAtOnce) {
  auto pool = Pool(1);
  ASSERT_NE(pool, nullptr);
  const size_t holder = Hold(*pool);
  ASSERT_TRUE(Eventually([&] { return holding_.load() == 1; }));
  auto waiter = std::async(std::launch::async, [&] {
    return pg::Transact(*pool, [](pqxx::work&) { return absl::OkStatus(); });
  });
  ASSERT_TRUE(Eventually([&] { return pool->stats().waits >= 1; }));
  pool->Shutdown();
  const absl::Status waited = waiter.get();
  EXPECT_EQ(waited.code(), absl::StatusCode::kUnavailable) << waited;
  Release();
  // The holder's call was in flight before the shutdown: it ends normally.
  TS_EXPECT_OK(calls_[holder].get());
}

TEST_F(PgPoolTest, AConnectionTheServerEndedIsReplaced) {
  auto pool = Pool(1);
  ASSERT_NE(pool, nullptr);
  int pid = 0;
  auto backend = [&](pqxx::work& txn) {
    pid = txn.exec("SELECT pg_backend_pid()")[0][0].as<int>();
    return absl::OkStatus();
  };
  TS_ASSERT_OK(pg::Transact(*pool, backend, PgPool::Kind::kRead));
  const int first = pid;
  EXPECT_EQ(SqlValue(db_, "SELECT pg_terminate_backend(" +
                              std::to_string(first) + ")"),
            "t");
  // The idle connection is dead: the call gets a new one, transparently.
  TS_ASSERT_OK(pg::Transact(*pool, backend, PgPool::Kind::kRead));
  EXPECT_NE(pid, first);
  EXPECT_EQ(pool->stats().connects, 2);
}

}  // namespace
}  // namespace tradestore
