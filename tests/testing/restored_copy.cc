#include "testing/restored_copy.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tradestore/clock.h"

namespace tradestore::testing {

bool ArchiveNow(const SqlRunner& sql, std::chrono::seconds deadline) {
  std::string segment = sql("SELECT pg_walfile_name(pg_switch_wal())");
  if (segment.empty()) {
    ADD_FAILURE() << "the WAL segment could not be switched";
    return false;
  }
  segment.pop_back();  // the newline
  const std::string archived =
      absl::StrCat("SELECT coalesce(last_archived_wal >= '", segment,
                   "', false) FROM pg_stat_archiver");
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (sql(archived) != "t\n") {
    if (std::chrono::steady_clock::now() > until) {
      ADD_FAILURE() << "WAL segment " << segment << " was never archived";
      return false;
    }
    Clock::Real()->SleepFor(std::chrono::milliseconds(100));
  }
  return true;
}

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
