// One contract for every TradeStore: the SQLite file, Postgres directly,
// Postgres through PgBouncer in transaction pool mode, and the phased store
// of the migration in dual_write, read_postgres and postgres_only (through
// PgBouncer).
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <set>
#include <thread>

#include "testing/pg_environment.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"
#include "testing/trades.h"
#include "tradestore/migration/phase.h"
#include "tradestore/migration/phased_trade_store.h"
#include "tradestore/postgres/pg_trade_store.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore {
namespace {

using testing::PgEnvironment;

enum class Backend {
  kSqlite,
  kPostgres,
  kPgBouncer,
  kDualWrite,
  kReadPostgres,
  kPostgresOnly
};

std::string Name(const ::testing::TestParamInfo<Backend>& info) {
  switch (info.param) {
    case Backend::kSqlite:
      return "Sqlite";
    case Backend::kPostgres:
      return "Postgres";
    case Backend::kPgBouncer:
      return "PostgresViaPgBouncer";
    case Backend::kDualWrite:
      return "PhasedDualWrite";
    case Backend::kReadPostgres:
      return "PhasedReadPostgres";
    case Backend::kPostgresOnly:
      return "PhasedPostgresOnly";
  }
  return "?";
}

using testing::MakeTrade;
using testing::SampleTrade;

class TradeStoreContractTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kSqlite) {
      auto store = SqliteTradeStore::Open(
          {.path = dir_.File("trade_store.db"), .clock = &clock_});
      ASSERT_TRUE(store.ok()) << store.status();
      store_ = *std::move(store);
      return;
    }
    auto& env = PgEnvironment::Get();
    const std::string db = env.FreshMigratedDatabase();
    if (GetParam() >= Backend::kDualWrite) {
      OpenPhased(env.pg().BouncerDsn(db));
      return;
    }
    PgOptions options = testing::TestPgOptions(GetParam() == Backend::kPostgres
                                                   ? env.pg().Dsn(db)
                                                   : env.pg().BouncerDsn(db));
    options.clock = &clock_;
    auto store = PgTradeStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  // The phased store, moved (and forced) to the phase under test.
  void OpenPhased(const std::string& dsn) {
    PhasedStoreOptions options;
    options.sqlite_path = dir_.File("trade_store.db");
    options.pg = testing::TestPgOptions(dsn);
    options.phase_poll = std::chrono::milliseconds(0);
    options.clock = &clock_;
    auto store = PhasedTradeStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    auto phases = PhaseStore::Open(testing::TestPgOptions(dsn));
    ASSERT_TRUE(phases.ok()) << phases.status();
    for (Phase p :
         {Phase::kDualWrite, Phase::kReadPostgres, Phase::kPostgresOnly}) {
      PhaseMoveOptions move;
      move.sqlite_path = options.sqlite_path;
      move.target = p;
      move.force = true;
      move.reason = "contract test";
      auto moved = (*phases)->Move(move);
      ASSERT_TRUE(moved.ok() && moved->after) << moved.status();
      TS_ASSERT_OK((*store)->CheckPhase());
      if (p == Phase::kDualWrite && GetParam() == Backend::kDualWrite) break;
      if (p == Phase::kReadPostgres && GetParam() == Backend::kReadPostgres) {
        break;
      }
    }
    store_ = *std::move(store);
  }

  testing::TempDir dir_;
  SimulatedClock clock_{*Timestamp::Parse("2025-01-01T00:00:00Z")};
  std::unique_ptr<TradeStore> store_;
};

TEST_P(TradeStoreContractTest, InsertAssignsIdVersionAndTimes) {
  auto r = store_->Insert(SampleTrade());
  TS_ASSERT_OK(r);
  EXPECT_TRUE(r->created);
  EXPECT_GT(r->trade.id, 0);
  EXPECT_EQ(r->trade.version, 1);
  EXPECT_EQ(r->trade.created_at, clock_.Now());
  EXPECT_EQ(r->trade.updated_at, clock_.Now());
  auto second = store_->Insert(SampleTrade());
  TS_ASSERT_OK(second);
  EXPECT_GT(second->trade.id, r->trade.id);
}

TEST_P(TradeStoreContractTest, RoundTripsEveryFieldExactly) {
  Trade t = MakeTrade("\xC3\xA9TH/\xE2\x82\xAC", "9999999999.99999999",
                      "0.00000001", "1999-12-31T23:59:59.000001Z");
  t.side = Side::kSell;
  t.status = TradeStatus::kPartiallyFilled;
  t.client_order_id = "order-\xF0\x9F\x98\x80-1";
  t.fee = *Decimal::Parse("-0.00012345");
  auto r = store_->Insert(t);
  TS_ASSERT_OK(r);
  auto got = store_->Get(r->trade.id);
  TS_ASSERT_OK(got);
  EXPECT_EQ(*got, r->trade);
  EXPECT_TRUE(SameContent(*got, t));
  EXPECT_EQ(got->quantity.ToString(), "9999999999.99999999");
  EXPECT_EQ(got->timestamp.ToIso8601(), "1999-12-31T23:59:59.000001Z");
}

