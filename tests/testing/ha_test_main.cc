// The HA tests' main: one HA stack serves every test of the binary and is
// taken down at the end.
#include <gtest/gtest.h>

#include "testing/ha_environment.h"
#include "testing/hang_reporter.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  tradestore::testing::InstallHangReporter(std::chrono::minutes(5));
  struct Forward : ::testing::Environment {
    void SetUp() override { tradestore::testing::HaEnvironment::Get().SetUp(); }
    void TearDown() override {
      tradestore::testing::HaEnvironment::Get().TearDown();
    }
  };
  ::testing::AddGlobalTestEnvironment(new Forward);
  return RUN_ALL_TESTS();
}
