// schema/postgres.sql must describe exactly what migrations/ produce.
#include <gtest/gtest.h>

#include "testing/pg_environment.h"
#include "testing/status_matchers.h"
#include "tradestore/internal/read_file.h"

namespace tradestore {
namespace {

std::string Catalog(LocalPostgres& pg, const std::string& db) {
  auto text = pg.Psql(
      db,
      "SELECT string_agg(x, E'\\n' ORDER BY x) FROM ("
      " SELECT table_name || '.' || column_name || ' ' || data_type || ' ' ||"
      "  coalesce(numeric_precision || ',' || numeric_scale, '') || ' ' ||"
      "  coalesce(character_maximum_length::text, '') || ' ' || is_nullable ||"
      "  ' ' || coalesce(column_default, '') || ' ' || is_identity AS x"
      " FROM information_schema.columns WHERE table_schema = 'public'"
      " UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'"
      " UNION ALL SELECT conrelid::regclass || ' ' || conname || ' ' ||"
      "  pg_get_constraintdef(oid) FROM pg_constraint"
      "  WHERE connamespace = 'public'::regnamespace) c");
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "";
}

TEST(ReferenceSchemaTest, MatchesWhatTheMigrationsProduce) {
  auto& env = testing::PgEnvironment::Get();
  const std::string migrated = env.FreshMigratedDatabase();
  const std::string reference = env.FreshDatabaseName();
  const std::string sql =
      internal::ReadWholeFile(TRADESTORE_SOURCE_DIR "/schema/postgres.sql");
  ASSERT_FALSE(sql.empty());
  TS_ASSERT_OK(env.pg().Psql(reference, sql));
  const std::string expected = Catalog(env.pg(), migrated);
  EXPECT_NE(expected.find("trades.quantity numeric 18,8"), std::string::npos)
      << expected;
  EXPECT_EQ(Catalog(env.pg(), reference), expected);
}

}  // namespace
}  // namespace tradestore
