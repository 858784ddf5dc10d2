// The operations tests' main: registers the stack environment, so one stack
// serves every test of the binary and is taken down at the end.
#include <gtest/gtest.h>

#include "testing/hang_reporter.h"
#include "testing/ops_environment.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  tradestore::testing::InstallHangReporter(std::chrono::minutes(5));
  // gtest owns and deletes registered environments; ours is a leaked
  // singleton, so register a forwarding wrapper.
  struct Forward : ::testing::Environment {
    void SetUp() override {
      tradestore::testing::OpsEnvironment::Get().SetUp();
    }
    void TearDown() override {
      tradestore::testing::OpsEnvironment::Get().TearDown();
    }
  };
  ::testing::AddGlobalTestEnvironment(new Forward);
  return RUN_ALL_TESTS();
}
