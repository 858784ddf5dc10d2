// Logical backups and restores as the scheduled jobs run them: to a
// directory, to S3 (s3rver) and to Azure Blob (azurite), a restore checked
// against the manifest, a drill into a scratch database, a dump that does
// not match its manifest refused with nothing touched, retention that
// keeps the newest and only deletes its own files, and a backup taken
// while trades are written describing exactly what it holds.
#include "tradestore/ops/backup.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "testing/emulators.h"
#include "testing/ops_environment.h"
#include "testing/status_matchers.h"
#include "testing/trades.h"
#include "tradestore/cli/cli.h"
#include "tradestore/internal/read_file.h"
#include "tradestore/ops/restore.h"
#include "tradestore/postgres/pg_trade_store.h"

namespace tradestore::ops {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::OpsEnvironment;

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = OpsEnvironment::Get().FreshDatabase();
    dir_ = OpsEnvironment::Get().NewDir();
  }

  // Writes `n` trades into the test's database.
  void Write(int n) {
    auto store = PgTradeStore::Open(Options(dsn_));
    ASSERT_TRUE(store.ok()) << store.status();
    for (int i = 0; i < n; ++i) {
      Trade t = tradestore::testing::SampleTrade();
      t.client_order_id = absl::StrCat("b", ++written_);
      TS_ASSERT_OK((*store)->Insert(t));
    }
  }

  static PgOptions Options(const std::string& dsn) {
    PgOptions o;
    o.dsn = dsn;
    return o;
  }

  absl::StatusOr<BackupReport> Backup(const std::string& to,
                                      Clock* clock = nullptr,
                                      int keep_days = 7) {
    std::ostringstream log;
    return RunBackup(
        {.pg = Options(dsn_), .to = to, .keep_days = keep_days, .clock = clock},
        log);
  }

  absl::StatusOr<RestoreReport> Restore(const std::string& from,
                                        const std::string& target_dsn,
                                        bool drill = false,
                                        bool clean = false) {
    std::ostringstream log;
    return RunRestore({.from = from,
                       .target = Options(target_dsn),
                       .clean = clean,
                       .drill = drill},
                      log);
  }

  std::string dsn_, dir_;
  int written_ = 0;
};

TEST_F(BackupTest, ToADirectoryAndBackChecked) {
  Write(40);
  const std::string to = dir_ + "/backups";
  auto backup = Backup(to);
  TS_ASSERT_OK(backup);
  EXPECT_EQ(backup->manifest.trades.rows, 40);
  EXPECT_EQ(
      backup->manifest.size,
      static_cast<int64_t>(fs::file_size(to + "/" + backup->manifest.dump)));
  // Private: a backup holds every trade.
  EXPECT_EQ(fs::status(to + "/" + backup->manifest.dump).permissions() &
                fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  auto listed = ListBackups(to);
  TS_ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, backup->manifest.name);

  // Into an empty database of the same server: equal to the manifest.
  const std::string target =
      OpsEnvironment::InDatabase(OpsEnvironment::Get().stack().admin_dsn,
                                 OpsEnvironment::Get().EmptyDatabase());
  auto restored = Restore(to, target);
  TS_ASSERT_OK(restored);
  EXPECT_TRUE(restored->matches);
  EXPECT_EQ(restored->restored.rows, 40);
  EXPECT_EQ(restored->restored.sha256, backup->manifest.trades.sha256);
  EXPECT_GT(restored->rto_s, 0);
}

TEST_F(BackupTest, ATargetWithTablesIsRefusedUnlessClean) {
  Write(5);
  const std::string to = dir_ + "/b";
  TS_ASSERT_OK(Backup(to));
  Write(3);  // the live database moved on
  auto refused = Restore(to, dsn_);
  TS_EXPECT_CODE(refused, absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("nothing was touched"));
  auto store = PgTradeStore::Open(Options(dsn_));
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(*(*store)->Count(), 8);
  auto cleaned = Restore(to, dsn_, /*drill=*/false, /*clean=*/true);
  TS_ASSERT_OK(cleaned);
  EXPECT_TRUE(cleaned->matches);
  EXPECT_EQ(*(*store)->Count(), 5);
}

TEST_F(BackupTest, ADumpThatDoesNotMatchItsManifestTouchesNothing) {
  Write(7);
  const std::string to = dir_ + "/b";
  auto backup = Backup(to);
  TS_ASSERT_OK(backup);
  std::ofstream(to + "/" + backup->manifest.dump, std::ios::app) << "x";
  const std::string db = OpsEnvironment::Get().EmptyDatabase();
  std::ostringstream out, err;
  EXPECT_EQ(cli::RunCli({"restore", "--from", to, "--latest", "--pg",
                         OpsEnvironment::InDatabase(
                             OpsEnvironment::Get().stack().admin_dsn, db)},
                        out, err),
            1)
      << err.str();
  EXPECT_THAT(err.str(), HasSubstr("nothing was touched"));
  EXPECT_EQ(OpsEnvironment::Get().Sql(
                db,
                "SELECT count(*) FROM pg_tables WHERE schemaname = "
                "'public'"),
            "0\n");
}

