#include "tradestore/cli/flags.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "testing/status_matchers.h"

namespace tradestore::cli {
namespace {

using std::chrono::milliseconds;

const std::vector<FlagSpec> kSpecs = {
    TextFlag("pg", "DSN", "x"),
    TextFlag("sqlite", "PATH", "x"),
    BoolFlag("help", "x"),
    BoolFlag("dry-run", "x"),
    CountFlag("batch-rows", "x", 1, 1'000'000),
    DurationFlag("deadline", "x", std::chrono::seconds(1),
                 std::chrono::hours(24)),
};

TEST(FlagsTest, ParsesValuesBooleansAndPositionals) {
  auto p = ParseFlags({"migrate", "--pg", "host=a", "--sqlite=/x.db",
                       "--dry-run", "-h", "--batch-rows", "500"},
                      kSpecs);
  TS_ASSERT_OK(p);
  EXPECT_EQ(p->positional, std::vector<std::string>{"migrate"});
  EXPECT_EQ(*p->Get("pg"), "host=a");
  EXPECT_EQ(*p->Get("sqlite"), "/x.db");
  EXPECT_TRUE(p->Has("dry-run"));
  EXPECT_TRUE(p->Has("help"));
  EXPECT_EQ(*p->Count("batch-rows"), 500);
}

TEST(FlagsTest, RefusesUnknownAndIncompleteFlagsAndNamesTheNearest) {
  auto unknown = ParseFlags({"--sqllite", "x"}, kSpecs);
  TS_EXPECT_CODE(unknown, absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.status().message(),
            "unknown flag --sqllite (did you mean --sqlite?)");
  EXPECT_EQ(ParseFlags({"--nope"}, kSpecs).status().message(),
            "unknown flag --nope");
  auto missing = ParseFlags({"--pg"}, kSpecs);
  TS_EXPECT_CODE(missing, absl::StatusCode::kInvalidArgument);
  auto valued_bool = ParseFlags({"--dry-run=yes"}, kSpecs);
  TS_EXPECT_CODE(valued_bool, absl::StatusCode::kInvalidArgument);
}

TEST(FlagsTest, CountsStayInTheirBounds) {
  for (const char* bad : {"0", "500000000", "-3", "ten", "1.5", ""}) {
    auto p = ParseFlags({"--batch-rows", bad}, kSpecs);
    TS_EXPECT_CODE(p, absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_NE(ParseFlags({"--batch-rows", "0"}, kSpecs)
                .status()
                .message()
                .find("from 1 to 1000000"),
            std::string::npos);
}

TEST(FlagsTest, OneDurationGrammarEverywhere) {
  const std::pair<const char*, milliseconds> good[] = {
      {"30", std::chrono::seconds(30)},    {"30s", std::chrono::seconds(30)},
      {"500ms", milliseconds(500)},        {"5m", std::chrono::minutes(5)},
      {"2h", std::chrono::hours(2)},       {"2d", std::chrono::hours(48)},
      {"1h30m", std::chrono::minutes(90)}, {"0.5", milliseconds(500)},
  };
  for (const auto& [text, want] : good) {
    auto d = ParseDuration(text);
    TS_ASSERT_OK(d);
    EXPECT_EQ(*d, want) << text;
  }
  for (const char* bad : {"", "soon", "-5s", "5x", "1e3", "inf"}) {
    TS_EXPECT_CODE(ParseDuration(bad), absl::StatusCode::kInvalidArgument)
        << bad;
  }
  // Bounds per flag.
  TS_EXPECT_CODE(ParseFlags({"--deadline", "500ms"}, kSpecs),
                 absl::StatusCode::kInvalidArgument);
  TS_EXPECT_CODE(ParseFlags({"--deadline", "2d"}, kSpecs),
                 absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*ParseFlags({"--deadline", "30"}, kSpecs)->Duration("deadline"),
            std::chrono::seconds(30));
}

TEST(FlagsTest, NearestIsATypoNotAGuess) {
  EXPECT_EQ(Nearest("verfy", {"verify", "relay", "backfill"}), "verify");
  EXPECT_EQ(Nearest("backfil", {"verify", "backfill"}), "backfill");
  EXPECT_EQ(Nearest("frobnicate", {"verify", "backfill"}), "");
}

TEST(FlagsTest, HelpIsWrappedAtEightyColumns) {
  const std::string help =
      FlagHelp({TextFlag("a-rather-long-flag-name", "VALUE",
                         std::string(30, 'w') + " " + std::string(30, 'x') +
                             " " + std::string(30, 'y'))});
  size_t start = 0;
  while (start < help.size()) {
    const size_t end = help.find('\n', start);
    EXPECT_LE(end - start, 80u) << help;
    start = end + 1;
  }
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
