// The outbox relay on its own, against the harness's Postgres: rounds of
// at most batch_rows entries, entries deleted only once applied, a replay
// that changes nothing, a newer Postgres row never overwritten, acks once
// per interval while busy, rows a Postgres crash lost found before the ack,
// Drain up to a seq, the thread woken by Notify, and the progress each ack
// records.
#include "tradestore/migration/outbox_relay.h"

#include <gtest/gtest.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "testing/eventually.h"
#include "testing/pg_environment.h"
#include "testing/sqlite_file.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"
#include "testing/trades.h"
#include "tradestore/clock.h"
#include "tradestore/postgres/pg_mirror.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/sqlite/sqlite_trade_store.h"
#include "tradestore/sqlite/store_facts.h"

namespace tradestore {
namespace {

using testing::PgEnvironment;
using testing::SqlValue;
using testing::TestPgOptions;

class OutboxRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = PgEnvironment::Get().FreshMigratedDatabase();
    auto pool =
        PgPool::Create(TestPgOptions(PgEnvironment::Get().pg().Dsn(db_)));
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = *std::move(pool);
    mirror_ = std::make_unique<PgMirror>(pool_.get());
    auto store = SqliteTradeStore::Open({.path = dir_.File("store.db")});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  // A trade written in dual_write: the row and its outbox entry.
  int64_t Write(const std::string& key) {
    auto r = store_->InsertEnqueued(testing::KeyedTrade(key), true, nullptr);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->trade.id : 0;
  }

  std::string Pg(const std::string& sql) { return SqlValue(db_, sql); }

  // Applies `t` through `mirror` asynchronously, then confirms it: none
  // missing, and the WAL flushed past the asynchronous commit's record.
  void ExpectConfirmFlushes(PgMirror& mirror, const Trade& t) {
    auto applied = mirror.Apply({{t, ""}}, {}, PgMirror::Commit::kAsync);
    TS_ASSERT_OK(applied);
    EXPECT_EQ(applied->written, 1);
    const std::string inserted = Pg("SELECT pg_current_wal_insert_lsn()");
    auto missing = mirror.Confirm({{t.id, t.version}});
    TS_ASSERT_OK(missing);
    EXPECT_EQ(*missing, 0);
    EXPECT_EQ(
        Pg("SELECT pg_current_wal_flush_lsn() >= '" + inserted + "'::pg_lsn"),
        "t");
  }

  testing::TempDir dir_;
  std::string db_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<PgMirror> mirror_;
  std::unique_ptr<SqliteTradeStore> store_;
};

TEST_F(OutboxRelayTest, RoundsApplyABatchEachAndAckOnlyWhatTheyApplied) {
  for (const char* key : {"a", "b", "c"}) Write(key);
  OutboxRelay relay(store_.get(), mirror_.get(), {.batch_rows = 2});
  auto first = relay.DrainOnce();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, 2);
  EXPECT_EQ(Pg("SELECT count(*) FROM trades"), "2");
  EXPECT_EQ(store_->GetOutboxStatus()->entries, 1);
  EXPECT_EQ(relay.applied_through_seq(), 2);
  EXPECT_EQ(*relay.DrainOnce(), 1);
  EXPECT_EQ(*relay.DrainOnce(), 0);
  EXPECT_EQ(Pg("SELECT count(*) FROM trades"), "3");
  EXPECT_EQ(store_->GetOutboxStatus()->entries, 0);
  const RelayStats stats = relay.stats();
  EXPECT_EQ(stats.entries_applied, 3);
  EXPECT_EQ(stats.rows_written, 3);
  EXPECT_EQ(stats.rounds, 2);
  EXPECT_EQ(stats.failures, 0);
  EXPECT_EQ(stats.lag_us.size(), 3u);
}

// Each ack records the relay's rate over the last minute (or over its life
// when younger), its longest delay and the total, for `tradestore status`.
TEST_F(OutboxRelayTest, EachAckRecordsTheRateTheLagAndTheTotal) {
  SimulatedClock clock(*Timestamp::Parse("2026-12-04T10:00:00Z"));
  store_.reset();
  auto store =
      SqliteTradeStore::Open({.path = dir_.File("store.db"), .clock = &clock});
  ASSERT_TRUE(store.ok()) << store.status();
  store_ = *std::move(store);
  for (const char* key : {"a", "b", "c"}) Write(key);
  OutboxRelay relay(store_.get(), mirror_.get(),
                    {.batch_rows = 2, .clock = &clock});
  auto progress = [&] {
    auto facts = ReadSqliteStoreFacts(dir_.File("store.db"));
    EXPECT_TRUE(facts.ok()) << facts.status();
    return facts.ok() && facts->relay ? *facts->relay : RelayProgress{};
  };

  clock.Advance(std::chrono::seconds(2));
  ASSERT_EQ(*relay.DrainOnce(), 2);
  RelayProgress p = progress();
  EXPECT_EQ(p.acked_total, 2);
  EXPECT_DOUBLE_EQ(p.last.rate_per_s, 1.0);  // 2 entries in its 2 s
  EXPECT_EQ(p.last.lag_ms, 2000);
  EXPECT_EQ(p.last.at.unix_micros(), clock.Now().unix_micros());

  clock.Advance(std::chrono::seconds(70));
  ASSERT_EQ(*relay.DrainOnce(), 1);
  p = progress();
  EXPECT_EQ(p.acked_total, 3);
  EXPECT_NEAR(p.last.rate_per_s, 1.0 / 60, 1e-3);  // the first round aged out
  EXPECT_EQ(p.last.lag_ms, 72000);
}