TEST_F(BackupTest, HalfMadeBackupsNeverCount) {
  Write(2);
  const std::string to = dir_ + "/b";
  auto good = Backup(to);
  TS_ASSERT_OK(good);
  // A run killed between the dump and its manifest leaves a dump alone.
  std::ofstream(to + "/trades-20991231T000000Z.dump") << "half";
  auto listed = ListBackups(to);
  TS_ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, good->manifest.name);
}

TEST_F(BackupTest, RetentionKeepsTheNewestAndOnlyDeletesItsOwn) {
  const std::string to = dir_ + "/b";
  fs::create_directories(to);
  std::ofstream(to + "/notes.txt") << "an operator's file";
  std::ofstream(to + "/trades-old.dump") << "not one of ours";
  // Backups taken on days 0, 1, 9 and 10, 7 days kept: day 9's run deletes
  // days 0 and 1, day 10's keeps 9 and itself.
  SimulatedClock clock(*Timestamp::Parse("2026-01-01T02:00:00Z"));
  std::vector<std::string> names;
  std::vector<std::vector<std::string>> deleted;
  for (int advance_days : {0, 1, 8, 1}) {
    clock.Advance(std::chrono::hours(24) * advance_days);
    auto backup = Backup(to, &clock);
    TS_ASSERT_OK(backup);
    names.push_back(backup->manifest.name);
    deleted.push_back(backup->deleted);
  }
  EXPECT_EQ(deleted[2], (std::vector<std::string>{names[0], names[1]}));
  EXPECT_TRUE(deleted[3].empty());
  auto listed = ListBackups(to);
  TS_ASSERT_OK(listed);
  std::vector<std::string> kept;
  for (const BackupEntry& e : *listed) kept.push_back(e.name);
  EXPECT_EQ(kept, (std::vector<std::string>{names[2], names[3]}));
  // Files it did not write stay, whatever their age.
  EXPECT_TRUE(fs::exists(to + "/notes.txt"));
  EXPECT_TRUE(fs::exists(to + "/trades-old.dump"));
}

// Trades written while the backup runs: the manifest describes exactly the
// snapshot dumped, so the restore matches it whatever was written after.
TEST_F(BackupTest, ABackupTakenUnderWritesDescribesWhatItHolds) {
  Write(50);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    auto store = PgTradeStore::Open(Options(dsn_));
    ASSERT_TRUE(store.ok());
    for (int i = 0; !stop; ++i) {
      Trade t = tradestore::testing::SampleTrade();
      t.client_order_id = absl::StrCat("during-", i);
      ASSERT_TRUE((*store)->Insert(t).ok());
    }
  });
  const std::string to = dir_ + "/b";
  auto backup = Backup(to);
  stop = true;
  writer.join();
  TS_ASSERT_OK(backup);
  EXPECT_GE(backup->manifest.trades.rows, 50);
  auto drill = Restore(to, OpsEnvironment::Get().stack().admin_dsn,
                       /*drill=*/true);
  TS_ASSERT_OK(drill);
  EXPECT_TRUE(drill->matches);
  EXPECT_EQ(drill->restored.rows, backup->manifest.trades.rows);
  // The drill's scratch database is gone.
  EXPECT_EQ(OpsEnvironment::Get().Sql(
                "postgres",
                "SELECT count(*) FROM pg_database WHERE datname "
                "LIKE 'tradestore_drill%'"),
            "0\n");
}

// The same jobs against the cloud emulators, through rclone.
TEST_F(BackupTest, ToS3AndAzureThroughTheirEmulators) {
  Write(12);
  for (const bool s3 : {true, false}) {
    SCOPED_TRACE(s3 ? "s3rver" : "azurite");
    testing::Emulator emulator = s3 ? testing::StartS3rver(dir_ + "/s3data")
                                    : testing::StartAzurite(dir_ + "/azdata");
    if (emulator.dest_root.empty()) {
      GTEST_SKIP() << "the storage emulators are not installed (node and "
                      "tools/emulators: run tools/setup.sh)";
    }
    const std::string to = emulator.dest_root + "/daily";
    std::ostringstream out, err;
    ASSERT_EQ(cli::RunCli({"backup", "--pg", dsn_, "--to", to}, out, err), 0)
        << err.str();
    auto listed = ListBackups(to);
    TS_ASSERT_OK(listed);
    ASSERT_EQ(listed->size(), 1u);
    const std::string json = dir_ + (s3 ? "/s3.json" : "/az.json");
    std::ostringstream dout, derr;
    ASSERT_EQ(cli::RunCli({"restore", "--from", to, "--latest", "--pg",
                           OpsEnvironment::Get().stack().admin_dsn, "--drill",
                           "--json", json},
                          dout, derr),
              0)
        << derr.str();
    const std::string report = internal::ReadWholeFile(json);
    EXPECT_THAT(report, HasSubstr("\"matches\": true"));
    EXPECT_THAT(report, HasSubstr("\"rows\": 12"));
  }
}

}  // namespace
}  // namespace tradestore::ops
