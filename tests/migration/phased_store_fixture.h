// The fixture of the phased store's tests (phased_trade_store_test.cc,
// phased_trade_store_load_test.cc): a fresh migrated database, the store
// opened in a phase, and writers that keep what was acknowledged.
#ifndef TRADESTORE_TESTS_MIGRATION_PHASED_STORE_FIXTURE_H_
#define TRADESTORE_TESTS_MIGRATION_PHASED_STORE_FIXTURE_H_

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
#include "tradestore/migration/phased_trade_store.h"
#include "tradestore/postgres/pg_trade_store.h"
#include "tradestore/sqlite/phase_mirror.h"
#include "tradestore/sqlite/sqlite_trade_store.h"
#include "tradestore/verify/verifier.h"

namespace tradestore::phased_store_tests {

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

}  // namespace tradestore::phased_store_tests

#endif  // TRADESTORE_TESTS_MIGRATION_PHASED_STORE_FIXTURE_H_
