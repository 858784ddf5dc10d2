#include "testing/restored_copy.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tradestore/clock.h"

namespace tradestore::testing {

bool WaitForPromotion(ops::PgCluster& cluster) {
  for (int i = 0; i < 1200; ++i) {
    auto recovering = cluster.Psql("postgres", "SELECT pg_is_in_recovery()");
    if (recovering.ok() && *recovering == "f\n") return true;
    Clock::Real()->SleepFor(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "the restored server never finished its recovery";
  return false;
}

std::unique_ptr<ops::PgCluster> StartRestoredCopy(const std::string& dir) {
  auto copy = ops::PgCluster::Open(dir);
  EXPECT_TRUE(copy.ok()) << copy.status();
  if (!copy.ok()) return nullptr;
  EXPECT_TRUE(
      (*copy)
          ->SetSetting("unix_socket_directories", absl::StrCat("'", dir, "'"))
          .ok());
  const absl::Status started = (*copy)->Start();
  EXPECT_TRUE(started.ok()) << started;
  if (!started.ok()) return nullptr;
  return WaitForPromotion(**copy) ? *std::move(copy) : nullptr;
}

}  // namespace tradestore::testing
