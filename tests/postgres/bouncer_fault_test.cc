// Faults between PgBouncer and Postgres: a fault proxy sits behind a
// PgBouncer of the test's own (configured as the harness's), so the store
// talks to a healthy pooler whose server connections break. Every server
// connection dropped under load, and COMMIT's reply lost on its way to
// PgBouncer: PgBouncer then ends the client's connection, and the store
// must settle that COMMIT by reading, neither losing nor doubling the
// write. Jepsen's accounting
// (testing/write_load.h) each time.
#include <gtest/gtest.h>

#include <iostream>

#include "absl/strings/str_cat.h"
#include "testing/fault_proxy.h"
#include "testing/pg_environment.h"
#include "testing/status_matchers.h"
#include "testing/trades.h"
#include "testing/write_load.h"
#include "tradestore/postgres/pg_trade_store.h"

namespace tradestore {
namespace {

using testing::PgEnvironment;
using testing::Steady;

class BouncerFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& env = PgEnvironment::Get();
    db_ = env.FreshMigratedDatabase();
    proxy_ = std::make_unique<testing::FaultProxy>(env.pg().port());
    int port = 0;
    auto bouncer = env.pg().StartBouncerFor(
        proxy_->port(), absl::StrCat("bouncer-", ++started_), &port);
    ASSERT_TRUE(bouncer.ok()) << bouncer.status();
    bouncer_ = *std::move(bouncer);
    dsn_ = absl::StrCat("host=127.0.0.1 port=", port, " dbname=", db_,
                        " user=postgres");
  }
  void TearDown() override {
    if (bouncer_ != nullptr) {
      EXPECT_TRUE(bouncer_->Stop().ok());
    }
  }

  PgOptions Options() {
    PgOptions o = testing::TestPgOptions(dsn_);
    o.backoff.deadline = std::chrono::seconds(30);
    return o;
  }

  testing::Accounting ExpectAccounted(
      const std::vector<testing::Outcome>& outcomes, const std::string& tag) {
    const auto a = testing::Account(
        outcomes, testing::StoredKeys(PgEnvironment::Get().pg().Dsn(db_), tag));
    EXPECT_GT(a.ok, 0);
    EXPECT_TRUE(a.clean()) << a.Problems();
    std::cout << "[ bouncer faults ] " << tag << ": " << a.Counts() << "; "
              << proxy_->connections() << " server connections, "
              << proxy_->commits_dropped() << " COMMIT replies dropped\n";
    return a;
  }

  static inline int started_ = 0;
  std::string db_, dsn_;
  std::unique_ptr<testing::FaultProxy> proxy_;
  std::unique_ptr<ops::PgBouncerProcess> bouncer_;
};

TEST_F(BouncerFaultTest, ServerConnectionsDroppedUnderLoadLoseNothing) {
  auto store = PgTradeStore::Open(Options());
  TS_ASSERT_OK(store);
  const auto started = Steady::now();
  testing::WriteLoad load(**store, "drop", 4);
  for (int round = 0; round < 8; ++round) {
    ASSERT_TRUE(load.WaitAcks(20, Steady::now()));
    proxy_->DropAll();
  }
  ASSERT_TRUE(load.WaitAcks(20, Steady::now()));
  load.Stop();
  ExpectAccounted(load.outcomes(), "drop");
  std::cout << "[ bouncer faults ] longest write pause "
            << testing::PauseSeconds(load.outcomes(), started) << " s\n";
  EXPECT_GE(proxy_->connections(), 9);
}

TEST_F(BouncerFaultTest, ALostCommitReplyIsSettledExactlyOnce) {
  auto store = PgTradeStore::Open(Options());
  TS_ASSERT_OK(store);
  proxy_->DropCommitReplies(5);
  std::vector<testing::Outcome> outcomes;
  for (int i = 0; i < 30; ++i) {
    const Trade t = testing::KeyedTrade(absl::StrCat("commit-", i));
    auto r = (*store)->Insert(t);
    // PgBouncer ends the client's connection when its server's does: the
    // store settles the COMMIT by reading, so every write is acknowledged.
    EXPECT_TRUE(r.ok()) << r.status();
    outcomes.push_back(
        {r.ok() ? testing::Outcome::kOk : testing::Outcome::kUnknown,
         *t.client_order_id, Steady::now(), ""});
  }
  EXPECT_EQ(proxy_->commits_dropped(), 5);
  ExpectAccounted(outcomes, "commit");
}

}  // namespace
}  // namespace tradestore
