// The phased store against the harness's real Postgres: routing in every
// phase, a Postgres outage and a crash under load in dual_write, a phase
// change under load, the reverse catch-up and a restart during an outage.
#include "tradestore/migration/phased_trade_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "testing/pg_environment.h"
#include "testing/phases.h"
#include "testing/sqlite_file.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"
#include "testing/trades.h"
#include "tradestore/migration/backfill.h"
#include "tradestore/migration/phase.h"
#include "tradestore/postgres/pg_trade_store.h"
#include "tradestore/sqlite/phase_mirror.h"
#include "tradestore/sqlite/sqlite_trade_store.h"
#include "tradestore/verify/verifier.h"

namespace tradestore {
namespace {

using ::testing::HasSubstr;

using testing::PgEnvironment;
using testing::TestPgOptions;

// Writers that insert trades and fill some of them until stopped, keeping
// the newest acknowledged version of every trade; each rests `pause` after
// a write (writers in a tight loop can starve the relay of the store's
// lock).
class Load {
 public:
  Load(TradeStore* store, int threads,
       std::chrono::microseconds pause = std::chrono::microseconds(0))
      : store_(store), pause_(pause) {
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back([this, t] { Run(t); });
    }
  }
  ~Load() { Stop(); }

  void Stop() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  // Waits until at least `n` writes were acknowledged in all; false after
  // 3 minutes (which only ends a hung run).
  bool WaitForAcks(int64_t n) {
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::minutes(3);
    while (acked_.load() < n && !stop_) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::yield();
    }
    return acked_.load() >= n;
  }

  std::map<int64_t, int64_t> acked_versions() {
    std::lock_guard<std::mutex> lock(mu_);
    return versions_;
  }
  int64_t failed() const { return failed_.load(); }
  std::string first_error() {
    std::lock_guard<std::mutex> lock(mu_);
    return first_error_;
  }

 private:
  void Run(int thread) {
    int64_t n = 0, last_id = 0;
    while (!stop_) {
      ++n;
      if (last_id != 0 && n % 3 == 0) {
        Note(store_->UpdateStatus(last_id, TradeStatus::kFilled));
        last_id = 0;
        continue;
      }
      Trade t = testing::SampleTrade();
      t.client_order_id =
          "load-" + std::to_string(thread) + "-" + std::to_string(n);
      auto r = store_->Insert(t);
      if (r.ok()) last_id = r->trade.id;
      Note(r.ok() ? absl::StatusOr<Trade>(r->trade)
                  : absl::StatusOr<Trade>(r.status()));
      if (pause_.count() > 0) std::this_thread::sleep_for(pause_);
    }
  }

  void Note(const absl::StatusOr<Trade>& r) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!r.ok()) {
      failed_.fetch_add(1);
      if (first_error_.empty()) first_error_ = r.status().ToString();
      return;
    }
    int64_t& v = versions_[r->id];
    v = std::max(v, r->version);
    acked_.fetch_add(1);
  }

  TradeStore* store_;
  const std::chrono::microseconds pause_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> acked_{0}, failed_{0};
  std::mutex mu_;
  std::map<int64_t, int64_t> versions_;
  std::string first_error_;
  std::vector<std::thread> threads_;
};

class PhasedTradeStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& env = PgEnvironment::Get();
    db_ = env.FreshMigratedDatabase();
    dsn_ = env.pg().Dsn(db_);
    path_ = dir_.File("trade_store.db");
    auto phases = PhaseStore::Open(TestPgOptions(dsn_));
    ASSERT_TRUE(phases.ok()) << phases.status();
    phases_ = *std::move(phases);
    auto pg = PgTradeStore::Open(TestPgOptions(dsn_));
    ASSERT_TRUE(pg.ok()) << pg.status();
    pg_ = *std::move(pg);
  }

  // `pg_deadline`: how long a call may retry Postgres.
  std::unique_ptr<PhasedTradeStore> OpenStore(
      bool run_relay = true,
      std::chrono::milliseconds pg_deadline = std::chrono::seconds(10)) {
    PhasedStoreOptions options;
    options.sqlite_path = path_;
    options.pg = TestPgOptions(dsn_);
    options.pg.backoff.deadline = pg_deadline;
    options.phase_poll = std::chrono::milliseconds(0);
    options.run_relay = run_relay;
    options.sqlite_sync_full = false;
    auto store = PhasedTradeStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  // Moves the phase in Postgres (forced: the gates have their own tests)
  // and lets `store` see it.
  void MoveTo(Phase phase, PhasedTradeStore* store) {
    PhaseMoveOptions move;
    move.sqlite_path = path_;
    move.target = phase;
    move.force = true;
    move.reason = "test";
    auto moved = phases_->Move(move);
    ASSERT_TRUE(moved.ok()) << moved.status();
    ASSERT_TRUE(moved->after.has_value()) << moved->refusal;
    if (store != nullptr) {
      TS_ASSERT_OK(store->CheckPhase());
      EXPECT_EQ(store->phase(), phase);
    }
  }

  std::unique_ptr<SqliteTradeStore> Sqlite() {
    auto s = SqliteTradeStore::Open({.path = path_, .sync_full = false});
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }

  Trade Numbered(int n) {
    Trade t = testing::SampleTrade();
    t.client_order_id = "t-" + std::to_string(n);
    return t;
  }

  // Every acknowledged trade is in `store` exactly once, at its newest
  // acknowledged version; nothing else is there.
  void ExpectHolds(TradeStore& store, const std::map<int64_t, int64_t>& acked) {
    std::map<int64_t, int64_t> found;
    int64_t after = 0;
    for (;;) {
      auto chunk = store.ScanById(after, 1000);
      TS_ASSERT_OK(chunk);
      if (chunk->empty()) break;
      for (const Trade& t : *chunk) found[t.id] = t.version;
      after = chunk->back().id;
    }
    EXPECT_EQ(found.size(), acked.size());
    int64_t lost = 0, stale = 0;
    for (const auto& [id, version] : acked) {
      auto it = found.find(id);
      if (it == found.end()) {
        ++lost;
      } else if (it->second != version) {
        ++stale;
      }
    }
    EXPECT_EQ(lost, 0);
    EXPECT_EQ(stale, 0);
  }

  void SqliteExec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error),
              SQLITE_OK)
        << (error != nullptr ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }

  void Psql(const std::string& sql) {
    TS_ASSERT_OK(PgEnvironment::Get().pg().Psql(db_, sql));
  }

  void ExpectVerifyClean() {
    VerifyOptions verify;
    verify.sqlite_path = path_;
    verify.pg = TestPgOptions(dsn_);
    verify.min_age = std::chrono::seconds(0);
    std::ostringstream log;
    auto report = RunVerify(verify, log);
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_TRUE(report->clean()) << log.str();
  }

  // Moves a store under `threads` writers through every phase and back,
  // `step` acknowledged writes apart, then checks that both stores hold
  // exactly the acknowledged trades.
  void PhaseChangesUnderLoad(int threads, std::chrono::microseconds pause,
                             int step) {
    auto store = OpenStore();
    Load load(store.get(), threads, pause);
    ASSERT_TRUE(load.WaitForAcks(1 * step));
    MoveTo(Phase::kDualWrite, store.get());
    ASSERT_TRUE(load.WaitForAcks(2 * step));
    MoveTo(Phase::kReadPostgres, store.get());
    ASSERT_TRUE(load.WaitForAcks(3 * step));
    MoveTo(Phase::kPostgresOnly, store.get());
    ASSERT_TRUE(load.WaitForAcks(4 * step));
    MoveTo(Phase::kReadPostgres, store.get());  // rollback with catch-up
    ASSERT_TRUE(load.WaitForAcks(5 * step));
    MoveTo(Phase::kDualWrite, store.get());
    ASSERT_TRUE(load.WaitForAcks(6 * step));
    load.Stop();
    EXPECT_EQ(load.failed(), 0) << load.first_error();
    TS_ASSERT_OK(store->DrainOutbox(std::chrono::seconds(60)));
    const auto acked = load.acked_versions();
    // SQLite has everything: the sqlite_only writes, and the postgres_only
    // ones through the reverse catch-up.
    ExpectHolds(*Sqlite(), acked);
    // The backfill (which runs in dual_write) brings the sqlite_only writes;
    // after it both stores hold exactly the acknowledged trades.
    auto report = testing::Backfill(path_, dsn_);
    ASSERT_TRUE(report.ok()) << report.status();
    ExpectHolds(*pg_, acked);
    ExpectVerifyClean();
  }

  testing::TempDir dir_;
  std::string db_, dsn_, path_;
  std::unique_ptr<PhaseStore> phases_;
  std::unique_ptr<PgTradeStore> pg_;
};

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

TEST_F(PhasedTradeStoreTest, PostgresCrashUnderLoadLosesAndDoublesNothing) {
  auto store = OpenStore();
  MoveTo(Phase::kDualWrite, store.get());
  auto& env = PgEnvironment::Get();
  Load load(store.get(), 4);
  ASSERT_TRUE(load.WaitForAcks(500));
  TS_ASSERT_OK(env.pg().StopServer(/*immediate=*/true));  // a crash
  ASSERT_TRUE(load.WaitForAcks(1500));
  TS_ASSERT_OK(env.pg().StartServer());
  ASSERT_TRUE(load.WaitForAcks(2500));
  load.Stop();
  EXPECT_EQ(load.failed(), 0) << load.first_error();
  TS_ASSERT_OK(store->DrainOutbox(std::chrono::seconds(60)));
  const auto acked = load.acked_versions();
  ExpectHolds(*pg_, acked);
  ExpectHolds(*Sqlite(), acked);
  ExpectVerifyClean();
}

