// The commands that only read never change the SQLite file: on a legacy
// file they say it needs `tradestore prepare` (the one step that upgrades
// it), and on a prepared one, read-only in a read-only directory, they run
// and leave it byte for byte as it was, creating nothing beside it: as
// root, and as another user on the idle store and on a live one.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_join.h"
#include "testing/cli_run.h"
#include "testing/pg_environment.h"
#include "testing/temp_dir.h"
#include "tradestore/internal/process.h"
#include "tradestore/internal/sha256.h"
#include "tradestore/sqlite/legacy_generator.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore {
namespace {

using testing::Cli;
using testing::CliRun;
using ::testing::HasSubstr;
using testing::PgEnvironment;

std::string Sha(const std::string& path) {
  auto sha = internal::Sha256OfFile(path);
  return sha.ok() ? *sha : std::string(sha.status().message());
}

TEST(ReadOnlyTest, ReadingCommandsLeaveTheStoreAsItWas) {
  auto& env = PgEnvironment::Get();
  const std::string dsn = env.pg().Dsn(env.FreshDatabaseName());
  testing::TempDir dir;
  const std::string store = dir.File("legacy.db");
  ASSERT_TRUE(GenerateLegacyStore({.path = store, .rows = 40}).ok());
  const std::string legacy = Sha(store);

  // Not prepared: each reading command refuses and names the step, with
  // its own code for it (verify: could not run; backfill: a store it
  // cannot take as it is).
  for (auto [args, code] :
       {std::pair<std::vector<std::string>, int>{{"verify"}, 2},
        {{"backfill", "--dry-run"}, 1}}) {
    args.insert(args.end(), {"--sqlite", store, "--pg", dsn});
    CliRun r = Cli(args);
    EXPECT_EQ(r.code, code) << args[0] << ": " << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr("tradestore prepare")) << args[0];
    EXPECT_EQ(Sha(store), legacy) << args[0];
  }
  CliRun dry = Cli({"prepare", "--sqlite", store, "--dry-run"});
  EXPECT_EQ(dry.code, 0) << dry.err;
  EXPECT_THAT(dry.out, HasSubstr("would be upgraded"));
  EXPECT_EQ(Sha(store), legacy);

  CliRun prepared = Cli({"prepare", "--sqlite", store});
  EXPECT_EQ(prepared.code, 0) << prepared.err;
  EXPECT_THAT(prepared.out, HasSubstr("upgraded in place"));
  EXPECT_NE(Sha(store), legacy);
  EXPECT_THAT(Cli({"prepare", "--sqlite", store}).out,
              HasSubstr("already; nothing to do"));
  ASSERT_EQ(Cli({"backfill", "--sqlite", store, "--pg", dsn}).code, 0);

  // Prepared, read-only, in a read-only directory (root writes anyway:
  // the hash is what proves nothing was written).
  ASSERT_EQ(chmod(store.c_str(), 0444), 0);
  ASSERT_EQ(chmod(dir.path().c_str(), 0555), 0);
  const std::string before = Sha(store);
  const auto listing = [&] {
    std::set<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
      names.insert(e.path().filename().string());
    }
    return names;
  };
  const std::set<std::string> files = listing();
  const std::vector<std::vector<std::string>> reads = {
      {"verify"},
      {"verify", "--incremental"},
      {"verify", "--ids", "1-10"},
      {"verify", "--repair", "--dry-run"},
      {"backfill", "--dry-run"},
      {"status"},
      {"phase", "show"},
      {"phase", "history"},
      {"quarantine", "list"},
  };
  for (std::vector<std::string> args : reads) {
    args.insert(args.end(), {"--sqlite", store, "--pg", dsn});
    CliRun r = Cli(args);
    EXPECT_NE(r.code, 2) << args[0] << " " << args[1] << ": " << r.err;
    EXPECT_EQ(Sha(store), before) << args[0] << " " << args[1];
    // Not even an -shm or -wal left behind (owned by this user, they would
    // lock the service out of its own store).
    EXPECT_EQ(listing(), files) << args[0] << " " << args[1];
  }

  // The report job's user, who cannot write the directory (root writes
  // anyway, so the tests run it as postgres).
  // The binary linked where that user can run it (CI's clone lies in a
  // private temp directory).
  testing::TempDir bin(0711);
  const std::string cli = bin.File("tradestore");
  std::error_code ec;
  std::filesystem::create_hard_link(TRADESTORE_CLI, cli, ec);
  if (ec) std::filesystem::copy_file(TRADESTORE_CLI, cli, ec);
  ASSERT_FALSE(ec) << ec.message();
  const auto as_report_user = [&](std::vector<std::string> args) {
    args.insert(args.begin(), cli);
    args.insert(args.end(), {"--sqlite", store, "--pg", dsn});
    return internal::RunCommand(args, "postgres", {}, dir.path());
  };
  // On the idle store (no -wal, no -shm) SQLite's read-only open alone
  // would fail.
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"verify"},
                                             {"verify", "--incremental"},
                                             {"status"},
                                             {"phase", "show"},
                                             {"backfill", "--dry-run"}}) {
    const std::string name = absl::StrJoin(args, " ");
    auto r = as_report_user(args);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->exit_code, name == "status" ? r->exit_code : 0)
        << name << ": " << r->output;
    EXPECT_NE(r->exit_code, 2) << name << ": " << r->output;
    EXPECT_EQ(Sha(store), before) << name;
    EXPECT_EQ(listing(), files) << name;
  }

  // A live store: the service holds it open, so its -wal and -shm are
  // there (the service's), and the report job reads through them.
  ASSERT_EQ(chmod(store.c_str(), 0644), 0);
  ASSERT_EQ(chmod(dir.path().c_str(), 0755), 0);
  auto service =
      SqliteTradeStore::Open({.path = store, .create_if_missing = false});
  ASSERT_TRUE(service.ok()) << service.status();
  ASSERT_TRUE(std::filesystem::exists(store + "-shm"));
  const std::set<std::string> live = listing();
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"verify"}, {"phase", "show"}}) {
    auto r = as_report_user(args);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->exit_code, 0) << args[0] << ": " << r->output;
    EXPECT_EQ(listing(), live) << args[0];
  }
  chmod(dir.path().c_str(), 0700);
}

}  // namespace
}  // namespace tradestore
