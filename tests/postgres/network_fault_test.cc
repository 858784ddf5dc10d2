// Network faults between the store and Postgres, through the TCP fault
// proxy (testing/fault_proxy.h): latency, a stall, a server that accepts
// connections and never answers, every connection dropped under load, and
// the reply to COMMIT lost after the server committed. The hooks in PgTestHooks
// fake the last one inside the store; here it happens on the wire. Jepsen's
// accounting per write: acknowledged ones stored exactly once, failed ones not
// stored, unknown ones at most once.
#include <gtest/gtest.h>

#include <future>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "testing/fault_proxy.h"
#include "testing/pg_environment.h"
#include "testing/phases.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"
#include "testing/trades.h"
#include "tradestore/cli/cli.h"
#include "tradestore/internal/socket_watchdog.h"
#include "tradestore/migration/phased_trade_store.h"
#include "tradestore/postgres/pg_trade_store.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore {
namespace {

using testing::FaultProxy;
using testing::KeyedTrade;
using testing::PgEnvironment;

enum class Outcome { kOk, kFailed, kUnknown };

class NetworkFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& env = PgEnvironment::Get();
    db_ = env.FreshMigratedDatabase();
    proxy_ = std::make_unique<FaultProxy>(env.pg().port());
    // In clear: the proxy reads the protocol to find COMMIT's reply (the
    // harness's server offers TLS, which libpq prefers).
    dsn_ = absl::StrCat("host=127.0.0.1 port=", proxy_->port(), " dbname=", db_,
                        " user=postgres sslmode=disable");
  }

  PgOptions Options() {
    PgOptions o = testing::TestPgOptions(dsn_);
    o.backoff.deadline = std::chrono::seconds(30);
    return o;
  }

  // Rows stored per client_order_id, straight from Postgres.
  std::map<std::string, int> Stored() {
    std::map<std::string, int> stored;
    std::istringstream rows(testing::Sql(
        db_,
        "SELECT client_order_id || ' ' || count(*) FROM trades WHERE "
        "client_order_id IS NOT NULL GROUP BY client_order_id"));
    std::string key;
    int n = 0;
    while (rows >> key >> n) stored[key] = n;
    return stored;
  }

  // Checks every write's outcome against what Postgres holds.
  void ExpectAccounted(const std::map<std::string, Outcome>& outcomes) {
    const auto stored = Stored();
    int64_t ok = 0, failed = 0, unknown = 0;
    for (const auto& [key, outcome] : outcomes) {
      const auto it = stored.find(key);
      const int n = it == stored.end() ? 0 : it->second;
      switch (outcome) {
        case Outcome::kOk:
          ++ok;
          EXPECT_EQ(n, 1) << key << " acknowledged";
          break;
        case Outcome::kFailed:
          ++failed;
          EXPECT_EQ(n, 0) << key << " failed";
          break;
        case Outcome::kUnknown:
          ++unknown;
          EXPECT_LE(n, 1) << key << " unknown";
          break;
      }
    }
    EXPECT_GT(ok, 0);
    std::cout << "[ network ] " << ok << " acknowledged, " << failed
              << " failed, " << unknown << " unknown; " << proxy_->connections()
              << " connections through the proxy, " << proxy_->commits_dropped()
              << " COMMIT replies dropped\n";
  }

  static Outcome OutcomeOf(const absl::Status& s) {
    if (s.ok()) return Outcome::kOk;
    return absl::IsUnknown(s) ? Outcome::kUnknown : Outcome::kFailed;
  }

  std::string db_, dsn_;
  std::unique_ptr<FaultProxy> proxy_;
};

