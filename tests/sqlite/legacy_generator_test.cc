// The generated legacy store holds what the benchmarks and tests say it
// does: by default decimals in every storage class, and with real_decimals
// every good row's quantity and price a REAL.
#include "tradestore/sqlite/legacy_generator.h"

#include <gtest/gtest.h>

#include "testing/sqlite_file.h"
#include "testing/temp_dir.h"

namespace tradestore {
namespace {

std::string Classes(const std::string& path) {
  testing::SqliteFile db(path);
  return db.Query(
      "SELECT group_concat(c) FROM (SELECT DISTINCT typeof(quantity) AS c "
      "FROM trades UNION SELECT DISTINCT typeof(price) FROM trades "
      "ORDER BY 1)");
}

TEST(LegacyGeneratorTest, DecimalsComeInEveryStorageClassByDefault) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/mixed.db";
  ASSERT_TRUE(GenerateLegacyStore({.path = path, .rows = 300}).ok());
  EXPECT_EQ(Classes(path), "blob,integer,real");
}

TEST(LegacyGeneratorTest, RealDecimalsAreAllReal) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/real.db";
  auto made =
      GenerateLegacyStore({.path = path, .rows = 300, .real_decimals = true});
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(made->rows, 300);
  EXPECT_EQ(Classes(path), "real");
}

}  // namespace
}  // namespace tradestore
