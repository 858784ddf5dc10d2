// The phased store against the harness's real Postgres: routing in every
// phase and the reverse catch-up, relay replays, a Postgres outage that
// fails no write, reads during an outage (under load:
// phased_trade_store_load_test.cc).
#include "tradestore/migration/phased_trade_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "migration/phased_store_fixture.h"

namespace tradestore {
namespace {

using ::testing::HasSubstr;

using phased_store_tests::PhasedTradeStoreTest;
using testing::PgEnvironment;

TEST_F(PhasedTradeStoreTest, RoutesWritesAndReadsByPhase) {
  auto store = OpenStore(/*run_relay=*/false);
  ASSERT_NE(store, nullptr);
  auto sqlite = Sqlite();
  // Marker rows that only one side holds show where reads go.
  Trade only_sqlite = Numbered(900);
  only_sqlite.id = 5000;
  TS_ASSERT_OK(sqlite->Insert(only_sqlite));
  Trade only_pg = Numbered(901);
  only_pg.id = 6000;
  TS_ASSERT_OK(pg_->Insert(only_pg));

  // sqlite_only: SQLite alone, no outbox.
  EXPECT_EQ(store->phase(), Phase::kSqliteOnly);
  auto a = store->Insert(Numbered(1));
  TS_ASSERT_OK(a);
  TS_EXPECT_CODE(pg_->Get(a->trade.id), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->GetOutboxStatus()->entries, 0);
  TS_EXPECT_OK(store->Get(5000));

  // dual_write: SQLite and the outbox; reads from SQLite.
  MoveTo(Phase::kDualWrite, store.get());
  auto b = store->Insert(Numbered(2));
  TS_ASSERT_OK(b);
  auto filled = store->UpdateStatus(b->trade.id, TradeStatus::kFilled);
  TS_ASSERT_OK(filled);
  EXPECT_EQ(store->GetOutboxStatus()->entries, 2);
  TS_EXPECT_CODE(pg_->Get(b->trade.id), absl::StatusCode::kNotFound);
  TS_EXPECT_OK(store->Get(5000));
  TS_EXPECT_CODE(store->Get(6000), absl::StatusCode::kNotFound);
  TS_ASSERT_OK(store->DrainOutbox(std::chrono::seconds(10)));
  auto b_in_pg = pg_->Get(b->trade.id);
  TS_ASSERT_OK(b_in_pg);
  EXPECT_EQ(*b_in_pg, *filled);
  EXPECT_EQ(store->GetOutboxStatus()->entries, 0);

  // read_postgres: writes reach Postgres before they are acknowledged;
  // reads come from Postgres.
  MoveTo(Phase::kReadPostgres, store.get());
  auto c = store->Insert(Numbered(3));
  TS_ASSERT_OK(c);
  auto c_in_pg = pg_->Get(c->trade.id);
  TS_ASSERT_OK(c_in_pg);
  EXPECT_EQ(*c_in_pg, c->trade);
  TS_EXPECT_OK(sqlite->Get(c->trade.id));
  TS_EXPECT_OK(store->Get(6000));
  TS_EXPECT_CODE(store->Get(5000), absl::StatusCode::kNotFound);

  // postgres_only: the switch drains the outbox and moves the sequence;
  // Postgres alone is written and assigns ids past every SQLite id.
  MoveTo(Phase::kPostgresOnly, store.get());
  EXPECT_EQ(Sqlite()->GetOutboxStatus()->entries, 0);
  auto d = store->Insert(Numbered(4));
  TS_ASSERT_OK(d);
  EXPECT_GT(d->trade.id, 6000);
  TS_EXPECT_OK(pg_->Get(d->trade.id));
  TS_EXPECT_CODE(sqlite->Get(d->trade.id), absl::StatusCode::kNotFound);
  auto c_filled = store->UpdateStatus(c->trade.id, TradeStatus::kFilled);
  TS_ASSERT_OK(c_filled);

  // Back to read_postgres: the reverse catch-up puts d and c's fill into
  // SQLite; SQLite takes writes again with ids past Postgres's.
  MoveTo(Phase::kReadPostgres, store.get());
  auto d_back = sqlite->Get(d->trade.id);
  TS_ASSERT_OK(d_back);
  EXPECT_EQ(*d_back, d->trade);
  EXPECT_EQ(*sqlite->Get(c->trade.id), *c_filled);
  auto e = store->Insert(Numbered(5));
  TS_ASSERT_OK(e);
  EXPECT_GT(e->trade.id, d->trade.id);
  TS_EXPECT_OK(pg_->Get(e->trade.id));

  // The catch-up copied every trade Postgres changed since the switch,
  // the marker too.
  TS_EXPECT_OK(sqlite->Get(6000));

  // Back to dual_write: reads from SQLite at once.
  MoveTo(Phase::kDualWrite, store.get());
  Trade pg_marker = Numbered(902);
  pg_marker.id = 7000;
  TS_ASSERT_OK(pg_->Insert(pg_marker));
  TS_EXPECT_OK(store->Get(5000));
  TS_EXPECT_CODE(store->Get(7000), absl::StatusCode::kNotFound);
}

TEST_F(PhasedTradeStoreTest, RelayReplaysAndReorderingAreHarmless) {
  auto store = OpenStore(/*run_relay=*/false);
  MoveTo(Phase::kDualWrite, store.get());
  auto a = store->Insert(Numbered(1));
  TS_ASSERT_OK(a);
  auto filled = store->UpdateStatus(a->trade.id, TradeStatus::kFilled);
  TS_ASSERT_OK(filled);
  TS_ASSERT_OK(store->DrainOutbox(std::chrono::seconds(10)));
  EXPECT_EQ(store->relay_stats().entries_applied, 2);
  EXPECT_EQ(store->relay_stats().rows_written, 1);  // once, newest version
  const std::string id = std::to_string(a->trade.id);
  const std::string replay = absl::StrCat(
      "INSERT INTO tradestore_outbox VALUES (", testing::kNextSeqAfterDrain,
      ", ", id, ", 1, '2025-01-01T00:00:00.000000Z'), (",
      testing::kNextSeqAfterDrain, " + 1, ", id,
      ", 2, '2025-01-01T00:00:00.000000Z')");

  // The entries again, as after a crash between Postgres's commit and the
  // SQLite ack: nothing changes.
  SqliteExec(replay);
  TS_ASSERT_OK(store->DrainOutbox(std::chrono::seconds(10)));
  EXPECT_EQ(store->relay_stats().rows_skipped, 1);
  EXPECT_EQ(*pg_->Get(a->trade.id), *filled);
  ExpectVerifyClean();

  // Postgres holding a newer version (written ahead by a synchronous
  // write): never taken back.
  Psql("UPDATE trades SET version = 10 WHERE id = " + id);
  SqliteExec(replay);
  TS_ASSERT_OK(store->DrainOutbox(std::chrono::seconds(10)));
  EXPECT_EQ(pg_->Get(a->trade.id)->version, 10);

  // Postgres holding an older version: brought forward.
  Psql("UPDATE trades SET version = 1, status = 'NEW' WHERE id = " + id);
  SqliteExec(replay);
  TS_ASSERT_OK(store->DrainOutbox(std::chrono::seconds(10)));
  EXPECT_EQ(*pg_->Get(a->trade.id), *filled);
}

TEST_F(PhasedTradeStoreTest,
       PostgresOutageNeverFailsAWriteAndTheOutboxDrainsAfter) {
  // Postgres may be retried for an hour: a write that waited for it would
  // hang the test past its timeout instead of passing.
  auto store = OpenStore(/*run_relay=*/true, std::chrono::hours(1));
  MoveTo(Phase::kDualWrite, store.get());
  auto& env = PgEnvironment::Get();
  TS_ASSERT_OK(env.pg().StopServer(/*immediate=*/true));
  std::map<int64_t, int64_t> acked;
  for (int i = 0; i < 300; ++i) {
    auto r = store->Insert(Numbered(i));
    ASSERT_TRUE(r.ok()) << r.status();
    acked[r->trade.id] = 1;
    if (i % 2 == 0) {
      auto f = store->UpdateStatus(r->trade.id, TradeStatus::kCancelled);
      ASSERT_TRUE(f.ok()) << f.status();
      acked[r->trade.id] = f->version;
    }
  }
  EXPECT_EQ(store->GetOutboxStatus()->entries, 450);
  // What the service's /metrics shows meanwhile.
  const std::string during = store->PrometheusMetrics();
  EXPECT_THAT(during, HasSubstr("tradestore_store_outbox_entries 450\n"));
  EXPECT_THAT(during,
              HasSubstr("tradestore_store_phase{phase=\"dual_write\"} 1\n"));
  EXPECT_THAT(during,
              HasSubstr("tradestore_store_phase{phase=\"sqlite_only\"} 0\n"));
  TS_ASSERT_OK(env.pg().StartServer());
  TS_ASSERT_OK(store->DrainOutbox(std::chrono::seconds(60)));
  ExpectHolds(*pg_, acked);
  ExpectVerifyClean();
  const std::string after = store->PrometheusMetrics();
  EXPECT_THAT(after, HasSubstr("tradestore_store_outbox_entries 0\n"));
  EXPECT_THAT(after,
              HasSubstr("# TYPE tradestore_store_pg_retries_total counter\n"));
}

TEST_F(PhasedTradeStoreTest, ReadPostgresDuringAnOutageStillReadsItsOwnWrites) {
  auto store = OpenStore();
  MoveTo(Phase::kDualWrite, store.get());
  MoveTo(Phase::kReadPostgres, store.get());
  auto& env = PgEnvironment::Get();
  TS_ASSERT_OK(env.pg().StopServer(/*immediate=*/true));
  auto a = store->Insert(Numbered(1));
  TS_ASSERT_OK(a);  // acknowledged on SQLite's commit, safe in the outbox
  EXPECT_GE(store->sync_fallbacks(), 1);
  auto got = store->Get(a->trade.id);
  TS_ASSERT_OK(got);
  EXPECT_EQ(*got, a->trade);
  TS_ASSERT_OK(env.pg().StartServer());
  TS_ASSERT_OK(store->DrainOutbox(std::chrono::seconds(60)));
  // Caught up: reads are Postgres's again, and it has the trade.
  auto in_pg = pg_->Get(a->trade.id);
  TS_ASSERT_OK(in_pg);
  EXPECT_EQ(*in_pg, a->trade);
  TS_EXPECT_OK(store->Get(a->trade.id));
}

}  // namespace
}  // namespace tradestore
