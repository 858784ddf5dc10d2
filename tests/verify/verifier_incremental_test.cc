// The verifier beside live writes, its incremental runs and the CLI's exit
// codes, JSON and Prometheus files (the fixture: verifier_fixture.h).
#include <gtest/gtest.h>

#include "tradestore/verify/verifier.h"
#include "verify/verifier_fixture.h"

namespace tradestore {
namespace {

using testing::PgEnvironment;
using verifier_tests::kBadEvery;
using verifier_tests::kRows;
using verifier_tests::VerifierTest;

// A write that lands in SQLite during the run and reaches Postgres a moment
// later (the outbox) is read again once it settles, not reported.
TEST_F(VerifierTest, WritesInFlightAreRecheckedNotReported) {
  auto store = SqliteTradeStore::Open({.path = path_});
  ASSERT_TRUE(store.ok());
  auto inserted = (*store)->Insert(testing::SampleTrade());
  TS_ASSERT_OK(inserted);
  auto updated = (*store)->UpdateStatus(20, TradeStatus::kCancelled);
  const bool updated_ok = updated.ok();  // legacy row 20 may refuse the move
  VerifyOptions options = Options();
  int drained = 0;
  options.before_recheck = [&]() -> absl::Status {
    ++drained;
    // What the relay would do: bring Postgres up to date.
    auto pg = PgEnvironment::Get().pg().Psql(
        db_, absl::StrCat(
                 "INSERT INTO trades (id, symbol, side, quantity, price, "
                 "\"timestamp\", status, client_order_id, fee, version, "
                 "created_at, updated_at) VALUES (",
                 inserted->trade.id, ", '", inserted->trade.symbol, "', '",
                 SideName(inserted->trade.side), "', ",
                 inserted->trade.quantity.ToString(), ", ",
                 inserted->trade.price.ToString(), ", '",
                 inserted->trade.timestamp.ToIso8601(), "', '",
                 StatusName(inserted->trade.status), "', ",
                 inserted->trade.client_order_id
                     ? absl::StrCat("'", *inserted->trade.client_order_id, "'")
                     : "NULL",
                 ", ",
                 inserted->trade.fee ? inserted->trade.fee->ToString() : "NULL",
                 ", ", inserted->trade.version, ", '",
                 inserted->trade.created_at.ToIso8601(), "', '",
                 inserted->trade.updated_at.ToIso8601(), "')"));
    if (!pg.ok()) return pg.status();
    if (updated_ok) {
      auto u = PgEnvironment::Get().pg().Psql(
          db_,
          absl::StrCat("UPDATE trades SET status = 'CANCELLED', "
                       "version = ",
                       updated->version, ", updated_at = '",
                       updated->updated_at.ToIso8601(), "' WHERE id = 20"));
      if (!u.ok()) return u.status();
    }
    return absl::OkStatus();
  };
  const VerifyReport report = Verify(options);
  EXPECT_EQ(drained, 1);
  EXPECT_TRUE(report.clean()) << report.ToJson();
  EXPECT_EQ(report.rechecked_in_flight, updated_ok ? 2 : 1);

  // Never delivered: reported after the recheck.
  auto again = (*store)->Insert(testing::MakeTrade(
      "ETH-USD", "2.5", "3100.12345678", "2024-03-01T10:00:00Z"));
  TS_ASSERT_OK(again);
  options.before_recheck = nullptr;
  const VerifyReport late = Verify(options);
  EXPECT_EQ(late.missing_in_postgres_ids,
            (std::vector<int64_t>{again->trade.id}));
  EXPECT_EQ(late.rechecked_in_flight, 1);
}

TEST_F(VerifierTest, IncrementalReadsOnlyWhatChangedSinceTheLastCleanRun) {
  ASSERT_TRUE(Verify(Options()).clean());
  auto store = SqliteTradeStore::Open({.path = path_});
  ASSERT_TRUE(store.ok());
  std::vector<int64_t> ids;
  for (int i = 0; i < 3; ++i) {
    auto t = (*store)->Insert(
        testing::MakeTrade("SOL-USD", "10", "101.5", "2024-03-01T10:00:00.5Z"));
    TS_ASSERT_OK(t);
    ids.push_back(t->trade.id);
  }
  VerifyOptions options = Options();
  options.mode = VerifyMode::kIncremental;
  options.min_age = std::chrono::microseconds(0);
  const VerifyReport report = Verify(options);
  EXPECT_EQ(report.mode, VerifyMode::kIncremental);
  EXPECT_FALSE(report.covers_all_rows);
  EXPECT_EQ(report.rows_sqlite, 3);
  EXPECT_EQ(report.missing_in_postgres_ids, ids);
  EXPECT_FALSE(report.totals_computed);
}

TEST_F(VerifierTest, IncrementalReadsRunsOfNewIdsAndScatteredChangesAlike) {
  ASSERT_TRUE(Verify(Options()).clean());
  auto store = SqliteTradeStore::Open({.path = path_});
  ASSERT_TRUE(store.ok());
  std::vector<int64_t> ids;  // 100 new trades: one run of consecutive ids
  for (int i = 0; i < 100; ++i) {
    auto t = (*store)->Insert(
        testing::MakeTrade("SOL-USD", "10", "101.5", "2024-03-01T10:00:00.5Z"));
    TS_ASSERT_OK(t);
    ids.push_back(t->trade.id);
  }
  // The backfill copies them; then Postgres loses or changes some.
  TS_ASSERT_OK(testing::Backfill(path_, dsn_));
  const std::vector<int64_t> lost = {ids[1], ids[41], ids[42], ids[98]};
  Sql(absl::StrCat("DELETE FROM trades WHERE id IN (", lost[0], ",", lost[1],
                   ",", lost[2], ",", lost[3], ")"));
  // Both ends of the run and its middle, each by the smallest step.
  Sql(
      absl::StrCat("UPDATE trades SET price = price + 0.00000001, updated_at "
                   "= now() WHERE id IN (",
                   ids[0], ",", ids[50], ",", ids[99], ")"));
  // Scattered old rows changed in Postgres alone: a list, not a run.
  Sql("UPDATE trades SET fee = 1, updated_at = now() WHERE id IN (10, 500, "
      "1234)");

  VerifyOptions options = Options();
  options.mode = VerifyMode::kIncremental;
  options.min_age = std::chrono::microseconds(0);
  const VerifyReport report = Verify(options);
  EXPECT_EQ(report.rows_sqlite, 103);
  EXPECT_EQ(report.rows_postgres, 99);
  EXPECT_EQ(report.missing_in_postgres_ids, lost);
  EXPECT_EQ(report.missing_in_sqlite, 0);
  EXPECT_EQ(report.mismatched, 6);
  std::vector<int64_t> mismatched;
  for (const RowMismatch& m : report.mismatches) mismatched.push_back(m.id);
  EXPECT_EQ(mismatched,
            (std::vector<int64_t>{10, 500, 1234, ids[0], ids[50], ids[99]}));
}

TEST_F(VerifierTest, IncrementalWithoutACleanRunFallsBackToFull) {
  VerifyOptions options = Options();
  options.mode = VerifyMode::kIncremental;
  const VerifyReport report = Verify(options);
  EXPECT_EQ(report.mode, VerifyMode::kFull);
  EXPECT_TRUE(report.covers_all_rows);
  EXPECT_EQ(report.rows_sqlite, kRows);
}

TEST_F(VerifierTest, CliExitCodesJsonAndPrometheusFiles) {
  const std::string json = dir_.File("report.json");
  const std::string prom = dir_.File("verify.prom");
  std::ostringstream out, err;
  EXPECT_EQ(cli::RunCli({"verify", "--sqlite", path_, "--pg", dsn_, "--json",
                         json, "--prom", prom, "--min-age", "0"},
                        out, err),
            0)
      << err.str();
  EXPECT_NE(out.str().find("CLEAN"), std::string::npos);
  std::ifstream in(json);
  const nlohmann::json parsed = nlohmann::json::parse(in);
  EXPECT_EQ(parsed["summary"]["clean"], true);
  EXPECT_EQ(parsed["summary"]["quarantined"], kRows / kBadEvery);
  const std::string prom_text = internal::ReadWholeFile(prom);
  EXPECT_NE(prom_text.find("tradestore_verify_clean{mode=\"full\",source="),
            std::string::npos);

  Sql("DELETE FROM trades WHERE id = 42");
  std::ostringstream out2, err2;
  EXPECT_EQ(
      cli::RunCli({"verify", "--sqlite", path_, "--pg", dsn_, "--min-age", "0"},
                  out2, err2),
      1);
  EXPECT_NE(out2.str().find("missing in Postgres: 42"), std::string::npos)
      << out2.str();

  std::ostringstream out3, err3;
  EXPECT_EQ(cli::RunCli({"verify", "--sqlite", path_, "--pg",
                         "host=127.0.0.1 port=1 user=nobody password=s3cret "
                         "dbname=x",
                         "--deadline", "1"},
                        out3, err3),
            2);
  EXPECT_EQ(err3.str().find("s3cret"), std::string::npos) << err3.str();

  std::ostringstream out4, err4;
  EXPECT_EQ(
      cli::RunCli({"verify", "--sqlite", path_, "--pg", dsn_, "--ids", "9-3"},
                  out4, err4),
      2);
  EXPECT_NE(err4.str().find("--ids"), std::string::npos);
}

}  // namespace
}  // namespace tradestore
