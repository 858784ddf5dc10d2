// tradestore quarantine list|retry|accept on a backfilled legacy store.
#include "tradestore/migration/quarantine.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <sstream>

#include "absl/strings/str_cat.h"
#include "testing/pg_environment.h"
#include "testing/phases.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"
#include "tradestore/cli/cli.h"
#include "tradestore/migration/backfill.h"
#include "tradestore/postgres/pg_trade_store.h"
#include "tradestore/sqlite/legacy_generator.h"
#include "tradestore/verify/verifier.h"

namespace tradestore {
namespace {

using testing::PgEnvironment;
using testing::TestPgOptions;

class QuarantineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = PgEnvironment::Get().FreshDatabaseName();
    dsn_ = PgEnvironment::Get().pg().Dsn(db_);
    path_ = dir_.File("trade_store.db");
    ASSERT_TRUE(
        GenerateLegacyStore({.path = path_, .rows = 1000, .bad_every = 100})
            .ok());
    auto report = testing::Backfill(path_, dsn_);
    ASSERT_TRUE(report.ok());
    ASSERT_EQ(report->rows_quarantined, 10);
    options_.sqlite_path = path_;
    options_.pg = TestPgOptions(dsn_);
  }

  int Cli(std::vector<std::string> args, std::string* out_text = nullptr) {
    args.insert(args.begin(), "quarantine");
    args.insert(args.end(), {"--sqlite", path_, "--pg", dsn_});
    std::ostringstream out, err;
    const int rc = cli::RunCli(args, out, err);
    if (out_text != nullptr) *out_text = out.str() + err.str();
    return rc;
  }

  // Rewrites a legacy row at the source into a valid one.
  void FixAtSource(int64_t id) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    const std::string sql =
        "UPDATE trades SET symbol = 'BTC-USD', side = 'BUY', quantity = "
        "'1.5', price = '42000.12345678', timestamp = '2024-01-01 00:00:00', "
        "status = 'NEW' WHERE id = " +
        std::to_string(id);
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }

  testing::TempDir dir_;
  std::string db_, dsn_, path_;
  QuarantineOptions options_;
};

TEST_F(QuarantineTest, ListRetryAndAccept) {
  auto listed = ListQuarantine(options_, false);
  TS_ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 10u);
  const int64_t fixed = (*listed)[0].source_id;
  const int64_t broken = (*listed)[1].source_id;
  std::string text;
  EXPECT_EQ(Cli({"list"}, &text), 0);
  EXPECT_NE(text.find("10 unresolved row(s)"), std::string::npos) << text;
  EXPECT_NE(text.find((*listed)[0].reason), std::string::npos);

  // A row still broken at the source stays, with its reason.
  EXPECT_EQ(Cli({"retry", std::to_string(broken)}, &text), 1);
  EXPECT_NE(text.find("still fails: "), std::string::npos) << text;

  FixAtSource(fixed);
  EXPECT_EQ(Cli({"retry", std::to_string(fixed)}, &text), 0) << text;
  EXPECT_NE(text.find("copied into Postgres"), std::string::npos);
  auto pg = PgTradeStore::Open(TestPgOptions(dsn_));
  ASSERT_TRUE(pg.ok());
  auto copied = (*pg)->Get(fixed);
  TS_ASSERT_OK(copied);
  EXPECT_EQ(copied->price.ToString(), "42000.12345678");
  EXPECT_EQ(Cli({"retry", std::to_string(fixed)}, &text), 1);
  EXPECT_NE(text.find("already retried"), std::string::npos);

  EXPECT_EQ(Cli({"accept", std::to_string(broken)}, &text), 2);  // no reason
  EXPECT_EQ(Cli({"accept", std::to_string(broken), "--reason",
                 "test fill, never settled"},
                &text),
            0)
      << text;
  EXPECT_EQ(Cli({"accept", "999999", "--reason", "x"}, &text), 1);
  EXPECT_NE(text.find("not in the quarantine"), std::string::npos);

  listed = ListQuarantine(options_, false);
  TS_ASSERT_OK(listed);
  EXPECT_EQ(listed->size(), 8u);
  auto all = ListQuarantine(options_, true);
  TS_ASSERT_OK(all);
  EXPECT_EQ(all->size(), 10u);

  // The retried row is compared like any other; the accepted one counted.
  VerifyOptions verify;
  verify.sqlite_path = path_;
  verify.pg = TestPgOptions(dsn_);
  std::ostringstream log;
  auto report = RunVerify(verify, log);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->clean()) << log.str();
  EXPECT_EQ(report->quarantined, 9);
}

TEST_F(QuarantineTest, DryRunsSayWhatWouldHappenAndChangeNothing) {
  auto listed = ListQuarantine(options_, false);
  TS_ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 10u);
  const int64_t fixed = (*listed)[0].source_id;
  const int64_t broken = (*listed)[1].source_id;
  FixAtSource(fixed);
  auto entries = [&] {
    return testing::Sql(db_,
                        "SELECT string_agg(source_id || ':' || "
                        "coalesce(resolution, '-') || ':' || reason, ',' "
                        "ORDER BY source_id) FROM trades_quarantine");
  };
  const std::string before = entries();
  std::string text;
  EXPECT_EQ(
      Cli({"retry", std::to_string(fixed), std::to_string(broken), "--dry-run"},
          &text),
      1);
  EXPECT_NE(text.find("dry run, nothing written"), std::string::npos) << text;
  EXPECT_NE(text.find(absl::StrCat(fixed, ": would be copied into Postgres")),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(absl::StrCat(broken, ": still fails: ")),
            std::string::npos)
      << text;
  EXPECT_EQ(Cli({"retry", std::to_string(fixed), "--dry-run"}, &text), 0);
  EXPECT_EQ(Cli({"accept", std::to_string(broken), "--reason", "never settled",
                 "--dry-run"},
                &text),
            0)
      << text;
  EXPECT_NE(text.find("would be accepted: never settled"), std::string::npos)
      << text;
  EXPECT_EQ(Cli({"accept", "999999", "--reason", "x", "--dry-run"}, &text), 1);
  // Nothing moved: the same entries, the fixed row still not in Postgres.
  EXPECT_EQ(entries(), before);
  auto pg = PgTradeStore::Open(TestPgOptions(dsn_));
  ASSERT_TRUE(pg.ok());
  EXPECT_TRUE(absl::IsNotFound((*pg)->Get(fixed).status()));
}

}  // namespace
}  // namespace tradestore