TEST_F(PhasedTradeStoreTest, PhaseChangesUnderLoadLoseAndDoubleNothing) {
  PhaseChangesUnderLoad(3, std::chrono::microseconds(0), 200);
}

// The stress: 16 threads writing through every phase change and a
// rollback. They rest 1 ms between writes: in a tight loop 16 writers
// starve the relay of the store's lock (issue 25).
TEST_F(PhasedTradeStoreTest, SixteenThreadsAcrossPhaseChangesLoseNothing) {
  PhaseChangesUnderLoad(16, std::chrono::milliseconds(1), 1000);
}

TEST_F(PhasedTradeStoreTest, RestartDuringAnOutageKnowsThePhaseFromTheMirror) {
  {
    auto store = OpenStore();
    MoveTo(Phase::kDualWrite, store.get());
  }
  auto& env = PgEnvironment::Get();
  TS_ASSERT_OK(env.pg().StopServer(/*immediate=*/true));
  PhasedStoreOptions options;
  options.sqlite_path = path_;
  options.pg = TestPgOptions(dsn_);
  options.phase_poll = std::chrono::milliseconds(0);
  options.phase_read_timeout = std::chrono::milliseconds(300);
  auto store = PhasedTradeStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->phase(), Phase::kDualWrite);
  auto a = (*store)->Insert(Numbered(1));
  TS_ASSERT_OK(a);
  EXPECT_EQ((*store)->GetOutboxStatus()->entries, 1);
  TS_ASSERT_OK(env.pg().StartServer());
  TS_ASSERT_OK((*store)->DrainOutbox(std::chrono::seconds(60)));
  TS_EXPECT_OK(pg_->Get(a->trade.id));
}

TEST_F(PhasedTradeStoreTest, VerifyReadsRowsInTheOutboxAgainOnceItDrained) {
  // Trades written an hour ago (older than --min-age) but still waiting in
  // the outbox, as after a long Postgres outage.
  SimulatedClock an_hour_ago(
      Timestamp::FromUnixMicros(Clock::Real()->Now().unix_micros() -
                                int64_t{3600} * 1000000)
          .value());
  PhasedStoreOptions options;
  options.sqlite_path = path_;
  options.pg = TestPgOptions(dsn_);
  options.phase_poll = std::chrono::milliseconds(0);
  options.run_relay = false;
  options.clock = &an_hour_ago;
  auto store = PhasedTradeStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  MoveTo(Phase::kDualWrite, store->get());
  for (int i = 0; i < 5; ++i) TS_ASSERT_OK((*store)->Insert(Numbered(i)));

  VerifyOptions verify;
  verify.sqlite_path = path_;
  verify.pg = TestPgOptions(dsn_);
  // The relay gets to it while the run waits.
  verify.outbox_wait_started = [&] {
    TS_EXPECT_OK((*store)->DrainOutbox(std::chrono::seconds(10)));
  };
  std::ostringstream log;
  auto report = RunVerify(verify, log);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->clean()) << log.str();
  EXPECT_EQ(report->rechecked_in_flight, 5);

  // No relay: after the wait they are reported, and the log says why.
  for (int i = 5; i < 7; ++i) TS_ASSERT_OK((*store)->Insert(Numbered(i)));
  verify.outbox_wait_started = nullptr;
  verify.outbox_wait = std::chrono::milliseconds(200);
  std::ostringstream log2;
  report = RunVerify(verify, log2);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->missing_in_postgres, 2);
  EXPECT_NE(log2.str().find("is the relay running?"), std::string::npos)
      << log2.str();
}

TEST_F(PhasedTradeStoreTest, ARunningStorePicksAPhaseChangeUpByItself) {
  PhasedStoreOptions options;
  options.sqlite_path = path_;
  options.pg = TestPgOptions(dsn_);
  options.phase_poll = std::chrono::milliseconds(50);
  auto store = PhasedTradeStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->phase(), Phase::kSqliteOnly);
  MoveTo(Phase::kDualWrite, nullptr);
  // Within a few polls; the bound only stops a broken build from hanging.
  const auto give_up =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while ((*store)->phase() != Phase::kDualWrite &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::yield();
  }
  ASSERT_EQ((*store)->phase(), Phase::kDualWrite);
  auto a = (*store)->Insert(Numbered(1));
  TS_ASSERT_OK(a);
  TS_ASSERT_OK((*store)->DrainOutbox(std::chrono::seconds(10)));
  TS_EXPECT_OK(pg_->Get(a->trade.id));
  auto mirrored = ReadSqlitePhase(path_);
  TS_ASSERT_OK(mirrored);
  EXPECT_EQ((*mirrored)->phase, Phase::kDualWrite);
}

}  // namespace
}  // namespace tradestore