TEST_P(TradeStoreContractTest, RepeatedIdempotencyKeyReturnsTheExistingTrade) {
  Trade t = SampleTrade();
  t.client_order_id = "co-1";
  auto first = store_->Insert(t);
  TS_ASSERT_OK(first);
  t.quantity = *Decimal::Parse("99");  // a retry never makes a second row
  auto again = store_->Insert(t);
  TS_ASSERT_OK(again);
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->trade, first->trade);
  EXPECT_EQ(*store_->Count(), 1);
  auto by_key = store_->GetByClientOrderId("co-1");
  TS_ASSERT_OK(by_key);
  EXPECT_EQ(by_key->id, first->trade.id);
}

TEST_P(TradeStoreContractTest, ExplicitIdIsUsedAndGuarded) {
  Trade t = SampleTrade();
  t.id = 1000;
  auto r = store_->Insert(t);
  TS_ASSERT_OK(r);
  EXPECT_EQ(r->trade.id, 1000);
  auto same = store_->Insert(t);
  TS_ASSERT_OK(same);
  EXPECT_FALSE(same->created);
  t.price = *Decimal::Parse("1");
  auto different = store_->Insert(t);
  TS_EXPECT_CODE(different, absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*store_->Count(), 1);
}

TEST_P(TradeStoreContractTest,
       InvalidTradeIsRefusedNamingFieldAndChangesNothing) {
  Trade t = SampleTrade();
  t.quantity = Decimal();
  auto r = store_->Insert(t);
  TS_EXPECT_CODE(r, absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "quantity: 0 must be > 0");
  t = SampleTrade();
  t.symbol = "WAY-TOO-LONG-SYMBOL-NAME";
  auto s = store_->Insert(t);
  TS_EXPECT_CODE(s, absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("WAY-TOO-LONG-SYMBOL-NAME"),
            std::string::npos);
  EXPECT_EQ(*store_->Count(), 0);
}

TEST_P(TradeStoreContractTest, UpdateStatusBumpsVersionAndUpdatedAt) {
  auto r = store_->Insert(SampleTrade());
  TS_ASSERT_OK(r);
  clock_.Advance(std::chrono::seconds(5));
  auto partial =
      store_->UpdateStatus(r->trade.id, TradeStatus::kPartiallyFilled);
  TS_ASSERT_OK(partial);
  EXPECT_EQ(partial->version, 2);
  EXPECT_EQ(partial->updated_at, clock_.Now());
  EXPECT_EQ(partial->created_at, r->trade.created_at);
  auto filled = store_->UpdateStatus(r->trade.id, TradeStatus::kFilled);
  TS_ASSERT_OK(filled);
  EXPECT_EQ(filled->version, 3);
  EXPECT_EQ(*store_->Get(r->trade.id), *filled);
}

