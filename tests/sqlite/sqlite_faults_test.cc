// SQLite faults as they happen to a live store: another process holding
// the write lock past the busy timeout, the disk filling up (a file size
// limit, RLIMIT_FSIZE, in a child process), a sync, a write or a read
// failing at each point of the writes, a power loss after a failed sync,
// a power loss tearing the newest write, and a power loss with commits
// not synced (testing/fault_vfs.h). A write that fails is never
// acknowledged, every acknowledged one stays, and the file stays intact
// and writable once the fault is gone.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "testing/fault_vfs.h"
#include "testing/sqlite_file.h"
#include "testing/temp_dir.h"
#include "testing/trades.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore {
namespace {

using testing::SampleTrade;

// Each acknowledged id is in the file, once.
::testing::AssertionResult HoldsEachOnce(testing::SqliteFile& file,
                                         const std::vector<int64_t>& acked) {
  for (int64_t id : acked) {
    const std::string n =
        file.Query(absl::StrCat("SELECT count(*) FROM trades WHERE id = ", id));
    if (n != "1") {
      return ::testing::AssertionFailure()
             << "acknowledged id " << id << " stored " << n << " times";
    }
  }
  return ::testing::AssertionSuccess();
}

class SqliteFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteTradeStore::Open({.path = path_});
    ASSERT_TRUE(store.ok()) << store.status();
    for (int i = 0; i < 10; ++i) {
      auto inserted = (*store)->Insert(SampleTrade());
      ASSERT_TRUE(inserted.ok());
      first_ids_.push_back(inserted->trade.id);
    }
  }

  void ExpectIntactWith(const std::vector<int64_t>& acked, int64_t count) {
    {
      testing::SqliteFile file(path_);
      EXPECT_EQ(file.Query("PRAGMA integrity_check"), "ok");
    }
    auto store = SqliteTradeStore::Open({.path = path_});
    ASSERT_TRUE(store.ok()) << store.status();
    for (int64_t id : acked) EXPECT_TRUE((*store)->Get(id).ok()) << id;
    EXPECT_EQ(*(*store)->Count(), count);
    // Writable again.
    EXPECT_TRUE((*store)->Insert(SampleTrade()).ok());
  }

  testing::TempDir dir_;
  std::string path_ = dir_.File("store.db");
  std::vector<int64_t> first_ids_;  // inserted by SetUp
};

TEST_F(SqliteFaultsTest, AWriteLockHeldElsewhereIsRetryableNotAcknowledged) {
  int locked[2], release[2];
  ASSERT_EQ(pipe(locked), 0);
  ASSERT_EQ(pipe(release), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Another process, as an old tool or a stray sqlite3 shell would.
    sqlite3* db = nullptr;
    if (sqlite3_open(path_.c_str(), &db) != SQLITE_OK ||
        sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) !=
            SQLITE_OK) {
      _exit(1);
    }
    char c = 'x';
    if (write(locked[1], &c, 1) != 1 || read(release[0], &c, 1) != 1) _exit(1);
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    _exit(0);
  }
  char c = 0;
  ASSERT_EQ(read(locked[0], &c, 1), 1);
  {
    auto store =
        SqliteTradeStore::Open({.path = path_, .busy_timeout_ms = 200});
    ASSERT_TRUE(store.ok()) << store.status();
    auto refused = (*store)->Insert(SampleTrade());
    EXPECT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();
    auto update = (*store)->UpdateStatus(1, TradeStatus::kFilled);
    EXPECT_TRUE(absl::IsUnavailable(update.status())) << update.status();
  }
  ASSERT_EQ(write(release[1], &c, 1), 1);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  for (int fd : {locked[0], locked[1], release[0], release[1]}) close(fd);
  ExpectIntactWith({}, 10);
}

