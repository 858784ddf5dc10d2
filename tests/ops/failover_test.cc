// Failover drills on the HA stack (issue 22): under trade load through
// PgBouncer, the leader's postmaster is SIGKILLed, or the whole leader node
// is lost (Patroni too), or a switchover is asked for. Jepsen-style
// accounting: every write's outcome is recorded as acknowledged, failed or
// unknown; afterwards every acknowledged trade is on the new leader exactly
// once, no failed one is there, an unknown one is there at most once; the
// old leader rejoins as a replica holding them all; and where SQLite is
// still written, verify is clean. Two drills kill the leader from inside the
// relay (internal/failpoint.h): after a batch's COMMIT returned and before
// its outbox entries are deleted, and just before the COMMIT. The write pause
// is printed, never asserted (tools/bench/failover_bench measures it over many
// failovers).
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "testing/ha_environment.h"
#include "testing/phases.h"
#include "testing/status_matchers.h"
#include "testing/write_load.h"
#include "tradestore/cli/cli.h"
#include "tradestore/internal/failpoint.h"
#include "tradestore/migration/phased_trade_store.h"
#include "tradestore/ops/ha_stack.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore {
namespace {

using testing::HaEnvironment;
using testing::Steady;

enum class Fault {
  kPostmasterCrash,
  kNodeLoss,
  kSwitchover,
  kCrashAfterRelayCommit,
  kCrashBeforeRelayCommit
};

std::string FaultName(Fault f) {
  switch (f) {
    case Fault::kPostmasterCrash:
      return "postmaster_crash";
    case Fault::kNodeLoss:
      return "node_loss";
    case Fault::kSwitchover:
      return "switchover";
    case Fault::kCrashAfterRelayCommit:
      return "crash_after_relay_commit";
    case Fault::kCrashBeforeRelayCommit:
      return "crash_before_relay_commit";
  }
  return "";
}

std::string Leader(const ops::StackStatus& s) {
  for (const auto& n : s.nodes) {
    if (n.role == "leader") return n.name;
  }
  return "";
}

// How often the node's Patroni callback (tools/postgres/
// patroni_member_slots.py) made a new leader's member slots.
int MemberSlotsMade(const std::string& dir, const std::string& node) {
  std::ifstream in(dir + "/" + node + "/patroni.log");
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    if (absl::StartsWith(line, "member slots ready:")) ++n;
  }
  return n;
}

struct Drill {
  Phase phase;
  Fault fault;
};

class FailoverTest : public ::testing::TestWithParam<Drill> {
 protected:
  void SetUp() override {
    auto& env = HaEnvironment::Get();
    stack_ = env.WaitHealthy();
    path_ = env.NewDir() + "/store.db";
    // Every drill starts from an empty table in sqlite_only and moves up to
    // its phase, so verify compares this drill's trades only.
    env.Sql(absl::StrReplaceAll(stack_.admin_dsn,
                                {{"dbname=postgres", "dbname=trades"}}),
            "TRUNCATE trades; "
            "UPDATE migration_phase SET phase = 'sqlite_only', version = 0; "
            "DELETE FROM migration_phase_history WHERE version > 0");
    // The store the service had before the migration.
    ASSERT_TRUE(
        SqliteTradeStore::Open({.path = path_, .sync_full = false}).ok());
    TS_ASSERT_OK(testing::ForcePhaseUpTo(Options(), path_, GetParam().phase,
                                         "failover drill"));
  }

  PgOptions Options() {
    PgOptions o;
    o.dsn = stack_.pgbouncer_dsn;
    // Longer than any failover: a write waits it out instead of failing.
    o.backoff.deadline = std::chrono::seconds(60);
    return o;
  }

  ops::StackStatus stack_;
  std::string path_;
};

