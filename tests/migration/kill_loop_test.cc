// The kill loop: `tradestore loadgen` SIGKILLed at a random moment under
// load, again and again, in every phase and while the phase changes under
// it. After each kill, Jepsen's accounting: every acknowledged write is
// stored (at its version or a newer one) in each store the phase writes;
// writes that were in flight are unknown and resolved by reading (counted
// when they did commit); no trade is stored twice; SQLite passes its
// integrity check; where SQLite is still written, verify is clean once the
// relay has drained the outbox.
//
// TRADESTORE_KILL_LOOP_ITERATIONS sets the kills per phase (20 by default,
// 200 in tools/test_long.sh); TRADESTORE_KILL_LOOP_SEED replays a run.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "testing/child_process.h"
#include "testing/pg_environment.h"
#include "testing/phases.h"
#include "testing/sqlite_file.h"
#include "testing/temp_dir.h"
#include "tradestore/cli/cli.h"
#include "tradestore/internal/read_file.h"
#include "tradestore/migration/loadgen.h"
#include "tradestore/migration/phase.h"
#include "tradestore/postgres/pg_trade_store.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore {
namespace {

using testing::PgEnvironment;
using testing::TestPgOptions;
using Steady = std::chrono::steady_clock;

int64_t EnvNumber(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoll(v) : fallback;
}

int64_t Lines(const std::string& path) {
  const std::string text = internal::ReadWholeFile(path);
  return std::count(text.begin(), text.end(), '\n');
}

// The CLI as a child with its output in `log`; killed with this thread
// (PR_SET_PDEATHSIG): the long suite starts 800.
class Child : public testing::ChildProcess {
 public:
  Child(std::vector<std::string> args, const std::string& log)
      : ChildProcess(WithCli(std::move(args)), log, Orphan::kKernelKillsChild) {
  }

 private:
  static std::vector<std::string> WithCli(std::vector<std::string> args) {
    args.insert(args.begin(), TRADESTORE_CLI);
    return args;
  }
};

struct Tally {
  int64_t kills = 0, ok = 0, unknown_committed = 0, lost = 0, older = 0,
          differ = 0, doubled = 0;
};

// How a run ends: a kill at a random moment in a fixed phase, or a kill
// after the running loadgen has switched to the next phase.
struct Loop {
  Phase phase;
  bool moving = false;
};

void PrintTo(const Loop& loop, std::ostream* os) {
  *os << PhaseName(loop.phase) << (loop.moving ? " and moving" : "");
}

class KillLoopTest : public ::testing::TestWithParam<Loop> {
 protected:
  void SetUp() override {
    db_ = PgEnvironment::Get().FreshMigratedDatabase();
    dsn_ = PgEnvironment::Get().pg().Dsn(db_);
    path_ = dir_.File("trade_store.db");
    ASSERT_TRUE(SqliteTradeStore::Open({.path = path_}).ok());
    ASSERT_TRUE(testing::ForcePhaseUpTo(TestPgOptions(dsn_), path_,
                                        GetParam().phase, "kill loop")
                    .ok());
    phase_ = GetParam().phase;
  }

  int Cli(const std::vector<std::string>& args) {
    std::ostringstream out, err;
    const int code = cli::RunCli(args, out, err);
    last_output_ = out.str() + err.str();
    return code;
  }

