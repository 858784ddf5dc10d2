#include "tradestore/postgres/dsn.h"

#include <gtest/gtest.h>

#include "testing/status_matchers.h"

namespace tradestore {
namespace {

TEST(DsnTest, MasksUriPasswords) {
  EXPECT_EQ(MaskDsn("postgresql://app:s3cret@db.example:5432/trades"),
            "postgresql://app:***@db.example:5432/trades");
  EXPECT_EQ(MaskDsn("postgres://app@db/trades?sslmode=require&password=s3cret"),
            "postgres://app@db/trades?sslmode=require&password=***");
  EXPECT_EQ(MaskDsn("postgresql://db/trades"), "postgresql://db/trades");
}

TEST(DsnTest, MasksKeyValuePasswords) {
  EXPECT_EQ(MaskDsn("host=db password=s3cret dbname=x"),
            "host=db password=*** dbname=x");
  EXPECT_EQ(MaskDsn("host=db password = 'a b\\' c' dbname=x"),
            "host=db password = *** dbname=x");
  EXPECT_EQ(MaskDsn("host=db dbname=x"), "host=db dbname=x");
  EXPECT_EQ(MaskDsn(""), "(PG* environment)");
}

TEST(DsnTest, FindsAndScrubsThePassword) {
  EXPECT_EQ(*DsnPassword("host=db password='p w'"), "p w");
  EXPECT_EQ(*DsnPassword("postgresql://u:pw%40x@db/x"), "pw@x");
  EXPECT_EQ(*DsnPassword("host=db"), "");
  auto bad = DsnPassword("host=db password='Sekr1t-xyz");
  TS_EXPECT_CODE(bad, absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(bad.status().message()).find("Sekr1t-xyz"),
            std::string::npos);
  EXPECT_EQ(ScrubSecret("auth failed for pw@x, pw@x", "pw@x"),
            "auth failed for ***, ***");
}

TEST(DsnTest, AddsDefaultsOnlyWhenAbsent) {
  EXPECT_EQ(WithDsnDefault("host=db", "connect_timeout", "5"),
            "host=db connect_timeout=5");
  EXPECT_EQ(WithDsnDefault("host=db connect_timeout=9", "connect_timeout", "5"),
            "host=db connect_timeout=9");
  EXPECT_EQ(WithDsnDefault("postgresql://db/x", "connect_timeout", "5"),
            "postgresql://db/x?connect_timeout=5");
  EXPECT_EQ(WithDsnDefault("postgresql://db/x?sslmode=require",
                           "connect_timeout", "5"),
            "postgresql://db/x?sslmode=require&connect_timeout=5");
  EXPECT_EQ(WithDsnDefault("", "connect_timeout", "5"), "connect_timeout=5");
}

}  // namespace
}  // namespace tradestore
