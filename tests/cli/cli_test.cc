#include "tradestore/cli/cli.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "testing/cli_run.h"
#include "testing/pg_environment.h"
#include "testing/temp_dir.h"
#include "tradestore/internal/process.h"
#include "tradestore/internal/read_file.h"
#include "tradestore/sqlite/legacy_generator.h"
#include "tradestore/sqlite/sqlite_trade_store.h"
#include "tradestore/version.h"

namespace tradestore::cli {
namespace {

using tradestore::testing::Cli;
using tradestore::testing::CliRun;
using tradestore::testing::PgEnvironment;

TEST(CliTest, HelpListsEveryCommand) {
  CliRun r = Cli({"--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* command :
       {"backfill", "verify", "phase", "archive", "quarantine", "relay",
        "loadgen", "demo", "schema"}) {
    // Each name stands apart from its summary.
    EXPECT_NE(r.out.find(absl::StrCat("\n  ", command, "  ")),
              std::string::npos)
        << command << " in\n"
        << r.out;
  }
  EXPECT_EQ(Cli({"schema", "--help"}).code, 0);
}

TEST(CliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Cli({}).code, 2);
  CliRun unknown = Cli({"verfy"});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_NE(unknown.err.find("unknown command \"verfy\" (did you mean "
                             "verify?)"),
            std::string::npos)
      << unknown.err;
  CliRun flag = Cli({"schema", "migrate", "--nope"});
  EXPECT_EQ(flag.code, 2);
  EXPECT_NE(flag.err.find("unknown flag --nope"), std::string::npos);
  // Short: the problem and where the help is, not the whole help.
  EXPECT_NE(flag.err.find("see: tradestore schema --help"), std::string::npos);
  EXPECT_LE(std::count(flag.err.begin(), flag.err.end(), '\n'), 2);
  CliRun typo = Cli({"backfill", "--sqllite", "x.db"});
  EXPECT_NE(typo.err.find("did you mean --sqlite?"), std::string::npos)
      << typo.err;
  EXPECT_EQ(Cli({"schema"}).code, 2);
  EXPECT_EQ(Cli({"schema", "migrate", "--pg"}).code, 2);
  EXPECT_EQ(
      Cli({"backfill", "--sqlite", "x.db", "--batch-rows", "500000000"}).code,
      2);
}

TEST(CliTest, VersionAndHelpOfEveryCommandWithinEightyColumns) {
  CliRun version = Cli({"--version"});
  EXPECT_EQ(version.code, 0);
  EXPECT_EQ(version.out.rfind("tradestore ", 0), 0u) << version.out;
  for (const char* command :
       {"backfill", "verify", "phase", "archive", "quarantine", "relay",
        "loadgen", "demo", "schema"}) {
    for (const char* help : {"--help", "-h"}) {
      CliRun r = Cli({command, help});
      EXPECT_EQ(r.code, 0) << command;
      EXPECT_EQ(r.out.rfind(absl::StrCat("usage: tradestore ", command), 0), 0u)
          << r.out;
      size_t start = 0;
      while (start < r.out.size()) {
        const size_t end = r.out.find('\n', start);
        EXPECT_LE(end - start, 80u)
            << command << ": " << r.out.substr(start, end - start);
        start = end + 1;
      }
    }
  }
}

TEST(CliTest, SchemaMigrateTwiceIsANoOpTheSecondTime) {
  auto& env = PgEnvironment::Get();
  const std::string dsn = env.pg().Dsn(env.FreshDatabaseName());
  CliRun dry = Cli({"schema", "migrate", "--dry-run", "--pg", dsn});
  EXPECT_EQ(dry.code, 0) << dry.err;
  EXPECT_NE(dry.out.find("would apply: 0001_create_trades.sql"),
            std::string::npos)
      << dry.out;
  EXPECT_EQ(Cli({"schema", "status", "--pg", dsn}).out.find("nothing pending"),
            std::string::npos);
  CliRun first = Cli({"schema", "migrate", "--pg", dsn});
  EXPECT_EQ(first.code, 0) << first.err;
  EXPECT_NE(first.out.find("applied 0001_create_trades.sql"), std::string::npos)
      << first.out;
  CliRun second = Cli({"schema", "migrate", "--pg", dsn});
  EXPECT_EQ(second.code, 0) << second.err;
  EXPECT_NE(second.out.find("nothing applied"), std::string::npos)
      << second.out;
  CliRun status = Cli({"schema", "status", "--pg", dsn});
  EXPECT_EQ(status.code, 0);
  EXPECT_NE(status.out.find("nothing pending"), std::string::npos);
}

// The README's main job, on the harness's Postgres: every built step runs
// and the stores end verified equal.
TEST(CliTest, DemoRunsEverySixStepsThroughTheGates) {
  auto& env = PgEnvironment::Get();
  const std::string dsn = env.pg().Dsn(env.FreshDatabaseName());
  CliRun demo = Cli({"demo", "--rows", "3000", "--pg", dsn});
  EXPECT_EQ(demo.code, 0) << demo.err << demo.out;
  for (const char* said :
       {"phase sqlite_only -> dual_write", "verify: clean",
        "money totals agree", "verify again: clean",
        "load in dual_write: ", "phase dual_write -> read_postgres",
        "load in read_postgres: ", "phase read_postgres -> postgres_only",
        "load in postgres_only: ", "read back and matched against Postgres",
        "phase postgres_only -> archived", "demo: done"}) {
    EXPECT_NE(demo.out.find(said), std::string::npos) << said << "\n"
                                                      << demo.out;
  }
  EXPECT_EQ(demo.out.find("FAILED"), std::string::npos) << demo.out;
  size_t loads_without_failure = 0;
  for (size_t at = demo.out.find("acknowledged, 0 failed");
       at != std::string::npos;
       at = demo.out.find("acknowledged, 0 failed", at + 1)) {
    ++loads_without_failure;
  }
  EXPECT_EQ(loads_without_failure, 3u) << demo.out;  // steps 3, 4, 5
  EXPECT_EQ(demo.out.find("NOT drained"), std::string::npos);
}

TEST(CliTest, SchemaMigrateReadsTheDsnFromTheEnvironment) {
  auto& env = PgEnvironment::Get();
  setenv("TRADESTORE_PG_DSN", env.pg().Dsn(env.FreshDatabaseName()).c_str(), 1);
  CliRun r = Cli({"schema", "migrate"});
  unsetenv("TRADESTORE_PG_DSN");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("applied"), std::string::npos);
}

TEST(CliTest, TheConfigFileGivesTheDsnAndTheCommandLineWins) {
  auto& env = PgEnvironment::Get();
  tradestore::testing::TempDir dir;
  const std::string config = dir.File("tradestore.conf");
  std::ofstream(config) << "pg = " << env.pg().Dsn(env.FreshDatabaseName())
                        << "\n[schema]\ndeadline = 5s\n";
  chmod(config.c_str(), 0600);  // whatever the umask: others may not write
  CliRun r = Cli({"schema", "migrate", "--config", config});
  EXPECT_EQ(r.code, 0) << r.err;
  setenv("TRADESTORE_CONFIG", config.c_str(), 1);
  CliRun status = Cli({"schema", "status"});
  // The command line wins over the file: a port nobody listens on.
  auto port = internal::FreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  CliRun elsewhere = Cli({"schema", "status", "--deadline", "1s", "--pg",
                          "host=127.0.0.1 port=" + std::to_string(*port)});
  unsetenv("TRADESTORE_CONFIG");
  EXPECT_EQ(status.code, 0) << status.err;
  EXPECT_EQ(elsewhere.code, 2) << elsewhere.err;
  std::ofstream(config, std::ios::app) << "dedline = 1m\n";
  CliRun typo = Cli({"schema", "status", "--config", config});
  EXPECT_EQ(typo.code, 2);
  EXPECT_NE(typo.err.find("tradestore.conf:4: unknown key"), std::string::npos)
      << typo.err;
  // Help still comes.
  EXPECT_EQ(Cli({"schema", "--help", "--config", config}).code, 0);
}

TEST(CliTest, UnreachablePostgresExitsTwoWithoutThePassword) {
  auto port = internal::FreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  CliRun r = Cli({"schema", "migrate", "--deadline", "1", "--pg",
                  "postgresql://app:Hunter2-secret@127.0.0.1:" +
                      std::to_string(*port) + "/x"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.find("Hunter2-secret"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("Hunter2-secret"), std::string::npos);
  EXPECT_NE(r.err.find("app:***@"), std::string::npos) << r.err;
}

// Retries are logged as they happen, with how long so far; with
// --log-format json every line of standard error is one JSON object.
TEST(CliTest, RetriesAreLoggedAndJsonLogLinesParse) {
  auto port = internal::FreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  const std::string dsn =
      "postgresql://app:Hunter2-secret@127.0.0.1:" + std::to_string(*port) +
      "/x";
  CliRun r = Cli({"schema", "migrate", "--deadline", "2s", "--log-format",
                  "json", "--verbose", "--pg", dsn});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.find("Hunter2-secret"), std::string::npos) << r.err;
  std::vector<nlohmann::json> lines;
  std::istringstream in(r.err);
  for (std::string line; std::getline(in, line);) {
    ASSERT_NO_THROW(lines.push_back(nlohmann::json::parse(line))) << line;
  }
  ASSERT_GE(lines.size(), 3u) << r.err;
  EXPECT_EQ(lines.front()["level"], "debug") << r.err;
  EXPECT_EQ(lines.back()["level"], "error") << r.err;
  bool warned = false;
  for (const auto& j : lines) {
    EXPECT_EQ(j["command"], "schema");
    warned |= j["level"] == "warning" &&
              j["message"].get<std::string>().find(" wait (attempt 2, ") !=
                  std::string::npos;
  }
  EXPECT_TRUE(warned) << r.err;

  // --quiet: the warnings and the error only, as timestamped text.
  CliRun quiet =
      Cli({"schema", "migrate", "--deadline", "1s", "--quiet", "--pg", dsn});
  EXPECT_EQ(quiet.code, 2);
  std::istringstream text(quiet.err);
  int count = 0;
  for (std::string line; std::getline(text, line);) {
    if (line.rfind("    ", 0) == 0) continue;  // a message's next line
    ++count;
    EXPECT_TRUE(line.size() > 28 && line[4] == '-' && line[10] == 'T' &&
                line[26] == 'Z')
        << line;
    EXPECT_TRUE(line.find(" warning: ") != std::string::npos ||
                line.find(" error: ") != std::string::npos)
        << line;
  }
  EXPECT_GE(count, 2) << quiet.err;
  EXPECT_EQ(Cli({"schema", "migrate", "--log-format", "xml"}).code, 2);
  EXPECT_EQ(Cli({"schema", "migrate", "--quiet", "--verbose"}).code, 2);
}

// A verify that cannot run replaces its textfile with up 0 and keeps the
// last success: the alert sees the failure, never the old "clean".
TEST(CliTest, AFailedVerifyLeavesUpZeroInItsTextfile) {
  auto& env = PgEnvironment::Get();
  const std::string dsn = env.pg().Dsn(env.FreshDatabaseName());
  tradestore::testing::TempDir dir;
  const std::string store = dir.File("legacy.db");
  const std::string prom = dir.File("verify.prom");
  ASSERT_TRUE(GenerateLegacyStore({.path = store, .rows = 20}).ok());
  ASSERT_EQ(Cli({"backfill", "--sqlite", store, "--pg", dsn}).code, 0);
  CliRun ok = Cli({"verify", "--sqlite", store, "--pg", dsn, "--prom", prom});
  ASSERT_EQ(ok.code, 0) << ok.err;
  const std::string before = internal::ReadWholeFile(prom);
  EXPECT_NE(before.find("tradestore_verify_up{mode=\"full\"} 1\n"),
            std::string::npos)
      << before;
  EXPECT_NE(before.find("tradestore_verify_clean{mode=\"full\""),
            std::string::npos);
  const size_t at = before.find("_last_success_timestamp_seconds{");
  ASSERT_NE(at, std::string::npos) << before;
  const std::string success = before.substr(at, before.find('\n', at) - at);

  auto port = internal::FreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  CliRun failed =
      Cli({"verify", "--sqlite", store, "--deadline", "1s", "--prom", prom,
           "--pg", "host=127.0.0.1 port=" + std::to_string(*port)});
  EXPECT_EQ(failed.code, 2);
  const std::string after = internal::ReadWholeFile(prom);
  EXPECT_NE(after.find("tradestore_verify_up{mode=\"full\"} 0\n"),
            std::string::npos)
      << after;
  EXPECT_NE(after.find(success), std::string::npos) << after;
  EXPECT_EQ(after.find("tradestore_verify_clean"), std::string::npos) << after;

  // The backfill writes its job metrics the same way.
  const std::string backfill_prom = dir.File("backfill.prom");
  ASSERT_EQ(
      Cli({"backfill", "--sqlite", store, "--pg", dsn, "--prom", backfill_prom})
          .code,
      0);
  const std::string written = internal::ReadWholeFile(backfill_prom);
  EXPECT_NE(written.find("tradestore_backfill_up 1\n"), std::string::npos)
      << written;
  EXPECT_NE(written.find("tradestore_backfill_high_water_id 20\n"),
            std::string::npos)
      << written;
  EXPECT_EQ(Cli({"backfill", "--sqlite", store, "--deadline", "1s", "--prom",
                 backfill_prom, "--pg",
                 "host=127.0.0.1 port=" + std::to_string(*port)})
                .code,
            2);
  const std::string up_zero = internal::ReadWholeFile(backfill_prom);
  EXPECT_NE(up_zero.find("tradestore_backfill_up 0\n"), std::string::npos)
      << up_zero;
}

// --repair makes the stores agree and then verifies again; the run that
// counts (exit code, JSON) is the second, with what the repair did.
TEST(CliTest, RepairThenVerifiesAgain) {
  auto& env = PgEnvironment::Get();
  const std::string db = env.FreshDatabaseName();
  const std::string dsn = env.pg().Dsn(db);
  tradestore::testing::TempDir dir;
  const std::string store = dir.File("legacy.db");
  ASSERT_TRUE(GenerateLegacyStore({.path = store, .rows = 30}).ok());
  ASSERT_EQ(Cli({"backfill", "--sqlite", store, "--pg", dsn}).code, 0);
  ASSERT_TRUE(env.pg()
                  .Psql(db, "UPDATE trades SET price = price + 1 WHERE id = 7")
                  .ok());
  ASSERT_EQ(Cli({"verify", "--sqlite", store, "--pg", dsn}).code, 1);
  const std::string json = dir.File("verify.json");
  CliRun r = Cli(
      {"verify", "--sqlite", store, "--pg", dsn, "--repair", "--json", json});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("repaired 1 row(s); verifying again"), std::string::npos)
      << r.out;
  std::ifstream in(json);
  const auto report = nlohmann::json::parse(in);
  EXPECT_TRUE(report["summary"]["clean"].get<bool>()) << report.dump();
  EXPECT_EQ(Cli({"verify", "--sqlite", store, "--pg", dsn}).code, 0);
}

// A report path that names the store, or a symlink planted where the
// report goes, is refused; "-" is standard output.
TEST(CliTest, ReportsNeverReplaceTheStoreOrFollowALink) {
  auto& env = PgEnvironment::Get();
  const std::string dsn = env.pg().Dsn(env.FreshDatabaseName());
  tradestore::testing::TempDir dir;
  const std::string store = dir.File("trade_store.db");
  ASSERT_TRUE(GenerateLegacyStore({.path = store, .rows = 50}).ok());
  CliRun into_store =
      Cli({"backfill", "--sqlite", store, "--pg", dsn, "--json", store});
  EXPECT_EQ(into_store.code, 2);
  EXPECT_NE(into_store.err.find("not replaced"), std::string::npos)
      << into_store.err;
  auto reopened = SqliteTradeStore::Open({.path = store,
                                          .create_if_missing = false,
                                          .require_trades_table = true});
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(*(*reopened)->Count(), 50);

  const std::string victim = dir.File("victim.txt");
  std::ofstream(victim) << "precious";
  const std::string link = dir.File("verify.prom");
  ASSERT_EQ(symlink(victim.c_str(), link.c_str()), 0);
  CliRun linked = Cli({"verify", "--sqlite", store, "--pg", dsn, "--prom", link,
                       "--json", "-"});
  EXPECT_EQ(linked.code, 2);
  EXPECT_NE(linked.err.find("symbolic link"), std::string::npos) << linked.err;
  EXPECT_EQ(internal::ReadWholeFile(victim), "precious");
  // The JSON went to standard output, alone: the human report went to
  // standard error.
  EXPECT_NO_THROW(nlohmann::json::parse(linked.out)) << linked.out;
  // Every JSON report names the build that wrote it.
  EXPECT_EQ(nlohmann::json::parse(linked.out).value("tradestore_version", ""),
            kVersion);
  CliRun status =
      Cli({"status", "--sqlite", store, "--pg", dsn, "--json", "-"});
  EXPECT_EQ(nlohmann::json::parse(status.out).value("tradestore_version", ""),
            kVersion)
      << status.out;
  EXPECT_NE(linked.err.find("verify"), std::string::npos) << linked.err;
  EXPECT_FALSE(std::filesystem::exists(dir.File("-")));
  CliRun both = Cli(
      {"verify", "--sqlite", store, "--pg", dsn, "--prom", "-", "--json", "-"});
  EXPECT_EQ(both.code, 2);
  EXPECT_NE(both.err.find("both write to standard output"), std::string::npos)
      << both.err;
}

}  // namespace
}  // namespace tradestore::cli
