// A reader that cannot write the store's directory (the report job's user)
// still reads an idle WAL store, and learns when a writer changed the file
// under it.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "testing/status_matchers.h"
#include "testing/temp_dir.h"
#include "testing/trades.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore {
namespace {

using testing::SampleTrade;
using testing::TempDir;

// Exit codes of the reading child: which step failed.
enum : int {
  kReadAndSawTheWrite = 0,
  kCannotDropRoot = 10,
  kOpenFailed,
  kWrongCount,
  kChangedTooSoon,
  kPipeFailed,
  kWriteNotSeen,
};

// The child: another user (nobody, when the test runs as root) in a
// directory it cannot write.
[[noreturn]] void ReadAsAnotherUser(const std::string& path, int opened,
                                    int written) {
  if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) {
    _exit(kCannotDropRoot);
  }
  auto store = SqliteTradeStore::Open({.path = path,
                                       .create_if_missing = false,
                                       .read_only = true,
                                       .reader_connections = 1});
  if (!store.ok()) _exit(kOpenFailed);
  auto count = (*store)->Count();
  if (!count.ok() || *count != 3) _exit(kWrongCount);
  if (!(*store)->CheckUnchanged().ok()) _exit(kChangedTooSoon);
  char c = 'x';
  if (write(opened, &c, 1) != 1 || read(written, &c, 1) != 1) {
    _exit(kPipeFailed);
  }
  _exit(absl::IsAborted((*store)->CheckUnchanged()) ? kReadAndSawTheWrite
                                                    : kWriteNotSeen);
}

TEST(SqliteReadOnlyTest, AnIdleStoreInADirectoryTheReaderCannotWrite) {
  TempDir dir;
  const std::string path = dir.File("trade_store.db");
  {
    auto store = SqliteTradeStore::Open({.path = path});
    TS_ASSERT_OK(store);
    for (int i = 0; i < 3; ++i) TS_ASSERT_OK((*store)->Insert(SampleTrade()));
  }
  // Idle: the last connection took its -wal and -shm away.
  ASSERT_FALSE(std::filesystem::exists(path + "-wal"));
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  ASSERT_EQ(chmod(dir.path().c_str(), 0555), 0);

  int opened[2], written[2];
  ASSERT_EQ(pipe(opened), 0);
  ASSERT_EQ(pipe(written), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) ReadAsAnotherUser(path, opened[1], written[0]);
  // The child's ends: a child that ends early gives EOF, not a hang.
  close(opened[1]);
  close(written[0]);
  char c = 0;
  const bool reading = read(opened[0], &c, 1) == 1;
  // The service writes while the reader holds its snapshot.
  ASSERT_EQ(chmod(dir.path().c_str(), 0700), 0);
  if (reading) {
    {
      auto store = SqliteTradeStore::Open({.path = path});
      TS_ASSERT_OK(store);
      TS_ASSERT_OK((*store)->Insert(SampleTrade()));
    }
    ASSERT_EQ(write(written[1], &c, 1), 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), kReadAndSawTheWrite);
  close(opened[0]);
  close(written[1]);
}

}  // namespace
}  // namespace tradestore
