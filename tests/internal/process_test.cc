#include "tradestore/internal/process.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "testing/eventually.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace tradestore::internal {
namespace {

using ::testing::HasSubstr;

TEST(RunCommandTest, OutputExitCodeEnvironmentAndDirectory) {
  testing::TempDir dir;
  auto r = RunCommand({"sh", "-c",
                       "echo out; echo err >&2; pwd; echo $X; "
                       "echo ${HOME-unset}; exit 3"},
                      "", {{"X", "set"}, {"HOME", std::nullopt}}, dir.path());
  TS_ASSERT_OK(r);
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "out\n" + dir.path() + "\nset\nunset\n");
  EXPECT_THAT(r->output, HasSubstr("err\n"));
}

TEST(RunCommandTest, AProgramThatCannotStartIsAnError) {
  auto missing = RunCommand({"tradestore-no-such-program"});
  TS_EXPECT_CODE(missing, absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("cannot run tradestore-no-such-program"));
  auto r = RunCommand({"true"}, "", {}, "/no/such/dir");
  TS_ASSERT_OK(r);
  EXPECT_EQ(r->exit_code, 127);
  EXPECT_THAT(r->output, HasSubstr("cannot enter /no/such/dir"));
}

// The backfill's test hook runs psql while its lanes allocate. A child of a
// threaded process that allocates after fork can hang for good on the lock
// another thread held (it did, under ASan, in CI): every run here must end.
TEST(RunCommandTest, RunsWhileOtherThreadsAllocate) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> busy;
  for (int t = 0; t < 2; ++t) {
    busy.emplace_back([&stop] {
      std::vector<std::string> junk;
      while (!stop.load()) {
        junk.emplace_back(1000, 'x');
        if (junk.size() > 100) junk.clear();
      }
    });
  }
  int ran = 0;
  for (int i = 0; i < 200; ++i) {
    auto r = RunCommand({"true"}, "", {{"TRADESTORE_TEST", "1"}});
    if (r.ok() && r->exit_code == 0) ++ran;
  }
  stop = true;
  for (std::thread& t : busy) t.join();
  EXPECT_EQ(ran, 200);
}

// A process with a child and a grandchild, as a postmaster has backends and
// its archiver a command: the three end together, and none lives on.
TEST(KillProcessTreeTest, KillsTheProcessAndEveryDescendant) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t root = fork();
  ASSERT_GE(root, 0);
  if (root == 0) {
    close(fds[0]);
    const pid_t child = fork();
    if (child == 0) {
      const pid_t grandchild = fork();
      if (grandchild == 0) {
        for (;;) pause();
      }
      if (write(fds[1], &grandchild, sizeof grandchild) < 0) _exit(1);
      for (;;) pause();
    }
    if (write(fds[1], &child, sizeof child) < 0) _exit(1);
    for (;;) pause();
  }
  close(fds[1]);
  pid_t descendants[2] = {0, 0};
  for (pid_t& d : descendants) {
    ASSERT_EQ(read(fds[0], &d, sizeof d), static_cast<ssize_t>(sizeof d));
  }
  close(fds[0]);
  EXPECT_TRUE(ProcessAlive(descendants[0]) && ProcessAlive(descendants[1]));

  KillProcessTree(root);
  int status = 0;
  ASSERT_EQ(waitpid(root, &status, 0), root);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  // Orphaned, they are reaped by another parent, or stay zombies: gone.
  EXPECT_TRUE(testing::Eventually([&] {
    return !ProcessAlive(descendants[0]) && !ProcessAlive(descendants[1]);
  }));
  for (pid_t d : descendants) kill(d, SIGKILL);  // should the test fail
}

}  // namespace
}  // namespace tradestore::internal