// A crash between applying and deleting leaves the entries: applied again,
// they change nothing. A Postgres row newer than SQLite's is kept.
TEST_F(OutboxRelayTest, AReplayChangesNothingAndANewerRowIsKept) {
  const int64_t a = Write("a");
  const int64_t b = Write("b");
  OutboxRelay relay(store_.get(), mirror_.get(), {});
  TS_ASSERT_OK(relay.Drain(std::chrono::seconds(30)));
  Pg("UPDATE trades SET status = 'CANCELLED', version = 5 WHERE id = " +
     std::to_string(b));
  {
    testing::SqliteFile file(dir_.File("store.db"));
    file.Exec(absl::StrCat(
        "INSERT INTO tradestore_outbox VALUES (", testing::kNextSeqAfterDrain,
        ", ", a, ", 1, '2026-12-04T10:00:00Z'), (", testing::kNextSeqAfterDrain,
        " + 1, ", b, ", 1, '2026-12-04T10:00:00Z')"));
  }
  EXPECT_EQ(*relay.DrainOnce(), 2);
  const RelayStats stats = relay.stats();
  EXPECT_EQ(stats.rows_written, 2);
  EXPECT_EQ(stats.rows_skipped, 2);
  EXPECT_EQ(Pg("SELECT count(*) FROM trades"), "2");
  EXPECT_EQ(Pg("SELECT status || ' ' || version FROM trades WHERE id = " +
               std::to_string(b)),
            "CANCELLED 5");
}

TEST_F(OutboxRelayTest, ABusyRelayAcksOncePerIntervalAndARestartReplays) {
  SimulatedClock clock(*Timestamp::Parse("2026-12-05T10:00:00Z"));
  const RelayOptions options{.ack_interval = std::chrono::seconds(1),
                             .clock = &clock};
  const auto entries = [&] { return store_->GetOutboxStatus()->entries; };
  Write("a");
  Write("b");
  {
    OutboxRelay relay(store_.get(), mirror_.get(), options);
    EXPECT_EQ(*relay.DrainOnce(/*ack_now=*/false), 2);
    EXPECT_EQ(entries(), 0) << "a relay's first ack is due at once";
    Write("c");
    EXPECT_EQ(*relay.DrainOnce(false), 1);
    EXPECT_EQ(Pg("SELECT count(*) FROM trades"), "3");
    EXPECT_EQ(entries(), 1) << "applied, the ack waits for the interval";
    Write("d");
    clock.Advance(std::chrono::seconds(1));
    EXPECT_EQ(*relay.DrainOnce(false), 1) << "c is not applied again";
    EXPECT_EQ(entries(), 0);
    Write("e");
    EXPECT_EQ(*relay.DrainOnce(false), 1);
    EXPECT_EQ(entries(), 1);
    EXPECT_EQ(relay.stats().rows_written, 5);
    // Gone without Stop, as in a crash: e stays in the outbox.
  }
  OutboxRelay again(store_.get(), mirror_.get(), options);
  EXPECT_EQ(*again.DrainOnce(false), 1);
  EXPECT_EQ(again.stats().rows_skipped, 1) << "e replayed, changing nothing";
  EXPECT_EQ(entries(), 0);
  EXPECT_EQ(Pg("SELECT count(*) FROM trades"), "5");
}

TEST_F(OutboxRelayTest, AnEmptyOutboxAcksWhatWasApplied) {
  SimulatedClock clock(*Timestamp::Parse("2026-12-05T10:00:00Z"));
  OutboxRelay relay(store_.get(), mirror_.get(),
                    {.ack_interval = std::chrono::hours(1), .clock = &clock});
  Write("a");
  EXPECT_EQ(*relay.DrainOnce(false), 1);
  Write("b");
  EXPECT_EQ(*relay.DrainOnce(false), 1);
  EXPECT_EQ(store_->GetOutboxStatus()->entries, 1);
  EXPECT_EQ(*relay.DrainOnce(false), 0);
  EXPECT_EQ(store_->GetOutboxStatus()->entries, 0);
}