TEST_P(FailoverTest, NoAcknowledgedTradeIsLostOrDoubled) {
  auto& env = HaEnvironment::Get();
  const Drill drill = GetParam();
  const std::string tag =
      absl::StrCat(PhaseName(drill.phase), "_", FaultName(drill.fault));
  const std::string old_leader = Leader(stack_);
  ASSERT_FALSE(old_leader.empty());

  PhasedStoreOptions options;
  options.sqlite_path = path_;
  options.pg = Options();
  options.phase_poll = std::chrono::milliseconds(0);
  options.sqlite_sync_full = false;
  auto store = PhasedTradeStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_EQ((*store)->phase(), drill.phase);

  // Writers rest 1 ms between writes so the relay gets the SQLite store's
  // lock (writers in a tight loop can keep it from the relay for minutes).
  std::map<std::string, int> slots_made;
  for (const auto& n : stack_.nodes) {
    slots_made[n.name] = MemberSlotsMade(env.dir(), n.name);
  }

  testing::WriteLoad load(**store, tag, 4, std::chrono::milliseconds(1));
  ASSERT_TRUE(load.WaitAcks(100, Steady::now()));
  Steady::time_point fault_at = Steady::now();
  std::atomic<bool> relay_hit{false};
  switch (drill.fault) {
    case Fault::kPostmasterCrash:
      TS_ASSERT_OK(ops::InjectNodeFault(env.dir(), old_leader,
                                        ops::NodeFault::kPostmasterCrash));
      break;
    case Fault::kNodeLoss:
      TS_ASSERT_OK(ops::InjectNodeFault(env.dir(), old_leader,
                                        ops::NodeFault::kNodeLoss));
      break;
    case Fault::kSwitchover:
      TS_ASSERT_OK(ops::Switchover(env.dir(), ""));
      break;
    case Fault::kCrashAfterRelayCommit:
    case Fault::kCrashBeforeRelayCommit: {
      // The relay's next batch kills the leader from the relay's thread.
      const char* point = drill.fault == Fault::kCrashAfterRelayCommit
                              ? "relay.after_pg_commit"
                              : "mirror.before_pg_commit";
      TS_ASSERT_OK(internal::ArmFailpoint(point, 1, [&] {
        fault_at = Steady::now();
        EXPECT_TRUE(ops::InjectNodeFault(env.dir(), old_leader,
                                         ops::NodeFault::kPostmasterCrash)
                        .ok());
        relay_hit.store(true);
      }));
      const auto until = Steady::now() + std::chrono::minutes(2);
      while (!relay_hit.load() && Steady::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      internal::DisarmFailpoints();
      ASSERT_TRUE(relay_hit.load()) << "the relay never reached " << point;
      break;
    }
  }
  // Writes go on once a new leader serves them.
  ASSERT_TRUE(load.WaitAcks(200, fault_at));
  load.Stop();
  if (drill.fault == Fault::kNodeLoss) {
    TS_ASSERT_OK(ops::RestartNode(env.dir(), old_leader));
  }
  const ops::StackStatus after = env.WaitHealthy();
  const std::string new_leader = Leader(after);
  EXPECT_NE(new_leader, old_leader);
  // The new leader made its standbys' slots as it was promoted, not a
  // Patroni loop later (what keeps a crash's write pause short).
  EXPECT_GT(MemberSlotsMade(env.dir(), new_leader), slots_made[new_leader]);
  if (drill.phase != Phase::kPostgresOnly) {
    TS_ASSERT_OK((*store)->DrainOutbox(std::chrono::seconds(120)));
  }

  // The accounting, on the new leader.
  const testing::Accounting acc = testing::Account(
      load.outcomes(), testing::StoredKeys(after.primary_dsn, tag));
  EXPECT_TRUE(acc.clean()) << acc.Problems();
  EXPECT_GT(acc.ok, 0);
  // The old leader rejoined as a replica and holds every acknowledged
  // trade once it has replayed.
  const ops::StackNode* rejoined = nullptr;
  for (const auto& n : after.nodes) {
    if (n.name == old_leader) rejoined = &n;
  }
  ASSERT_NE(rejoined, nullptr);
  EXPECT_NE(rejoined->role, "leader");
  const std::string count_sql = absl::StrCat(
      "SELECT count(*) FROM trades WHERE client_order_id LIKE '", tag, "-%'");
  const std::string on_leader = env.Sql(after.primary_dsn, count_sql);
  const auto until = Steady::now() + std::chrono::minutes(2);
  while (env.Sql(env.NodeDsn(*rejoined), count_sql) != on_leader &&
         Steady::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(env.Sql(env.NodeDsn(*rejoined), count_sql), on_leader);
  if (drill.phase != Phase::kPostgresOnly) {
    std::ostringstream out, err;
    EXPECT_EQ(
        cli::RunCli({"verify", "--sqlite", path_, "--pg", after.pgbouncer_dsn},
                    out, err),
        0)
        << out.str() << err.str();
  }
  std::cout << "[ drill ] " << tag << ": " << acc.ok << " acknowledged, "
            << acc.failed << " failed, " << acc.unknown << " unknown ("
            << acc.unknown_committed << " of them committed); " << old_leader
            << " -> " << new_leader << "; longest write pause "
            << testing::PauseSeconds(load.outcomes(), fault_at) << " s\n";
}

INSTANTIATE_TEST_SUITE_P(
    Drills, FailoverTest,
    ::testing::Values(Drill{Phase::kPostgresOnly, Fault::kPostmasterCrash},
                      Drill{Phase::kPostgresOnly, Fault::kNodeLoss},
                      Drill{Phase::kPostgresOnly, Fault::kSwitchover},
                      Drill{Phase::kReadPostgres, Fault::kPostmasterCrash},
                      Drill{Phase::kDualWrite, Fault::kNodeLoss},
                      Drill{Phase::kDualWrite, Fault::kCrashAfterRelayCommit},
                      Drill{Phase::kDualWrite, Fault::kCrashBeforeRelayCommit}),
    [](const auto& info) {
      return absl::StrCat(PhaseName(info.param.phase), "_",
                          FaultName(info.param.fault));
    });

}  // namespace
}  // namespace tradestore
