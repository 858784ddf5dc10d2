// The HA tests' stack: one `tradestore stack up --ha --archive` (etcd,
// three Patroni nodes archiving with pgBackRest, HAProxy, PgBouncer) per
// test binary, taken down at the end even
// when tests fail (and by a watchdog if the binary dies).
#ifndef TRADESTORE_TESTS_TESTING_HA_ENVIRONMENT_H_
#define TRADESTORE_TESTS_TESTING_HA_ENVIRONMENT_H_

#include <memory>
#include <string>

#include "testing/temp_dir.h"
#include "tradestore/ops/stack.h"

namespace tradestore::testing {

class HaEnvironment {
 public:
  static HaEnvironment& Get();

  void SetUp();
  void TearDown();

  const std::string& dir() const { return dir_; }
  // As it is now: pids, roles, lag.
  ops::StackStatus Status();
  // Waits until every node runs, one leads and one is its sync standby,
  // and HAProxy sends the primary port to the leader (a 3-minute deadline
  // ends a hung test; nothing is timed).
  ops::StackStatus WaitHealthy();
  // Runs SQL through psql on `dsn`; returns its unaligned output. A
  // failure fails the test.
  std::string Sql(const std::string& dsn, const std::string& sql);
  // A DSN straight to one node's Postgres, as the superuser.
  std::string NodeDsn(const ops::StackNode& node,
                      const std::string& db = "trades") const;
  // A directory for one test's files.
  std::string NewDir();

 private:
  std::unique_ptr<TempDir> temp_;
  std::string dir_;
  int next_ = 0;
};

}  // namespace tradestore::testing

#endif  // TRADESTORE_TESTS_TESTING_HA_ENVIRONMENT_H_
