#include "tradestore/postgres/migrator.h"

#include <gtest/gtest.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "testing/pg_environment.h"
#include "testing/status_matchers.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/postgres/pg_trade_store.h"

namespace tradestore {
namespace {

using testing::PgEnvironment;
using testing::TestPgOptions;

std::unique_ptr<PgPool> Pool(const std::string& dsn) {
  auto pool = PgPool::Create(TestPgOptions(dsn));
  EXPECT_TRUE(pool.ok()) << pool.status();
  return pool.ok() ? *std::move(pool) : nullptr;
}

TEST(MigratorTest, SecondRunIsANoOp) {
  auto& env = PgEnvironment::Get();
  const std::string db = env.FreshDatabaseName();
  const std::string dsn = env.pg().Dsn(db);
  auto first = MigrateSchema(TestPgOptions(dsn));
  TS_ASSERT_OK(first);
  EXPECT_EQ(first->applied.size(), BuiltinMigrations().size());
  const std::string before =
      *env.pg().Psql(db,
                     "SELECT string_agg(version || ':' || checksum, ',') FROM "
                     "schema_migrations");
  auto second = MigrateSchema(TestPgOptions(dsn));
  TS_ASSERT_OK(second);
  EXPECT_TRUE(second->applied.empty());
  EXPECT_EQ(second->already_applied,
            static_cast<int>(BuiltinMigrations().size()));
  EXPECT_EQ(second->version, first->version);
  auto pool = Pool(dsn);
  EXPECT_EQ(*AppliedSchemaVersion(*pool), BuiltinMigrations().back().version);
  EXPECT_EQ(*env.pg().Psql(db,
                           "SELECT string_agg(version || ':' || checksum, "
                           "',') FROM schema_migrations"),
            before);
}

TEST(MigratorTest, RefusesAnEditedAppliedFile) {
  auto& env = PgEnvironment::Get();
  const std::string dsn = env.pg().Dsn(env.FreshDatabaseName());
  auto pool = Pool(dsn);
  auto v1 = MakeMigrations({{"0001_t.sql", "CREATE TABLE t (a int);"}});
  TS_ASSERT_OK(Migrate(*pool, *v1));
  auto edited = MakeMigrations({{"0001_t.sql", "CREATE TABLE t (a bigint);"},
                                {"0002_u.sql", "CREATE TABLE u (a int);"}});
  auto refused = Migrate(*pool, *edited);
  TS_EXPECT_CODE(refused, absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("0001_t.sql was edited"),
            std::string::npos)
      << refused.status();
  // Nothing of the refused run was applied.
  EXPECT_EQ(*AppliedSchemaVersion(*pool), 1);
}

TEST(MigratorTest, RefusesADatabaseNewerThanThisBuild) {
  auto& env = PgEnvironment::Get();
  auto pool = Pool(env.pg().Dsn(env.FreshDatabaseName()));
  auto newer = MakeMigrations(
      {{"0001_a.sql", "SELECT 1;"}, {"0002_b.sql", "SELECT 2;"}});
  TS_ASSERT_OK(Migrate(*pool, *newer));
  auto older = MakeMigrations({{"0001_a.sql", "SELECT 1;"}});
  auto refused = Migrate(*pool, *older);
  TS_EXPECT_CODE(refused, absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("does not know"),
            std::string::npos);
}

TEST(MigratorTest, FailingMigrationAppliesNothing) {
  auto& env = PgEnvironment::Get();
  auto pool = Pool(env.pg().Dsn(env.FreshDatabaseName()));
  auto broken = MakeMigrations({{"0001_a.sql", "CREATE TABLE a (x int);"},
                                {"0002_b.sql", "CREATE TABLE nonsense ("}});
  auto result = Migrate(*pool, *broken);
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(*AppliedSchemaVersion(*pool), 0);
}

TEST(MigratorTest, BadFileNamesAreRefused) {
  auto bad = MakeMigrations({{"create.sql", "SELECT 1;"}});
  TS_EXPECT_CODE(bad, absl::StatusCode::kInvalidArgument);
  auto twice = MakeMigrations({{"0001_a.sql", ""}, {"001_b.sql", ""}});
  TS_EXPECT_CODE(twice, absl::StatusCode::kInvalidArgument);
}

TEST(MigratorTest, ConcurrentMigratorsThroughPgBouncerApplyOnce) {
  auto& env = PgEnvironment::Get();
  const std::string db = env.FreshDatabaseName();
  constexpr int kMigrators = 4;
  std::vector<absl::StatusOr<MigrateReport>> results(kMigrators,
                                                     absl::UnknownError(""));
  std::vector<std::thread> threads;
  for (int i = 0; i < kMigrators; ++i) {
    threads.emplace_back([&, i] {
      results[i] = MigrateSchema(TestPgOptions(env.pg().BouncerDsn(db)));
    });
  }
  for (auto& t : threads) t.join();
  size_t applied = 0;
  for (const auto& r : results) {
    TS_ASSERT_OK(r);
    applied += r->applied.size();
  }
  EXPECT_EQ(applied, BuiltinMigrations().size());
  EXPECT_EQ(*env.pg().Psql(db, "SELECT count(*) FROM schema_migrations"),
            absl::StrCat(BuiltinMigrations().size(), "\n"));
}

TEST(MigratorTest, StoreRefusesAnUnmigratedDatabase) {
  auto& env = PgEnvironment::Get();
  auto store =
      PgTradeStore::Open(TestPgOptions(env.pg().Dsn(env.FreshDatabaseName())));
  TS_EXPECT_CODE(store, absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("tradestore schema migrate"),
            std::string::npos);
}

}  // namespace
}  // namespace tradestore