  // Waits until `file` has `lines` lines while the child runs; false when
  // the child ended first or nothing came for a minute (a hung test).
  bool WaitLines(const std::string& file, int64_t lines, Child& child) {
    const auto until = Steady::now() + std::chrono::minutes(1);
    while (Lines(file) < lines) {
      if (!child.running() || Steady::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  bool WaitText(const std::string& file, const std::string& text,
                Child& child) {
    const auto until = Steady::now() + std::chrono::minutes(1);
    while (internal::ReadWholeFile(file).find(text) == std::string::npos) {
      if (!child.running() || Steady::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }

  // The next phase of a back-and-forth walk through the Postgres phases.
  Phase NextPhase() {
    if (phase_ == Phase::kPostgresOnly) down_ = true;
    if (phase_ == Phase::kDualWrite) down_ = false;
    return static_cast<Phase>(static_cast<int>(phase_) + (down_ ? -1 : 1));
  }

  void Move(Phase to) {
    ASSERT_EQ(Cli({"phase", "set", std::string(PhaseName(to)), "--sqlite",
                   path_, "--pg", dsn_, "--force", "--reason", "kill loop"}),
              0)
        << last_output_;
    phase_ = to;
  }

  // One loadgen, killed; then the accounting of its writes.
  void KillOnce(int iteration, std::mt19937_64& rng) {
    const std::string acks = dir_.File(absl::StrCat("acks", iteration));
    const std::string log = dir_.File(absl::StrCat("loadgen", iteration));
    const Phase started_in = phase_;
    {
      Child loadgen(
          {"loadgen", "--sqlite", path_, "--pg", dsn_, "--rate", "1500",
           "--threads", "2", "--duration", "2m", "--ack-log", acks},
          log);
      const int64_t before =
          std::uniform_int_distribution<int64_t>(1, 300)(rng);
      ASSERT_TRUE(WaitLines(acks, before, loadgen))
          << loadgen.Ended() << ", its output:\n"
          << internal::ReadWholeFile(log);
      if (GetParam().moving) {
        const Phase to = NextPhase();
        Move(to);
        // The service sees the move within its poll, then writes on.
        ASSERT_TRUE(WaitText(
            log, absl::StrCat("-> ", PhaseName(to), " (version"), loadgen))
            << loadgen.Ended() << ", its output:\n"
            << internal::ReadWholeFile(log);
        const int64_t after =
            Lines(acks) + std::uniform_int_distribution<int64_t>(0, 200)(rng);
        ASSERT_TRUE(WaitLines(acks, after, loadgen))
            << loadgen.Ended() << ", its output:\n"
            << internal::ReadWholeFile(log);
      }
      // A random moment within the next few writes, not on an ack line.
      std::this_thread::sleep_for(std::chrono::microseconds(
          std::uniform_int_distribution<int64_t>(0, 3000)(rng)));
      ASSERT_EQ(loadgen.KillAndWait(), SIGKILL);
    }
    ++tally_.kills;
    Account(acks, started_in);
  }

  void Account(const std::string& acks_file, Phase started_in) {
    {
      testing::SqliteFile file(path_);
      ASSERT_EQ(file.Query("PRAGMA integrity_check"), "ok");
    }
    const bool sqlite_written = phase_ != Phase::kPostgresOnly;
    if (sqlite_written) {
      ASSERT_EQ(
          Cli({"relay", "--sqlite", path_, "--pg", dsn_, "--until-drained"}), 0)
          << last_output_;
    }
    const std::map<int64_t, int64_t> acked = ReadAckLog(acks_file).newest;
    auto sqlite = SqliteTradeStore::Open({.path = path_});
    auto pg = PgTradeStore::Open(TestPgOptions(dsn_));
    ASSERT_TRUE(sqlite.ok() && pg.ok());
    for (const auto& [id, version] : acked) {
      ++tally_.ok;
      // A trade written in postgres_only reaches SQLite only by a reverse
      // catch-up; one written before it is in both.
      const bool in_sqlite_expected =
          sqlite_written && (started_in != Phase::kPostgresOnly ||
                             phase_ == Phase::kReadPostgres);
      auto in_pg = (*pg)->Get(id);
      if (!in_pg.ok()) {
        ++tally_.lost;
        ADD_FAILURE() << "trade " << id << " v" << version
                      << " acknowledged, not in Postgres";
        continue;
      }
      if (in_pg->version < version) {
        ++tally_.older;
        ADD_FAILURE() << "trade " << id << " acknowledged at v" << version
                      << ", Postgres has v" << in_pg->version;
      }
      if (in_sqlite_expected) {
        auto in_sqlite = (*sqlite)->Get(id);
        if (!in_sqlite.ok()) {
          ++tally_.lost;
          ADD_FAILURE() << "trade " << id << " not in SQLite";
        } else if (*in_sqlite != *in_pg) {
          ++tally_.differ;
          ADD_FAILURE() << "trade " << id << " differs between the stores";
        }
      }
    }
    // Unknown outcomes resolved by reading: this run's trades stored but
    // never acknowledged (the writes the kill cut short).
    const std::string stored = testing::Sql(
        db_,
        absl::StrCat("SELECT count(*) FROM trades WHERE id > ", last_max_id_));
    const std::string max_id =
        testing::Sql(db_, "SELECT coalesce(max(id), 0) FROM trades");
    int64_t acked_new = 0;
    for (const auto& [id, version] : acked) acked_new += id > last_max_id_;
    tally_.unknown_committed += std::atoll(stored.c_str()) - acked_new;
    last_max_id_ = std::atoll(max_id.c_str());
    const std::string doubled = testing::Sql(
        db_, "SELECT count(*) - count(DISTINCT client_order_id) FROM trades");
    tally_.doubled += std::atoll(doubled.c_str());
    if (sqlite_written) {
      EXPECT_EQ(Cli({"verify", "--sqlite", path_, "--pg", dsn_}), 0)
          << last_output_;
    }
  }

  testing::TempDir dir_;
  std::string db_, dsn_, path_, last_output_;
  Phase phase_ = Phase::kSqliteOnly;
  bool down_ = false;
  int64_t last_max_id_ = 0;
  Tally tally_;
};

TEST_P(KillLoopTest, LosesAndDoublesNothing) {
  const int64_t iterations = EnvNumber("TRADESTORE_KILL_LOOP_ITERATIONS", 20);
  const uint64_t seed = static_cast<uint64_t>(
      EnvNumber("TRADESTORE_KILL_LOOP_SEED", std::random_device{}()));
  std::mt19937_64 rng(seed);
  for (int i = 0; i < iterations && !HasFailure(); ++i) {
    KillOnce(i, rng);
  }
  std::cout << "[ kill loop ] " << PhaseName(GetParam().phase)
            << (GetParam().moving ? " and moving" : "") << ", seed " << seed
            << ": " << tally_.kills << " kills, " << tally_.ok
            << " acknowledged trades, " << tally_.unknown_committed
            << " unknown that had committed, " << tally_.lost << " lost, "
            << tally_.older << " older, " << tally_.differ << " differing, "
            << tally_.doubled << " doubled\n";
  EXPECT_EQ(tally_.kills, iterations) << "seed " << seed;
  EXPECT_EQ(tally_.lost + tally_.older + tally_.differ + tally_.doubled, 0)
      << "seed " << seed;
}

INSTANTIATE_TEST_SUITE_P(
    Phases, KillLoopTest,
    ::testing::Values(Loop{Phase::kDualWrite}, Loop{Phase::kReadPostgres},
                      Loop{Phase::kPostgresOnly},
                      Loop{Phase::kDualWrite, /*moving=*/true}),
    [](const auto& info) {
      return absl::StrCat(PhaseName(info.param.phase),
                          info.param.moving ? "_moving" : "");
    });

}  // namespace
}  // namespace tradestore
