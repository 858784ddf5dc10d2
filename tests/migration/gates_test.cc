// The phase gates as pure rules over what Postgres and the outbox hold:
// each gate passes and fails on its own, without a database.
#include <gtest/gtest.h>

#include "tradestore/migration/phase.h"
#include "tradestore/postgres/phase_repository.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore {
namespace {

// Facts under which every gate into read_postgres passes.
GateFacts Passing() {
  GateFacts f;
  f.backfill = GateFacts::Backfill{true, 100, 100};
  f.latest = GateFacts::Verification{7, true, 60, 0};
  f.latest_full = f.latest;
  f.soak_s = 3 * 24 * 3600;
  return f;
}

PhaseMoveOptions Options() {
  PhaseMoveOptions o;
  o.min_soak = std::chrono::hours(48);
  o.max_verify_age = std::chrono::hours(24);
  o.max_outbox_lag = std::chrono::milliseconds(5000);
  return o;
}

Timestamp At(int64_t seconds) {
  return *Timestamp::FromUnixMicros(seconds * 1'000'000);
}

// The names of the gates that failed.
std::vector<std::string> Failed(const GateFacts& facts,
                                const OutboxStatus& outbox = {},
                                Phase target = Phase::kReadPostgres) {
  std::vector<std::string> failed;
  for (const GateCheck& g :
       CheckGates(target, facts, outbox, At(1000), Options())) {
    if (!g.passed) failed.push_back(g.name);
  }
  return failed;
}

TEST(GatesTest, AllPassOnGoodFacts) {
  const auto gates =
      CheckGates(Phase::kReadPostgres, Passing(), {}, At(1000), Options());
  ASSERT_EQ(gates.size(), 5u);
  EXPECT_EQ(gates[2].name, "soak in dual_write");
  EXPECT_TRUE(Failed(Passing()).empty());
}

TEST(GatesTest, EachGateFailsOnItsOwn) {
  GateFacts f = Passing();
  f.backfill.reset();
  EXPECT_EQ(Failed(f), std::vector<std::string>{"backfill completed"});
  f = Passing();
  f.backfill->completed = false;
  EXPECT_EQ(Failed(f), std::vector<std::string>{"backfill completed"});

  const std::vector<std::string> verification{
      "verification clean, complete and recent"};
  f = Passing();
  f.latest_full.reset();
  EXPECT_EQ(Failed(f), verification);
  f = Passing();
  f.latest->clean = false;  // a later incremental run found differences
  EXPECT_EQ(Failed(f), verification);
  f = Passing();
  f.latest_full->age_s = 25 * 3600;
  EXPECT_EQ(Failed(f), verification);

  f = Passing();
  f.soak_s = 47 * 3600;
  EXPECT_EQ(Failed(f), std::vector<std::string>{"soak in dual_write"});

  f = Passing();
  f.unresolved_quarantine = 2;
  EXPECT_EQ(Failed(f), std::vector<std::string>{"quarantine resolved"});
}

TEST(GatesTest, TheOutboxMayHoldEntriesYoungerThanTheLag) {
  OutboxStatus outbox;
  outbox.entries = 3;
  outbox.oldest = At(996);  // 4 s before now
  EXPECT_TRUE(Failed(Passing(), outbox).empty());
  outbox.oldest = At(994);  // 6 s
  EXPECT_EQ(Failed(Passing(), outbox),
            std::vector<std::string>{"outbox drained"});
}

TEST(GatesTest, ArchivedNeedsAVerifiedArchiveTakenAfterTheLastMove) {
  GateFacts f;
  EXPECT_EQ(Failed(f, {}, Phase::kArchived),
            std::vector<std::string>{"archive written and verified"});
  f.archive = GateFacts::Archive{"/a/x.db.gz", true, true, 10};
  EXPECT_TRUE(Failed(f, {}, Phase::kArchived).empty());
  f.archive->after_phase_change = false;
  EXPECT_FALSE(Failed(f, {}, Phase::kArchived).empty());
  f.archive = GateFacts::Archive{"/a/x.db.gz", false, true, 10};
  EXPECT_FALSE(Failed(f, {}, Phase::kArchived).empty());
}

}  // namespace
}  // namespace tradestore
