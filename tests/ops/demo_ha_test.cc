// `tradestore demo --ha` as a new user runs it: the six steps on an HA
// stack of its own, the leader killed under the dual-write load with no
// acknowledged trade lost, and nothing of that stack left afterwards.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "testing/ha_environment.h"
#include "testing/stack_guard.h"
#include "tradestore/cli/cli.h"
#include "tradestore/ops/stack.h"

namespace tradestore {
namespace {

TEST(DemoHaTest, MigratesThroughAFailoverAndLeavesNothingRunning) {
  const std::string dir = testing::HaEnvironment::Get().NewDir() + "/demo";
  // Should this binary die mid-demo, the demo's stack goes down with it.
  testing::GuardStack(dir + "/stack");
  std::ostringstream out, err;
  ASSERT_EQ(
      cli::RunCli({"demo", "--ha", "--rows", "3000", "--dir", dir}, out, err),
      0)
      << out.str() << err.str();
  const std::string text = out.str();
  EXPECT_NE(text.find("postmaster killed mid-load"), std::string::npos) << text;
  EXPECT_NE(text.find(" 0 lost; outbox drained; verify clean"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("phase postgres_only -> archived"), std::string::npos)
      << text;
  EXPECT_FALSE(ops::GetStackStatus(dir + "/stack").ok());
  EXPECT_FALSE(std::filesystem::exists(dir + "/stack"));
}

TEST(DemoHaTest, RefusesAPostgresOfItsOwn) {
  std::ostringstream out, err;
  EXPECT_EQ(cli::RunCli({"demo", "--ha", "--pg", "host=127.0.0.1"}, out, err),
            2);
  EXPECT_NE(err.str().find("leave out --pg"), std::string::npos) << err.str();
}

}  // namespace
}  // namespace tradestore
