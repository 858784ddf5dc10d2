// The migrations compiled into the library carry checksums the build
// computed; they must be what hashing the text at run time gives, or every
// database migrated by an earlier build would refuse this one.
#include "tradestore/internal/embedded_sql.h"

#include <gtest/gtest.h>

#include "tradestore/internal/sha256.h"
#include "tradestore/postgres/migrator.h"

namespace tradestore {
namespace {

TEST(EmbeddedSqlTest, BuildChecksumsAreTheSha256OfTheText) {
  const auto& files = internal::EmbeddedMigrations();
  ASSERT_GE(files.size(), 7u);
  for (const auto& f : files) {
    EXPECT_EQ(f.sha256, internal::Sha256Hex(f.text)) << f.name;
  }
  const auto& builtin = BuiltinMigrations();
  ASSERT_EQ(builtin.size(), files.size());
  for (size_t i = 0; i < builtin.size(); ++i) {
    EXPECT_EQ(builtin[i].version, static_cast<int>(i) + 1);
    EXPECT_EQ(builtin[i].checksum, internal::Sha256Hex(builtin[i].sql))
        << builtin[i].name;
  }
  // A known value, so the two sides cannot agree on a wrong hash.
  EXPECT_EQ(internal::Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace tradestore
