#include "testing/ops_environment.h"

#include <filesystem>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "testing/stack_guard.h"
#include "tradestore/internal/process.h"
#include "tradestore/ops/pg_cluster.h"
#include "tradestore/postgres/dsn.h"
#include "tradestore/postgres/migrator.h"

namespace tradestore::testing {

OpsEnvironment& OpsEnvironment::Get() {
  static OpsEnvironment* env = new OpsEnvironment();
  return *env;
}

void OpsEnvironment::SetUp() {
  dir_ = std::make_unique<TempDir>(0711);
  const std::string where = dir_->File("stack");
  GuardStack(where);
  std::ostringstream log;
  auto up = ops::StackUp({.dir = where, .archive = true}, log);
  ASSERT_TRUE(up.ok()) << up.status() << "\n" << log.str();
  stack_ = std::make_unique<ops::StackStatus>(*up);
}

void OpsEnvironment::TearDown() {
  if (stack_ == nullptr) return;
  std::ostringstream log;
  EXPECT_TRUE(ops::StackDown(stack_->dir, /*remove=*/true, log).ok());
  dir_.reset();  // the tests' backups and restored copies too
}

std::string OpsEnvironment::InDatabase(const std::string& dsn,
                                       const std::string& db) {
  auto out = DsnWithDatabase(dsn, db);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.value_or("");
}

std::string OpsEnvironment::Sql(const std::string& db, const std::string& sql) {
  auto cluster = ops::PgCluster::Open(stack_->dir + "/pg");
  EXPECT_TRUE(cluster.ok()) << cluster.status();
  if (!cluster.ok()) return "";
  auto out = (*cluster)->Psql(db, sql);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.value_or("");
}

std::string OpsEnvironment::EmptyDatabase() {
  const std::string name = absl::StrCat("t", getpid(), "_", ++next_);
  Sql("postgres",
      absl::StrCat("CREATE DATABASE ", name, " OWNER tradestore_app"));
  return name;
}

std::string OpsEnvironment::FreshDatabase() {
  const std::string dsn = InDatabase(stack_->primary_dsn, EmptyDatabase());
  PgOptions options;
  options.dsn = dsn;
  auto migrated = MigrateSchema(options);
  EXPECT_TRUE(migrated.ok()) << migrated.status();
  return dsn;
}

std::string OpsEnvironment::NewDir() {
  const std::string path = dir_->File(absl::StrCat("d", ++next_));
  std::filesystem::create_directories(path);
  std::filesystem::permissions(path, std::filesystem::perms::all);
  return path;
}

}  // namespace tradestore::testing