// Rounds commit asynchronously; a row Postgres then lost (here deleted, as
// a crash before the WAL flush would) is found before the ack, and every
// entry since the last ack is applied again, durably.
TEST_F(OutboxRelayTest, RowsPostgresLostAreFoundBeforeTheAckAndApplied) {
  SimulatedClock clock(*Timestamp::Parse("2026-12-05T10:00:00Z"));
  OutboxRelay relay(store_.get(), mirror_.get(),
                    {.ack_interval = std::chrono::hours(1), .clock = &clock});
  const auto entries = [&] { return store_->GetOutboxStatus()->entries; };
  Write("a");
  EXPECT_EQ(*relay.DrainOnce(false), 1);
  EXPECT_EQ(relay.applied_through_seq(), 1) << "the first ack, confirmed";
  const int64_t b = Write("b");
  Write("c");
  EXPECT_EQ(*relay.DrainOnce(false), 2);
  EXPECT_EQ(entries(), 2);
  EXPECT_EQ(relay.applied_through_seq(), 1) << "applied, not confirmed yet";
  Pg("DELETE FROM trades WHERE id = " + std::to_string(b));

  EXPECT_EQ(*relay.DrainOnce(), 2) << "both to be applied again";
  EXPECT_EQ(relay.stats().replays, 1);
  EXPECT_EQ(entries(), 2) << "nothing acked";
  EXPECT_EQ(relay.applied_through_seq(), 1);
  EXPECT_EQ(*relay.DrainOnce(), 2);
  EXPECT_EQ(relay.applied_through_seq(), 3);
  EXPECT_EQ(*relay.DrainOnce(), 0);
  EXPECT_EQ(entries(), 0);
  EXPECT_EQ(Pg("SELECT count(*) FROM trades"), "3");
  EXPECT_EQ(relay.stats().rows_written, 4) << "a, b, c, and b again";
}

TEST_F(OutboxRelayTest, ConfirmCountsRowsMissingOrOlderAndFlushesTheWal) {
  Trade t = testing::KeyedTrade("a");
  t.id = Write("a");
  ExpectConfirmFlushes(*mirror_, t);
  EXPECT_EQ(*mirror_->Confirm({{t.id, t.version + 1}}), 1)
      << "an older version counts as missing";
  EXPECT_EQ(*mirror_->Confirm({{t.id, t.version}, {t.id + 1000, 1}}), 1);
  EXPECT_EQ(*mirror_->Confirm({}), 0);
}

// The relay's role needs only its rights on trades: no function grant.
TEST_F(OutboxRelayTest, ConfirmNeedsOnlyTheRelaysRightsOnTrades) {
  auto pool = PgPool::Create(TestPgOptions(testing::PasswordRole(
      db_, "relay_app", "Relay-Pw-5",
      "GRANT SELECT, INSERT, UPDATE ON trades TO relay_app; GRANT USAGE ON "
      "SEQUENCE trades_id_seq TO relay_app;")));
  ASSERT_TRUE(pool.ok()) << pool.status();
  PgMirror mirror(pool->get());
  Trade t = testing::KeyedTrade("a");
  t.id = Write("a");
  ExpectConfirmFlushes(mirror, t);
  // The lock left the row as it was.
  EXPECT_EQ(Pg("SELECT status || ' ' || version FROM trades WHERE id = " +
               std::to_string(t.id)),
            "NEW 1");
}

TEST_F(OutboxRelayTest, DrainStopsOnceTheSeqAskedForIsApplied) {
  for (const char* key : {"a", "b", "c", "d"}) Write(key);
  OutboxRelay relay(store_.get(), mirror_.get(), {.batch_rows = 1});
  TS_ASSERT_OK(relay.Drain(std::chrono::seconds(30), /*through_seq=*/2));
  EXPECT_GE(relay.applied_through_seq(), 2);
  EXPECT_LT(relay.applied_through_seq(), 4);
  TS_ASSERT_OK(relay.Drain(std::chrono::seconds(30)));
  EXPECT_EQ(relay.applied_through_seq(), 4);
  EXPECT_EQ(Pg("SELECT count(*) FROM trades"), "4");
}

TEST_F(OutboxRelayTest, TheThreadAppliesWhatItIsToldOf) {
  // An idle wait far past the test's life: only Notify wakes the thread.
  OutboxRelay relay(store_.get(), mirror_.get(),
                    {.idle_wait = std::chrono::hours(1)});
  relay.Start();
  ASSERT_TRUE(relay.running());
  Write("a");
  relay.Notify();
  // Waits for the thread's round (no Drain here, which would apply it
  // itself).
  EXPECT_TRUE(testing::Eventually(
      [&] { return store_->GetOutboxStatus()->entries == 0; }));
  relay.Stop();
  EXPECT_EQ(relay.stats().rounds, 1);
  EXPECT_EQ(store_->GetOutboxStatus()->entries, 0);
  EXPECT_FALSE(relay.running());
  EXPECT_EQ(Pg("SELECT count(*) FROM trades"), "1");
  EXPECT_TRUE(relay.healthy());
}

}  // namespace
}  // namespace tradestore
