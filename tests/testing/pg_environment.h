// The Postgres test harness: one throwaway PostgreSQL 15 cluster with a
// PgBouncer (transaction pool mode) in front, started once per test binary
// and stopped at the end even when tests fail (and by a watchdog if the
// binary dies). Each test takes a fresh database of its own.
#ifndef TRADESTORE_TESTS_TESTING_PG_ENVIRONMENT_H_
#define TRADESTORE_TESTS_TESTING_PG_ENVIRONMENT_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tradestore/ops/local_postgres.h"
#include "tradestore/postgres/pg_options.h"

namespace tradestore::testing {

class PgEnvironment : public ::testing::Environment {
 public:
  // The environment registered by pg_test_main.cc.
  static PgEnvironment& Get();

  void SetUp() override;
  void TearDown() override;

  LocalPostgres& pg() { return *pg_; }

  // A new empty database; returns its name.
  std::string FreshDatabaseName();
  // A new database with the schema migrated; returns its name.
  std::string FreshMigratedDatabase();

 private:
  std::unique_ptr<LocalPostgres> pg_;
  int next_db_ = 0;
};

// Runs `sql` through psql as the superuser in database `db` and returns its
// unaligned output; a failure fails the test and returns "".
std::string Sql(const std::string& db, const std::string& sql);
// The same without the trailing newline: one value, as "42".
std::string SqlValue(const std::string& db, const std::string& sql);

// A login role that signs in by password (cluster-wide, so made once) with
// `grants` in database `db`; returns `db`'s DSN over TCP as that role.
std::string PasswordRole(const std::string& db, const std::string& role,
                         const std::string& password,
                         const std::string& grants);

// PgOptions for tests: a short retry deadline so a failure shows quickly.
PgOptions TestPgOptions(const std::string& dsn);

}  // namespace tradestore::testing

#endif  // TRADESTORE_TESTS_TESTING_PG_ENVIRONMENT_H_
