#include "testing/pg_environment.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "tradestore/postgres/migrator.h"

namespace tradestore::testing {

PgEnvironment& PgEnvironment::Get() {
  static PgEnvironment* env = new PgEnvironment();
  return *env;
}

void PgEnvironment::SetUp() {
  LocalPostgresOptions options;
  options.start_pgbouncer = true;
  options.ssl = true;
  auto pg = LocalPostgres::Start(options);
  ASSERT_TRUE(pg.ok()) << pg.status();
  pg_ = *std::move(pg);
}

void PgEnvironment::TearDown() { pg_.reset(); }

std::string PgEnvironment::FreshDatabaseName() {
  const std::string name = absl::StrCat("t", getpid(), "_", ++next_db_);
  auto created = pg_->CreateDatabase(name);
  EXPECT_TRUE(created.ok()) << created.status();
  return name;
}

std::string PgEnvironment::FreshMigratedDatabase() {
  const std::string name = FreshDatabaseName();
  auto report = MigrateSchema(TestPgOptions(pg_->Dsn(name)));
  EXPECT_TRUE(report.ok()) << report.status();
  return name;
}

std::string Sql(const std::string& db, const std::string& sql) {
  auto out = PgEnvironment::Get().pg().Psql(db, sql);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : "";
}

std::string SqlValue(const std::string& db, const std::string& sql) {
  std::string v = Sql(db, sql);
  while (!v.empty() && v.back() == '\n') v.pop_back();
  return v;
}

std::string PasswordRole(const std::string& db, const std::string& role,
                         const std::string& password,
                         const std::string& grants) {
  Sql(db, absl::StrCat(
              "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE "
              "rolname = '",
              role, "') THEN CREATE ROLE ", role, " LOGIN PASSWORD '", password,
              "' IN ROLE tradestore_password_auth; END IF; END$$; ", grants));
  return absl::StrCat("host=127.0.0.1 port=", PgEnvironment::Get().pg().port(),
                      " dbname=", db, " user=", role, " password=", password);
}

PgOptions TestPgOptions(const std::string& dsn) {
  PgOptions options;
  options.dsn = dsn;
  options.backoff.initial_delay = std::chrono::milliseconds(10);
  options.backoff.max_delay = std::chrono::milliseconds(200);
  options.backoff.deadline = std::chrono::milliseconds(10000);
  return options;
}

}  // namespace tradestore::testing
