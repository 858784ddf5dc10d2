#include "tradestore/internal/failpoint.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

namespace tradestore::internal {
namespace {

class FailpointTest : public ::testing::Test {
 protected:
  void TearDown() override { DisarmFailpoints(); }
};

TEST_F(FailpointTest, RunsItsActionAtTheNthReachOnly) {
  int ran = 0;
  ASSERT_TRUE(ArmFailpoint("relay.after_pg_commit", 3, [&] { ++ran; }).ok());
  Failpoint("relay.after_pg_commit");
  Failpoint("mirror.before_pg_commit");
  Failpoint("relay.after_pg_commit");
  EXPECT_EQ(ran, 0);
  Failpoint("relay.after_pg_commit");
  EXPECT_EQ(ran, 1);
  Failpoint("relay.after_pg_commit");
  EXPECT_EQ(ran, 1);
}

TEST_F(FailpointTest, DisarmedDoesNothing) {
  int ran = 0;
  ASSERT_TRUE(ArmFailpoint("phase.after_commit", 1, [&] { ++ran; }).ok());
  DisarmFailpoints();
  Failpoint("phase.after_commit");
  EXPECT_EQ(ran, 0);
}

TEST_F(FailpointTest, RefusesUnknownNamesAndBadCounts) {
  EXPECT_EQ(ArmFailpoint("relay.after_commit", 1).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ArmFailpoint("phase.after_commit", 0).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ArmFailpointsFromText("phase.after_commit@x").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ArmFailpointsFromText("phase.after_commit,nope").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(
      ArmFailpointsFromText("phase.after_commit@2,relay.after_pg_commit").ok());
}

TEST_F(FailpointTest, AnArmedKillEndsTheProcessWithSigkill) {
  EXPECT_EXIT(
      {
        if (!ArmFailpointsFromText("sqlite.write.after_commit@2").ok()) {
          _exit(3);
        }
        Failpoint("sqlite.write.after_commit");
        Failpoint("sqlite.write.after_commit");
        _exit(0);
      },
      ::testing::KilledBySignal(SIGKILL), "");
}

}  // namespace
}  // namespace tradestore::internal