TEST_F(SqliteFaultsTest, AFullDiskFailsWritesAndLosesNoAcknowledgedOne) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto wal = fs::file_size(path_ + "-wal", ec);
  const rlim_t limit = static_cast<rlim_t>(fs::file_size(path_)) +
                       (ec ? 0 : static_cast<rlim_t>(wal)) + 256 * 1024;
  int acks[2];
  ASSERT_EQ(pipe(acks), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Writing past the limit fails with EFBIG instead of killing.
    signal(SIGXFSZ, SIG_IGN);
    rlimit fsize{limit, limit};
    if (setrlimit(RLIMIT_FSIZE, &fsize) != 0) _exit(3);
    auto store = SqliteTradeStore::Open({.path = path_});
    if (!store.ok()) _exit(4);
    for (int i = 0; i < 100000; ++i) {
      auto written = (*store)->Insert(SampleTrade());
      if (!written.ok()) _exit(0);  // the disk is full: nothing acknowledged
      const int64_t id = written->trade.id;
      if (write(acks[1], &id, sizeof id) != sizeof id) _exit(5);
    }
    _exit(6);  // never filled up
  }
  close(acks[1]);
  std::vector<int64_t> acked;
  int64_t id = 0;
  while (read(acks[0], &id, sizeof id) == sizeof id) acked.push_back(id);
  close(acks[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "wait status " << status;
  EXPECT_FALSE(acked.empty());
  ExpectIntactWith(acked, 10 + static_cast<int64_t>(acked.size()));
}

TEST_F(SqliteFaultsTest, ASyncFailingAtEachPointThenPowerLossLosesNoAck) {
  std::vector<int64_t> acked = first_ids_;
  int64_t unknown = 0, unknown_kept = 0;
  // Each round fails a later sync: the WAL's at a commit, or a
  // checkpoint's, then the power goes.
  for (int nth = 1; nth <= 12; ++nth) {
    SCOPED_TRACE(nth);
    std::string unknown_key;
    {
      testing::FaultVfs vfs;
      auto store = SqliteTradeStore::Open({.path = path_});
      ASSERT_TRUE(store.ok()) << store.status();
      vfs.FailSync(nth);
      for (int i = 0; i < 40 && vfs.sync_failures() == 0; ++i) {
        const Trade t = testing::KeyedTrade(absl::StrCat("vfs-", nth, "-", i));
        auto inserted = (*store)->Insert(t);
        if (inserted.ok()) {
          acked.push_back(inserted->trade.id);
          continue;
        }
        // Never reported as plainly failed: its frames may be on disk.
        EXPECT_TRUE(absl::IsUnknown(inserted.status())) << inserted.status();
        ++unknown;
        unknown_key = *t.client_order_id;
      }
      EXPECT_EQ(vfs.sync_failures(), 1);
      vfs.PowerLoss();
      store->reset();  // its closing I/O fails: as a crash
    }
    testing::SqliteFile file(path_);
    ASSERT_EQ(file.Query("PRAGMA integrity_check"), "ok");
    ASSERT_TRUE(HoldsEachOnce(file, acked));
    if (!unknown_key.empty()) {
      const std::string n = file.Query(
          absl::StrCat("SELECT count(*) FROM trades WHERE client_order_id = '",
                       unknown_key, "'"));
      EXPECT_TRUE(n == "0" || n == "1") << unknown_key << ": " << n;
      if (n == "1") ++unknown_kept;
    }
  }
  std::cout << "[ sqlite faults ] " << acked.size() << " acknowledged, "
            << unknown << " unknown (" << unknown_kept
            << " kept after the power loss), 0 lost\n";
  ExpectIntactWith(acked, static_cast<int64_t>(acked.size()) + unknown_kept);
}

// Jepsen's rule for one insert whose outcome was an error: kUnknown may or
// may not be stored, anything else must not be.
void ExpectFailureHonest(testing::SqliteFile& file, const std::string& key,
                         const absl::Status& status, int64_t* kept) {
  const std::string n = file.Query(absl::StrCat(
      "SELECT count(*) FROM trades WHERE client_order_id = '", key, "'"));
  if (absl::IsUnknown(status)) {
    EXPECT_TRUE(n == "0" || n == "1") << key << ": " << n;
    if (n == "1") ++*kept;
  } else {
    EXPECT_EQ(n, "0") << key << " failed (" << status << ") but is stored";
  }
}

TEST_F(SqliteFaultsTest, AWriteOrReadFailingAtEachPointLosesNoAck) {
  std::vector<int64_t> acked = first_ids_;
  int64_t failed = 0, unknown = 0, kept = 0;
  for (const bool reads : {false, true}) {
    for (int nth = 1; nth <= 24; ++nth) {
      SCOPED_TRACE(absl::StrCat(reads ? "read " : "write ", nth));
      std::vector<std::pair<std::string, absl::Status>> errors;
      {
        testing::FaultVfs vfs;
        auto store = SqliteTradeStore::Open({.path = path_});
        ASSERT_TRUE(store.ok()) << store.status();
        if (reads) {
          vfs.FailRead(nth);
        } else {
          vfs.FailWrite(nth);
        }
        // Inserts and lookups go on past the fault: the store recovers
        // from a failed I/O without being reopened.
        for (int i = 0; i < 30; ++i) {
          const Trade t =
              testing::KeyedTrade(absl::StrCat("io-", reads, "-", nth, "-", i));
          auto inserted = (*store)->Insert(t);
          if (inserted.ok()) {
            acked.push_back(inserted->trade.id);
            EXPECT_TRUE((*store)->Get(inserted->trade.id).ok() ||
                        vfs.io_failures() > 0);
          } else {
            errors.emplace_back(*t.client_order_id, inserted.status());
          }
        }
        EXPECT_LE(errors.size(), 1u);
        // A fault that did not come (few reads reach the file) must not
        // come now.
        vfs.FailRead(0);
        vfs.FailWrite(0);
        auto last = (*store)->Insert(SampleTrade());
        ASSERT_TRUE(last.ok()) << last.status();
        acked.push_back(last->trade.id);
      }
      testing::SqliteFile file(path_);
      ASSERT_EQ(file.Query("PRAGMA integrity_check"), "ok");
      for (const auto& [key, status] : errors) {
        (absl::IsUnknown(status) ? unknown : failed)++;
        ExpectFailureHonest(file, key, status, &kept);
      }
    }
  }
  {
    testing::SqliteFile file(path_);
    ASSERT_TRUE(HoldsEachOnce(file, acked));
  }
  std::cout << "[ sqlite faults ] I/O errors at 48 points: " << acked.size()
            << " acknowledged, " << failed << " failed, " << unknown
            << " unknown (" << kept << " kept), 0 lost\n";
  ExpectIntactWith(acked, static_cast<int64_t>(acked.size()) + kept);
}

TEST_F(SqliteFaultsTest, APowerLossTearingTheNewestWriteLosesNoAck) {
  std::vector<int64_t> acked = first_ids_;
  int64_t undone = 0, kept = 0;
  // Each round ends at a later write: a WAL frame, a commit's, or a
  // checkpoint's page, torn to its first sector.
  for (int writes = 1; writes <= 40; writes += 3) {
    SCOPED_TRACE(writes);
    std::vector<std::pair<std::string, absl::Status>> errors;
    {
      testing::FaultVfs vfs;
      auto store = SqliteTradeStore::Open({.path = path_});
      ASSERT_TRUE(store.ok()) << store.status();
      // The write after the last one allowed fails; power goes right after.
      vfs.FailWrite(writes + 1);
      for (int i = 0; i < 40 && vfs.io_failures() == 0; ++i) {
        const Trade t =
            testing::KeyedTrade(absl::StrCat("torn-", writes, "-", i));
        auto inserted = (*store)->Insert(t);
        if (inserted.ok()) {
          acked.push_back(inserted->trade.id);
        } else {
          errors.emplace_back(*t.client_order_id, inserted.status());
        }
      }
      vfs.PowerLoss(/*torn=*/true);
      store->reset();
      undone += vfs.bytes_undone();
    }
    testing::SqliteFile file(path_);
    ASSERT_EQ(file.Query("PRAGMA integrity_check"), "ok");
    ASSERT_TRUE(HoldsEachOnce(file, acked));
    for (const auto& [key, status] : errors) {
      ExpectFailureHonest(file, key, status, &kept);
    }
  }
  std::cout << "[ sqlite faults ] torn writes at 14 points: " << acked.size()
            << " acknowledged, 0 lost; " << undone << " bytes undone\n";
  ExpectIntactWith(acked, static_cast<int64_t>(acked.size()) + kept);
}

TEST_F(SqliteFaultsTest, PowerLossWithSyncNormalStaysIntact) {
  // synchronous=NORMAL does not sync the WAL at commit: a power loss may
  // take the last commits (documented), never the file's integrity.
  int64_t undone = 0;
  {
    testing::FaultVfs vfs;
    auto store = SqliteTradeStore::Open({.path = path_, .sync_full = false});
    ASSERT_TRUE(store.ok());
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE((*store)->Insert(SampleTrade()).ok());
    }
    vfs.PowerLoss();
    store->reset();
    undone = vfs.bytes_undone();
  }
  EXPECT_GT(undone, 0);
  testing::SqliteFile file(path_);
  EXPECT_EQ(file.Query("PRAGMA integrity_check"), "ok");
  int64_t count = 0;
  ASSERT_TRUE(
      absl::SimpleAtoi(file.Query("SELECT count(*) FROM trades"), &count));
  EXPECT_GE(count, 10);  // the ten synced before the store reopened
  EXPECT_LE(count, 60);
  std::cout << "[ sqlite faults ] synchronous=NORMAL: " << count
            << " of 60 trades after the power loss, " << undone
            << " unsynced bytes undone\n";
}

}  // namespace
}  // namespace tradestore
