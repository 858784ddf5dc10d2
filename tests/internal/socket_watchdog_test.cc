#include "tradestore/internal/socket_watchdog.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

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

}  // namespace
}  // namespace tradestore::internal
