// The crash points (internal/failpoint.h): the CLI, started with
// TRADESTORE_FAILPOINTS, kills itself with SIGKILL at a named place in the
// write path, the relay, the backfill or a phase move. Then, as after a real
// crash: SQLite passes its integrity check, the interrupted command run again
// finishes, every acknowledged trade is in SQLite and Postgres exactly once
// and verify is clean.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iostream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "testing/pg_environment.h"
#include "testing/phases.h"
#include "testing/sqlite_file.h"
#include "testing/temp_dir.h"
#include "tradestore/cli/cli.h"
#include "tradestore/internal/failpoint.h"
#include "tradestore/internal/read_file.h"
#include "tradestore/migration/loadgen.h"
#include "tradestore/postgres/pg_trade_store.h"
#include "tradestore/sqlite/legacy_generator.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

extern char** environ;

namespace tradestore {
namespace {

using testing::PgEnvironment;
using testing::Sql;
using testing::TestPgOptions;

class CrashPointTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = PgEnvironment::Get().FreshMigratedDatabase();
    dsn_ = PgEnvironment::Get().pg().Dsn(db_);
    path_ = dir_.File("trade_store.db");
  }

  // Runs the CLI with `failpoint` armed and expects it killed there: a run
  // that ends any other way never reached the point, and proves nothing.
  void RunKilledAt(const std::string& failpoint,
                   std::vector<std::string> args) {
    args.insert(args.begin(), TRADESTORE_CLI);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string armed = absl::StrCat(internal::kFailpointsEnv, "=", failpoint);
    std::vector<char*> envp{armed.data()};
    for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
    envp.push_back(nullptr);
    const std::string log = dir_.File("killed.log");
    const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(out, 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      dup2(out, 1);
      dup2(out, 2);
      execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
    close(out);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    const std::string text = internal::ReadWholeFile(log);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "not killed at " << failpoint << "; wait status " << status
        << ", output:\n"
        << text;
  }

  int Cli(const std::vector<std::string>& args) {
    std::ostringstream out, err;
    const int code = cli::RunCli(args, out, err);
    last_output_ = out.str() + err.str();
    return code;
  }

  void ExpectSqliteIntact() {
    testing::SqliteFile file(path_);
    EXPECT_EQ(file.Query("PRAGMA integrity_check"), "ok");
  }

  void ExpectVerifyClean() {
    EXPECT_EQ(Cli({"verify", "--sqlite", path_, "--pg", dsn_}), 0)
        << last_output_;
  }

  std::string Count(const std::string& sql) {
    return testing::SqlValue(db_, sql);
  }

  testing::TempDir dir_;
  std::string db_, dsn_, path_, last_output_;
  std::string acks_ = dir_.File("acks.txt");
};

// --- the trade writer and the relay, under loadgen in dual_write ---------

class WriterCrashTest : public CrashPointTest {};

TEST_P(WriterCrashTest, LosesAndDoublesNothing) {
  ASSERT_TRUE(SqliteTradeStore::Open({.path = path_}).ok());
  ASSERT_TRUE(testing::ForcePhaseUpTo(TestPgOptions(dsn_), path_,
                                      Phase::kDualWrite, "crash test")
                  .ok());
  // One writer thread: the Nth write reaching the point is the Nth commit,
  // so every one before it was acknowledged.
  RunKilledAt(GetParam(),
              {"loadgen", "--sqlite", path_, "--pg", dsn_, "--rate", "2000",
               "--threads", "1", "--duration", "60s", "--ack-log", acks_});
  ExpectSqliteIntact();
  const AckedVersions log = ReadAckLog(acks_);
  const auto& acked = log.newest;
  const int64_t lines = log.lines;
  if (GetParam().rfind("sqlite.", 0) == 0) {
    EXPECT_GE(lines, 399);
  }
  ASSERT_FALSE(acked.empty());

  ASSERT_EQ(Cli({"relay", "--sqlite", path_, "--pg", dsn_, "--until-drained"}),
            0)
      << last_output_;
  auto sqlite = SqliteTradeStore::Open({.path = path_});
  auto pg = PgTradeStore::Open(TestPgOptions(dsn_));
  ASSERT_TRUE(sqlite.ok() && pg.ok());
  int64_t lost = 0, older = 0, differ = 0;
  for (const auto& [id, version] : acked) {
    auto in_sqlite = (*sqlite)->Get(id);
    auto in_pg = (*pg)->Get(id);
    if (!in_sqlite.ok() || !in_pg.ok()) {
      ++lost;
    } else if (in_sqlite->version < version) {
      ++older;
    } else if (*in_pg != *in_sqlite) {
      ++differ;
    }
  }
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(older, 0);
  EXPECT_EQ(differ, 0);
  // Exactly once: one row per idempotency key, and the whole table equal.
  const std::string doubled =
      Count("SELECT count(*) - count(DISTINCT client_order_id) FROM trades");
  EXPECT_EQ(doubled, "0");
  ExpectVerifyClean();
  std::cout << "[ crash ] " << GetParam() << ": " << acked.size()
            << " trades acknowledged (" << lines << " writes), " << lost
            << " lost, " << doubled << " doubled\n";
  // The service starts again where it was.
  EXPECT_EQ(Cli({"loadgen", "--sqlite", path_, "--pg", dsn_, "--rate", "200",
                 "--duration", "1s"}),
            0)
      << last_output_;
  ExpectVerifyClean();
}

INSTANTIATE_TEST_SUITE_P(Points, WriterCrashTest,
                         ::testing::Values("sqlite.write.before_commit@400",
                                           "sqlite.write.after_commit@400",
                                           "mirror.before_pg_commit@20",
                                           "relay.after_pg_commit@20"));

// --- the backfill: a batch with its checkpoint, and behind the fence ------

class BackfillCrashTest : public CrashPointTest {};

TEST_P(BackfillCrashTest, ResumesAndAccountsForEveryRow) {
  auto made = GenerateLegacyStore(
      {.path = path_, .rows = 12000, .bad_every = 997, .seed = 7});
  ASSERT_TRUE(made.ok()) << made.status();
  RunKilledAt(GetParam(), {"backfill", "--sqlite", path_, "--pg", dsn_,
                           "--batch-rows", "1000"});
  ExpectSqliteIntact();
  ASSERT_EQ(Cli({"backfill", "--sqlite", path_, "--pg", dsn_, "--batch-rows",
                 "1000"}),
            0)
      << last_output_;
  // Every row of the file: copied once or quarantined, none twice.
  EXPECT_EQ(Count("SELECT (SELECT count(*) FROM trades) + (SELECT count(*) "
                  "FROM trades_quarantine)"),
            "12000");
  EXPECT_EQ(Count("SELECT count(*) - count(DISTINCT id) FROM trades"), "0");
  EXPECT_EQ(Count("SELECT count(*) FROM trades_quarantine"),
            std::to_string(made->bad_rows));
  // The key back and the fence gone: the table takes writes again.
  EXPECT_EQ(Count("SELECT count(*) FROM pg_constraint WHERE conrelid = "
                  "'trades'::regclass AND contype = 'p'"),
            "1");
  EXPECT_EQ(Count("SELECT count(*) FROM pg_trigger WHERE tgname = "
                  "'trades_backfill_fence'"),
            "0");
  EXPECT_EQ(Count("SELECT count(*) FROM deferred_indexes"), "0");
  EXPECT_EQ(Count("SELECT completed_at IS NOT NULL FROM backfill_checkpoints"),
            "t");
  ExpectVerifyClean();
}

INSTANTIATE_TEST_SUITE_P(Points, BackfillCrashTest,
                         ::testing::Values("backfill.batch.before_commit@3",
                                           "backfill.batch.after_commit@3",
                                           "backfill.before_index_rebuild",
                                           "backfill.before_key_restore"));

// --- verify ---------------------------------------------------------------

TEST_F(CrashPointTest, VerifyKilledBeforeRecordingRunsAgainAndRecords) {
  auto made = GenerateLegacyStore({.path = path_, .rows = 300});
  ASSERT_TRUE(made.ok()) << made.status();
  ASSERT_EQ(Cli({"backfill", "--sqlite", path_, "--pg", dsn_}), 0)
      << last_output_;
  RunKilledAt("verify.before_record",
              {"verify", "--sqlite", path_, "--pg", dsn_});
  ExpectSqliteIntact();
  EXPECT_EQ(Count("SELECT count(*) FROM verification_runs"), "0");
  ExpectVerifyClean();
  EXPECT_EQ(Count("SELECT count(*) FROM verification_runs WHERE clean"), "1");
}

// --- phase moves ----------------------------------------------------------

TEST_F(CrashPointTest, PhaseMoveCommittedButNotMirroredIsKnownAndGoesOn) {
  auto made = GenerateLegacyStore({.path = path_, .rows = 100});
  ASSERT_TRUE(made.ok()) << made.status();
  RunKilledAt("phase.after_commit", {"phase", "set", "dual_write", "--sqlite",
                                     path_, "--pg", dsn_, "--reason", "t"});
  ExpectSqliteIntact();
  ASSERT_EQ(Cli({"phase", "show", "--sqlite", path_, "--pg", dsn_}), 0)
      << last_output_;
  EXPECT_NE(last_output_.find("phase: dual_write"), std::string::npos)
      << last_output_;
  // The next move starts from the committed phase and mirrors it.
  ASSERT_EQ(Cli({"phase", "set", "sqlite_only", "--sqlite", path_, "--pg", dsn_,
                 "--reason", "back"}),
            0)
      << last_output_;
  testing::SqliteFile file(path_);
  EXPECT_EQ(file.Query("SELECT value FROM tradestore_meta WHERE key = 'phase'"),
            "sqlite_only");
}

TEST_F(CrashPointTest, ReverseCatchUpKilledMidwayIsRepeatedWhole) {
  auto made = GenerateLegacyStore({.path = path_, .rows = 100});
  ASSERT_TRUE(made.ok()) << made.status();
  ASSERT_EQ(Cli({"backfill", "--sqlite", path_, "--pg", dsn_}), 0)
      << last_output_;
  ASSERT_TRUE(testing::ForcePhaseUpTo(TestPgOptions(dsn_), path_,
                                      Phase::kPostgresOnly, "crash test")
                  .ok());
  // More than one catch-up batch (5,000) written in Postgres alone.
  Sql(db_,
      "INSERT INTO trades (symbol, side, quantity, price, \"timestamp\", "
      "status, client_order_id) SELECT 'ETH-USD', 'SELL', 0.00000001 * g, "
      "1234.5678, now(), 'NEW', 'pg-only-' || g FROM generate_series(1, "
      "7000) g");
  RunKilledAt("reverse_catch_up.after_batch",
              {"phase", "set", "read_postgres", "--sqlite", path_, "--pg", dsn_,
               "--reason", "roll back"});
  ExpectSqliteIntact();
  ASSERT_EQ(Cli({"phase", "show", "--sqlite", path_, "--pg", dsn_}), 0);
  EXPECT_NE(last_output_.find("phase: postgres_only"), std::string::npos)
      << last_output_;
  ASSERT_EQ(Cli({"phase", "set", "read_postgres", "--sqlite", path_, "--pg",
                 dsn_, "--reason", "roll back"}),
            0)
      << last_output_;
  testing::SqliteFile file(path_);
  EXPECT_EQ(file.Query("SELECT count(*) FROM trades"),
            Count("SELECT count(*) FROM trades"));
  ExpectVerifyClean();
}

}  // namespace
}  // namespace tradestore
