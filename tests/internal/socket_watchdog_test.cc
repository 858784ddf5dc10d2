#include "tradestore/internal/socket_watchdog.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace tradestore::internal {
namespace {

class SocketWatchdogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0);
  }
  void TearDown() override {
    close(fds_[0]);
    close(fds_[1]);
  }
  int fds_[2];
};

TEST_F(SocketWatchdogTest, ABlockedReadPastTheLimitReturns) {
  const int64_t fired = SocketGuardsFired();
  SocketGuard guard(fds_[0], std::chrono::milliseconds(50));
  char c;
  // Nothing is ever written: only the shutdown ends this read.
  EXPECT_EQ(recv(fds_[0], &c, 1, 0), 0);
  EXPECT_TRUE(guard.Disarm());
  EXPECT_TRUE(guard.Disarm());  // idempotent
  EXPECT_EQ(SocketGuardsFired(), fired + 1);
}

TEST_F(SocketWatchdogTest, ADisarmedGuardLeavesTheSocketAlone) {
  {
    SocketGuard guard(fds_[0], std::chrono::hours(1));
    EXPECT_FALSE(guard.Disarm());
  }
  SocketGuard unarmed(fds_[0], std::chrono::milliseconds(0));
  ASSERT_EQ(send(fds_[1], "x", 1, 0), 1);
  char c = 0;
  EXPECT_EQ(recv(fds_[0], &c, 1, 0), 1);
  EXPECT_EQ(c, 'x');
  EXPECT_FALSE(unarmed.Disarm());
}

// Ends `pid` within `limit`; false when it had to be killed.
bool ExitsWithin(pid_t pid, std::chrono::seconds limit, int* status) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (waitpid(pid, status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > until) {
      kill(pid, SIGKILL);
      waitpid(pid, status, 0);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// The child of a fork while other threads arm and disarm guards (and so
// allocate) must not hang in the watchdog's fork handler: it once freed the
// parent's guards and, under ASan, spun forever on an allocator lock another
// thread held at the fork. (Under ASan such a child may not allocate at all,
// so this one only exits, as a child that execs does.)
TEST_F(SocketWatchdogTest, AForkWhileOtherThreadsArmGuardsNeverHangs) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> busy;
  for (int t = 0; t < 3; ++t) {
    busy.emplace_back([&] {
      while (!stop) {
        SocketGuard a(fds_[1], std::chrono::hours(1));
        SocketGuard b(fds_[1], std::chrono::hours(1));
      }
    });
  }
  int hung = 0, failed = 0;
  for (int i = 0; i < 200 && hung == 0; ++i) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(0);
    int status = 0;
    if (!ExitsWithin(pid, std::chrono::seconds(60), &status)) {
      ++hung;
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      ++failed;
    }
  }
  stop = true;
  for (auto& t : busy) t.join();
  EXPECT_EQ(hung, 0);
  EXPECT_EQ(failed, 0);
}

}  // namespace
}  // namespace tradestore::internal
