// The phased store under load against the harness's real Postgres: a
// crash in dual_write, phase changes with 3 and 16 writers, a restart during
// an outage, verify after the outbox drained, a phase change picked up by
// a running store (the fixture: phased_store_fixture.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "migration/phased_store_fixture.h"
#include "tradestore/migration/phased_trade_store.h"

namespace tradestore {
namespace {

using phased_store_tests::Load;
using phased_store_tests::PhasedTradeStoreTest;
using testing::PgEnvironment;
using testing::TestPgOptions;

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
