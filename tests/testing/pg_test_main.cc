// main() for test binaries that need Postgres: registers the harness so the
// cluster starts before the first test and stops after the last.
#include <gtest/gtest.h>

#include "testing/hang_reporter.h"
#include "testing/pg_environment.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  tradestore::testing::InstallHangReporter(std::chrono::minutes(5));
  // gtest owns and deletes registered environments; ours is a leaked
  // singleton, so register a forwarding wrapper.
  struct Forward : ::testing::Environment {
    void SetUp() override { tradestore::testing::PgEnvironment::Get().SetUp(); }
    void TearDown() override {
      tradestore::testing::PgEnvironment::Get().TearDown();
    }
  };
  ::testing::AddGlobalTestEnvironment(new Forward);
  return RUN_ALL_TESTS();
}
