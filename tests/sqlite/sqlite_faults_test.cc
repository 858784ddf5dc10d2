// SQLite faults as they happen to a live store: another process holding
// the write lock past the busy timeout, and the disk filling up (a file
// size limit, RLIMIT_FSIZE, in a child process). A write that fails is
// never acknowledged, every acknowledged one stays, and the file stays
// intact and writable once the fault is gone.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "testing/sqlite_file.h"
#include "testing/temp_dir.h"
#include "testing/trades.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore {
namespace {

using testing::SampleTrade;

class SqliteFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteTradeStore::Open({.path = path_});
    ASSERT_TRUE(store.ok()) << store.status();
    for (int i = 0; i < 10; ++i)
      ASSERT_TRUE((*store)->Insert(SampleTrade()).ok());
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

}  // namespace
}  // namespace tradestore
