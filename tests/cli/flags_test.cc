#include "tradestore/cli/flags.h"

#include <cstdlib>

#include <gtest/gtest.h>

#include "testing/status_matchers.h"

namespace tradestore::cli {
namespace {

const std::vector<FlagSpec> kSpecs = {PgFlag(), SqliteFlag(), HelpFlag(),
                                      {"dry-run", "", "x"}};

TEST(FlagsTest, ParsesValuesBooleansAndPositionals) {
  auto p = ParseFlags({"migrate", "--pg", "host=a", "--sqlite=/x.db",
                       "--dry-run"},
                      kSpecs);
  TS_ASSERT_OK(p);
  EXPECT_EQ(p->positional, std::vector<std::string>{"migrate"});
  EXPECT_EQ(*p->Get("pg"), "host=a");
  EXPECT_EQ(*p->Get("sqlite"), "/x.db");
  EXPECT_TRUE(p->Has("dry-run"));
}

TEST(FlagsTest, RefusesUnknownAndIncompleteFlags) {
  auto unknown = ParseFlags({"--nope"}, kSpecs);
  TS_EXPECT_CODE(unknown, absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.status().message(), "unknown flag --nope");
  auto missing = ParseFlags({"--pg"}, kSpecs);
  TS_EXPECT_CODE(missing, absl::StatusCode::kInvalidArgument);
  auto valued_bool = ParseFlags({"--dry-run=yes"}, kSpecs);
  TS_EXPECT_CODE(valued_bool, absl::StatusCode::kInvalidArgument);
}

TEST(FlagsTest, FallsBackToEnvironment) {
  auto p = *ParseFlags({}, kSpecs);
  setenv("TRADESTORE_PG_DSN", "host=fromenv", 1);
  setenv("TRADESTORE_SQLITE", "/env.db", 1);
  EXPECT_EQ(PgDsnFrom(p), "host=fromenv");
  EXPECT_EQ(*SqlitePathFrom(p), "/env.db");
  unsetenv("TRADESTORE_PG_DSN");
  unsetenv("TRADESTORE_SQLITE");
  EXPECT_EQ(PgDsnFrom(p), "");  // libpq's PG* variables take over
  auto none = SqlitePathFrom(p);
  TS_EXPECT_CODE(none, absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tradestore::cli