TEST_F(NetworkFaultTest, LatencyAndAStallOnlyDelay) {
  auto store = PgTradeStore::Open(Options());
  TS_ASSERT_OK(store);
  proxy_->SetLatency(std::chrono::milliseconds(5));
  std::map<std::string, Outcome> outcomes;
  for (int i = 0; i < 20; ++i) {
    const std::string key = absl::StrCat("lat-", i);
    outcomes[key] = OutcomeOf((*store)->Insert(KeyedTrade(key)).status());
  }
  proxy_->SetLatency(std::chrono::milliseconds(0));
  // A write sent into a stall waits for it; nothing is retried meanwhile.
  proxy_->Stall();
  absl::Status stalled_write = absl::UnknownError("not run");
  std::thread writer([&] {
    stalled_write = (*store)->Insert(KeyedTrade("stalled")).status();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  proxy_->Resume();
  writer.join();
  outcomes["stalled"] = OutcomeOf(stalled_write);
  TS_EXPECT_OK(stalled_write);
  for (const auto& [key, outcome] : outcomes) {
    EXPECT_EQ(outcome, Outcome::kOk) << key;
  }
  ExpectAccounted(outcomes);
}

TEST_F(NetworkFaultTest, AServerThatAcceptsButNeverAnswersFailsTheOpen) {
  proxy_->Stall();
  PgOptions o = Options();
  o.connect_timeout_s = 1;
  o.backoff.deadline = std::chrono::seconds(2);
  auto store = PgTradeStore::Open(o);
  proxy_->Resume();
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(absl::IsUnavailable(store.status())) << store.status();
  EXPECT_GE(proxy_->connections(), 1);
}

TEST_F(NetworkFaultTest, AServerThatStopsAnsweringMidCallIsGivenUp) {
  PgOptions o = Options();
  o.call_timeout_s = 1;
  o.connect_timeout_s = 1;
  o.backoff.deadline = std::chrono::seconds(3);
  // No health probe on checkout: the stalled call is the insert itself.
  o.health_check_after_idle = std::chrono::hours(1);
  std::mutex mu;
  std::vector<std::string> retried;
  o.on_retry = [&](const absl::Status& why, int, std::chrono::milliseconds,
                   std::chrono::milliseconds) {
    std::lock_guard<std::mutex> lock(mu);
    retried.emplace_back(why.message());
  };
  auto store = PgTradeStore::Open(o);
  TS_ASSERT_OK(store);
  std::map<std::string, Outcome> outcomes;
  outcomes["before"] =
      OutcomeOf((*store)->Insert(KeyedTrade("before")).status());
  // The proxy's kernel still acknowledges every packet: keepalives and
  // tcp_user_timeout see a live peer, only the call timeout ends the wait.
  const int64_t fired = internal::SocketGuardsFired();
  proxy_->Stall();
  auto done = std::async(std::launch::async, [&] {
    return (*store)->Insert(KeyedTrade("stalled")).status();
  });
  // Generous: the bound is about 1 s plus the 3 s retry deadline.
  ASSERT_EQ(done.wait_for(std::chrono::seconds(120)), std::future_status::ready)
      << "a call hung on a server that stopped answering";
  const absl::Status stalled = done.get();
  proxy_->Resume();
  EXPECT_FALSE(stalled.ok());
  ASSERT_FALSE(retried.empty()) << stalled;
  EXPECT_NE(retried[0].find("did not answer within 1 s"), std::string::npos)
      << retried[0];
  EXPECT_GE(internal::SocketGuardsFired(), fired + 1);
  outcomes["stalled"] = OutcomeOf(stalled);
  // The store works again once the server answers.
  outcomes["after"] = OutcomeOf((*store)->Insert(KeyedTrade("after")).status());
  EXPECT_EQ(outcomes["after"], Outcome::kOk);
  ExpectAccounted(outcomes);
}

TEST_F(NetworkFaultTest, ConnectionsDroppedUnderLoadLoseAndDoubleNothing) {
  auto store = PgTradeStore::Open(Options());
  TS_ASSERT_OK(store);
  std::mutex mu;
  std::map<std::string, Outcome> outcomes;
  std::atomic<int> written{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 100; ++i) {
        const std::string key = absl::StrCat("drop-", w, "-", i);
        const Outcome o = OutcomeOf((*store)->Insert(KeyedTrade(key)).status());
        std::lock_guard<std::mutex> lock(mu);
        outcomes[key] = o;
        written.fetch_add(1);
      }
    });
  }
  // Every connection dropped after each 50 writes, and two COMMIT
  // replies lost along the way.
  proxy_->DropCommitReplies(2);
  for (int next = 50; next < 400; next += 50) {
    while (written.load() < next) std::this_thread::yield();
    proxy_->DropAll();
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(outcomes.size(), 400u);
  EXPECT_GT(proxy_->connections(), 1);
  ExpectAccounted(outcomes);
}

TEST_F(NetworkFaultTest, LostCommitRepliesAreResolvedExactlyOnce) {
  auto store = PgTradeStore::Open(Options());
  TS_ASSERT_OK(store);
  proxy_->DropCommitReplies(5);
  std::map<std::string, Outcome> outcomes;
  int64_t updated = 0;
  for (int i = 0; i < 20; ++i) {
    const std::string key = absl::StrCat("commit-", i);
    auto inserted = (*store)->Insert(KeyedTrade(key));
    outcomes[key] = OutcomeOf(inserted.status());
    if (inserted.ok()) {
      auto filled =
          (*store)->UpdateStatus(inserted->trade.id, TradeStatus::kFilled);
      if (filled.ok()) {
        // Applied once: a replay would have made it version 3.
        EXPECT_EQ(filled->version, 2);
        ++updated;
      }
    }
  }
  EXPECT_EQ(proxy_->commits_dropped(), 5);
  // The store settles a lost reply by reading: every write acknowledged.
  for (const auto& [key, outcome] : outcomes) {
    EXPECT_EQ(outcome, Outcome::kOk) << key;
  }
  EXPECT_EQ(updated, 20);
  EXPECT_EQ(testing::Sql(db_, "SELECT count(*) FROM trades WHERE version = 2"),
            "20\n");
  ExpectAccounted(outcomes);
}

TEST_F(NetworkFaultTest, TheRelayThroughDroppedConnectionsLeavesVerifyClean) {
  testing::TempDir dir;
  const std::string path = dir.File("store.db");
  ASSERT_TRUE(SqliteTradeStore::Open({.path = path}).ok());
  TS_ASSERT_OK(testing::ForcePhaseUpTo(Options(), path, Phase::kDualWrite,
                                       "network faults"));
  PhasedStoreOptions options;
  options.sqlite_path = path;
  options.pg = Options();
  auto store = PhasedTradeStore::Open(options);
  TS_ASSERT_OK(store);
  proxy_->DropCommitReplies(3);
  std::map<std::string, Outcome> outcomes;
  for (int i = 0; i < 300; ++i) {
    const std::string key = absl::StrCat("relay-", i);
    outcomes[key] = OutcomeOf((*store)->Insert(KeyedTrade(key)).status());
    if (i % 60 == 59) proxy_->DropAll();
  }
  TS_ASSERT_OK((*store)->DrainOutbox(std::chrono::seconds(60)));
  store->reset();
  ExpectAccounted(outcomes);
  std::ostringstream out, err;
  EXPECT_EQ(cli::RunCli({"verify", "--sqlite", path, "--pg", dsn_}, out, err),
            0)
      << out.str() << err.str();
}

}  // namespace
}  // namespace tradestore
