// tradestore status: what needs attention, and the age of the last good
// backup and restore drill; it only reads, a read-only store included.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "testing/cli_run.h"
#include "testing/ops_environment.h"
#include "testing/sqlite_file.h"
#include "tradestore/internal/sha256.h"

namespace tradestore {
namespace {

using testing::Cli;
using testing::CliRun;
using ::testing::HasSubstr;
using testing::OpsEnvironment;

TEST(StatusTest, SaysWhatNeedsAttentionAndHowOldTheBackupsAre) {
  auto& env = OpsEnvironment::Get();
  const std::string dsn = env.FreshDatabase();
  CliRun before = Cli({"status", "--pg", dsn});
  EXPECT_EQ(before.code, 1) << before.err;
  EXPECT_THAT(before.out, HasSubstr("no backup recorded"));
  EXPECT_THAT(before.out, HasSubstr("no restore drill recorded"));

  const std::string to = env.NewDir() + "/backups";
  ASSERT_EQ(Cli({"backup", "--pg", dsn, "--to", to}).code, 0);
  CliRun drill = Cli({"restore", "--from", to, "--latest", "--drill", "--pg",
                      env.stack().admin_dsn, "--record", dsn});
  ASSERT_EQ(drill.code, 0) << drill.err;

  CliRun after = Cli({"status", "--pg", dsn, "--json", "-"});
  EXPECT_EQ(after.code, 0) << after.err;
  // The view to standard error, the JSON alone to standard output.
  EXPECT_THAT(after.err, HasSubstr("measured RTO"));
  EXPECT_TRUE(nlohmann::json::parse(after.out).at("healthy").get<bool>())
      << after.out;
}

TEST(StatusTest, OnlyReadsAReadOnlyStore) {
  auto& env = OpsEnvironment::Get();
  const std::string dsn = env.FreshDatabase();
  const std::string path = env.NewDir() + "/legacy.db";
  {
    testing::SqliteFile file(path);
    file.Exec(testing::kLegacyTradesTable);
    file.Exec(testing::LegacyRowsSql(1, 10));
  }
  ASSERT_EQ(chmod(path.c_str(), 0444), 0);
  const std::string before = *internal::Sha256OfFile(path);
  CliRun status = Cli({"status", "--pg", dsn, "--sqlite", path});
  EXPECT_NE(status.code, 2) << status.err;
  EXPECT_EQ(*internal::Sha256OfFile(path), before);
}

}  // namespace
}  // namespace tradestore
