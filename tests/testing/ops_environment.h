// The operations tests' stack: one Postgres + PgBouncer stack with WAL
// archiving (tradestore stack up --archive) per test binary, taken down at
// the end even when tests fail (and by a watchdog if the binary dies).
#ifndef TRADESTORE_TESTS_TESTING_OPS_ENVIRONMENT_H_
#define TRADESTORE_TESTS_TESTING_OPS_ENVIRONMENT_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "testing/temp_dir.h"
#include "tradestore/ops/stack.h"

namespace tradestore::testing {

class OpsEnvironment : public ::testing::Environment {
 public:
  static OpsEnvironment& Get();

  void SetUp() override;
  void TearDown() override;

  const ops::StackStatus& stack() const { return *stack_; }
  // A new database owned by tradestore_app with the trades schema; returns
  // a DSN to it as tradestore_app, straight to Postgres.
  std::string FreshDatabase();
  // A new empty database; returns its name.
  std::string EmptyDatabase();
  // `dsn` with its database replaced.
  static std::string InDatabase(const std::string& dsn, const std::string& db);
  // Runs SQL as the superuser in `db`; a failure fails the test.
  std::string Sql(const std::string& db, const std::string& sql);
  // A directory for one test's files, reachable by the postgres user.
  std::string NewDir();

 private:
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ops::StackStatus> stack_;
  int next_ = 0;
};

}  // namespace tradestore::testing

#endif  // TRADESTORE_TESTS_TESTING_OPS_ENVIRONMENT_H_
