#include "tradestore/postgres/dsn.h"

#include <gtest/gtest.h>

#include "testing/status_matchers.h"
#include "tradestore/postgres/pg_pool.h"

namespace tradestore {
namespace {

TEST(DsnTest, MasksUriPasswords) {
  EXPECT_EQ(MaskDsn("postgresql://app:s3cret@db.example:5432/trades"),
            "postgresql://app:***@db.example:5432/trades");
  EXPECT_EQ(MaskDsn("postgres://app@db/trades?sslmode=require&password=s3cret"),
            "postgres://app:***@db/trades?sslmode=require");
  EXPECT_EQ(MaskDsn("postgresql://db/trades"), "postgresql://db/trades");
  EXPECT_EQ(MaskDsn("postgresql://a:1,b:2/x?target_session_attrs=read-write"),
            "postgresql://a:1,b:2/x?target_session_attrs=read-write");
}

TEST(DsnTest, MasksKeyValuePasswords) {
  EXPECT_EQ(MaskDsn("host=db password=s3cret dbname=x"),
            "host=db dbname=x password=***");
  EXPECT_EQ(MaskDsn("host=db password = 'a b\\' c' dbname=x"),
            "host=db dbname=x password=***");
  EXPECT_EQ(MaskDsn("host=db dbname=x"), "host=db dbname=x");
  EXPECT_EQ(MaskDsn("host=db dbname='my db'"), "host=db dbname='my db'");
  EXPECT_EQ(MaskDsn(""), "(PG* environment)");
}

// Forms that printed a password before masking went through libpq's parser.
TEST(DsnTest, NeverShowsAPasswordInAnyForm) {
  const char* const kSecrets[] = {"S3cr3t", "Pa55w0rd", "zzPa55"};
  for (const char* dsn : {
           "postgresql://app:S3cr3t%zzPa55w0rd@db/x",  // bad percent-encoding
           "postgresql://app:S3cr3t/Pa55w0rd@db/x",    // a slash in it
           "host=db password=S3cr3t Pa55w0rd",         // unquoted space
           "postgresql://app@db/x?passwor%64=S3cr3tPa55w0rd",  // encoded key
           "host=db password='S3cr3tPa55w0rd",  // unterminated quote
           "postgresql://S3cr3tPa55w0rd:S3cr3tPa55w0rd@db/x",  // as the user
       }) {
    const std::string shown = MaskDsn(dsn);
    for (const char* secret : kSecrets) {
      EXPECT_EQ(shown.find(secret), std::string::npos)
          << dsn << " -> " << shown;
    }
    auto password = DsnPassword(dsn);
    if (!password.ok()) {
      for (const char* secret : kSecrets) {
        EXPECT_EQ(std::string(password.status().message()).find(secret),
                  std::string::npos)
            << password.status();
      }
    }
  }
  EXPECT_EQ(MaskDsn("host=db password=S3cr3t Pa55w0rd"),
            "(a DSN libpq cannot parse; not shown)");
  EXPECT_EQ(MaskDsn("postgresql://app@db/x?passwor%64=S3cr3t"),
            "postgresql://app:***@db/x");
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

TEST(DsnTest, ThePoolNoticesADeadPeerUnlessTheDsnSaysOtherwise) {
  PgOptions options;
  options.dsn = "host=db keepalives_idle=60";
  const std::string dsn = ConnectionDsn(options);
  EXPECT_NE(dsn.find("keepalives=1"), std::string::npos) << dsn;
  EXPECT_NE(dsn.find("keepalives_idle=60"), std::string::npos) << dsn;
  EXPECT_EQ(dsn.find("keepalives_idle=10"), std::string::npos) << dsn;
  EXPECT_NE(dsn.find("keepalives_interval=5"), std::string::npos) << dsn;
  EXPECT_NE(dsn.find("keepalives_count=3"), std::string::npos) << dsn;
  EXPECT_NE(dsn.find("tcp_user_timeout=30000"), std::string::npos) << dsn;
  options.dead_peer_timeout_s = 0;
  EXPECT_EQ(ConnectionDsn(options).find("keepalives=1"), std::string::npos);
  EXPECT_EQ(ConnectionDsn(options).find("tcp_user_timeout"), std::string::npos);
}

}  // namespace
}  // namespace tradestore