TEST_P(TradeStoreContractTest, NonsenseStatusChangeIsRefusedAndChangesNothing) {
  auto r = store_->Insert(SampleTrade());
  TS_ASSERT_OK(r);
  TS_ASSERT_OK(store_->UpdateStatus(r->trade.id, TradeStatus::kFilled));
  auto back = store_->UpdateStatus(r->trade.id, TradeStatus::kNew);
  TS_EXPECT_CODE(back, absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(back.status().message().find("FILLED -> NEW"), std::string::npos);
  EXPECT_EQ(store_->Get(r->trade.id)->version, 2);
}

TEST_P(TradeStoreContractTest, RepeatingTheSameStatusChangesNothing) {
  auto r = store_->Insert(SampleTrade());
  TS_ASSERT_OK(r);
  TS_ASSERT_OK(store_->UpdateStatus(r->trade.id, TradeStatus::kCancelled));
  auto again = store_->UpdateStatus(r->trade.id, TradeStatus::kCancelled);
  TS_ASSERT_OK(again);
  EXPECT_EQ(again->version, 2);
}

// Optimistic concurrency: a change made against the version the caller
// read; a stale version is refused and changes nothing.
TEST_P(TradeStoreContractTest, AnExpectedVersionGuardsTheChange) {
  auto r = store_->Insert(SampleTrade());
  TS_ASSERT_OK(r);
  auto partial =
      store_->UpdateStatus(r->trade.id, TradeStatus::kPartiallyFilled, 1);
  TS_ASSERT_OK(partial);
  EXPECT_EQ(partial->version, 2);
  auto stale = store_->UpdateStatus(r->trade.id, TradeStatus::kFilled, 1);
  TS_EXPECT_CODE(stale, absl::StatusCode::kAborted);
  EXPECT_NE(stale.status().message().find("is at version 2, not 1"),
            std::string::npos);
  EXPECT_EQ(store_->Get(r->trade.id)->status, TradeStatus::kPartiallyFilled);
  auto filled = store_->UpdateStatus(r->trade.id, TradeStatus::kFilled, 2);
  TS_ASSERT_OK(filled);
  EXPECT_EQ(filled->version, 3);
}

TEST_P(TradeStoreContractTest, MissingTradesAreNotFound) {
  auto get = store_->Get(42);
  TS_EXPECT_CODE(get, absl::StatusCode::kNotFound);
  auto key = store_->GetByClientOrderId("nope");
  TS_EXPECT_CODE(key, absl::StatusCode::kNotFound);
  auto update = store_->UpdateStatus(42, TradeStatus::kFilled);
  TS_EXPECT_CODE(update, absl::StatusCode::kNotFound);
}

TEST_P(TradeStoreContractTest, QueryBySymbolIsNewestFirstWithinRangeAndLimit) {
  const char* times[] = {"2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z",
                         "2024-01-01T00:00:02Z", "2024-01-01T00:00:03Z",
                         "2024-01-01T00:00:02Z"};
  std::vector<int64_t> ids;
  for (const char* when : times) {
    ids.push_back(store_->Insert(MakeTrade("AAA", "1", "1", when))->trade.id);
  }
  TS_ASSERT_OK(
      store_->Insert(MakeTrade("BBB", "1", "1", "2024-01-01T00:00:02Z")));
  auto q =
      store_->QueryBySymbol({.symbol = "AAA",
                             .from = *Timestamp::Parse("2024-01-01T00:00:01Z"),
                             .to = *Timestamp::Parse("2024-01-01T00:00:03Z"),
                             .limit = 2});
  TS_ASSERT_OK(q);
  ASSERT_EQ(q->size(), 2u);
  // Two trades at :02, the higher id first; :03 is outside (to is exclusive).
  EXPECT_EQ((*q)[0].id, ids[4]);
  EXPECT_EQ((*q)[1].id, ids[2]);
  auto all =
      store_->QueryBySymbol({.symbol = "AAA",
                             .from = *Timestamp::Parse("2000-01-01T00:00:00Z"),
                             .to = *Timestamp::Parse("2100-01-01T00:00:00Z")});
  EXPECT_EQ(all->size(), 5u);
  SymbolQuery zero;
  zero.symbol = "AAA";
  zero.limit = 0;
  auto bad = store_->QueryBySymbol(zero);
  TS_EXPECT_CODE(bad, absl::StatusCode::kInvalidArgument);
}

TEST_P(TradeStoreContractTest, ScanByIdReadsEverythingInOrderInChunks) {
  for (int i = 0; i < 23; ++i) TS_ASSERT_OK(store_->Insert(SampleTrade()));
  EXPECT_EQ(*store_->Count(), 23);
  int64_t after = 0;
  int seen = 0;
  for (;;) {
    auto chunk = store_->ScanById(after, 5);
    TS_ASSERT_OK(chunk);
    if (chunk->empty()) break;
    EXPECT_LE(chunk->size(), 5u);
    for (const Trade& t : *chunk) {
      EXPECT_GT(t.id, after);
      after = t.id;
      ++seen;
    }
  }
  EXPECT_EQ(seen, 23);
}

TEST_P(TradeStoreContractTest, ConcurrentWritersNeverLoseOrDoubleATrade) {
  constexpr int kThreads = 6, kPerThread = 25;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<int64_t> ids;
  std::atomic<int> failures{0};
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kPerThread; ++i) {
        Trade t = SampleTrade();
        t.client_order_id = "w" + std::to_string(w) + "-" + std::to_string(i);
        auto r = store_->Insert(t);
        if (!r.ok()) {
          ++failures;
          continue;
        }
        std::lock_guard<std::mutex> lock(mu);
        ids.insert(r->trade.id);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ids.size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(*store_->Count(), kThreads * kPerThread);
}

TEST_P(TradeStoreContractTest, ConcurrentRetriesOfOneKeyMakeOneRow) {
  constexpr int kThreads = 6;
  std::vector<std::thread> threads;
  std::atomic<int> created{0};
  std::vector<int64_t> ids(kThreads);
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      Trade t = SampleTrade();
      t.client_order_id = "same-key";
      auto r = store_->Insert(t);
      ASSERT_TRUE(r.ok()) << r.status();
      if (r->created) ++created;
      ids[w] = r->trade.id;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  for (int64_t id : ids) EXPECT_EQ(id, ids[0]);
  EXPECT_EQ(*store_->Count(), 1);
}

INSTANTIATE_TEST_SUITE_P(AllBackends, TradeStoreContractTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres,
                                           Backend::kPgBouncer,
                                           Backend::kDualWrite,
                                           Backend::kReadPostgres,
                                           Backend::kPostgresOnly),
                         Name);

}  // namespace
}  // namespace tradestore
