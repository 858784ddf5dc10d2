#include "testing/ha_environment.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "testing/ha_health.h"
#include "testing/stack_guard.h"
#include "tradestore/internal/process.h"

namespace tradestore::testing {

HaEnvironment& HaEnvironment::Get() {
  static HaEnvironment* env = new HaEnvironment();
  return *env;
}

void HaEnvironment::SetUp() {
  temp_ = std::make_unique<TempDir>(0711);
  dir_ = temp_->File("ha");
  GuardStack(dir_);
  std::ostringstream log;
  // Archiving, as a production cluster would: the drills run with it.
  auto up =
      ops::StackUp({.dir = dir_, .archive = true, .ha = true, .nodes = 3}, log);
  ASSERT_TRUE(up.ok()) << up.status() << "\n" << log.str();
}

void HaEnvironment::TearDown() {
  if (dir_.empty()) return;
  std::ostringstream log;
  EXPECT_TRUE(ops::StackDown(dir_, /*remove=*/true, log).ok()) << log.str();
  temp_.reset();  // the drills' SQLite files too
}

ops::StackStatus HaEnvironment::Status() {
  auto s = ops::GetStackStatus(dir_);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.value_or(ops::StackStatus{});
}

ops::StackStatus HaEnvironment::WaitHealthy() {
  const auto until = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  for (;;) {
    ops::StackStatus s = Status();
    if (HaHealthy(s)) return s;
    if (std::chrono::steady_clock::now() > until) {
      ADD_FAILURE() << "the HA stack did not become healthy:\n" << s.ToJson();
      return s;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

std::string HaEnvironment::Sql(const std::string& dsn, const std::string& sql) {
  auto r = internal::RunCommand({"psql", "-X", "-q", "-A", "-t", "-v",
                                 "ON_ERROR_STOP=1", "-d", dsn, "-c", sql});
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return "";
  EXPECT_EQ(r->exit_code, 0) << sql << "\n" << r->output;
  return r->out;
}

std::string HaEnvironment::NodeDsn(const ops::StackNode& node,
                                   const std::string& db) const {
  return absl::StrCat("host=127.0.0.1 port=", node.pg_port, " dbname=", db,
                      " user=postgres passfile=", dir_, "/pgpass");
}

std::string HaEnvironment::NewDir() {
  const std::string path = temp_->File(absl::StrCat("d", ++next_));
  std::filesystem::create_directories(path);
  std::filesystem::permissions(path, std::filesystem::perms::all);
  return path;
}

}  // namespace tradestore::testing
