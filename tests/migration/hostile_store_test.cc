// Legacy stores shaped the way probing found the migration failing: a NUL
// byte, ids of 0 and below, a ninth decimal kept as REAL, keys that are not
// the rowid, the largest id, values Postgres refuses, text that would forge
// a report line. Every row of such a file is copied, quarantined with its
// reason, or the whole store is refused; nothing is left half done.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "absl/strings/str_cat.h"
#include "testing/pg_environment.h"
#include "testing/sqlite_file.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"
#include "tradestore/migration/backfill.h"
#include "tradestore/verify/verifier.h"

namespace tradestore {
namespace {

using ::testing::HasSubstr;
using testing::LegacyRowsSql;
using testing::PgEnvironment;
using testing::SqliteFile;
using testing::TempDir;
using testing::TestPgOptions;

class HostileStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    UseDatabase(PgEnvironment::Get().FreshDatabaseName());
  }

  void UseDatabase(const std::string& db) {
    db_ = db;
    dsn_ = PgEnvironment::Get().pg().Dsn(db_);
  }

  // A legacy store with good rows first..last and the table `columns`
  // adds (", note TEXT").
  std::string Store(int64_t first, int64_t last,
                    const std::string& extra_columns = "") {
    path_ = dir_.File(absl::StrCat("store", ++stores_, ".db"));
    SqliteFile file(path_);
    std::string table = testing::kLegacyTradesTable;
    table.insert(table.size() - 1, extra_columns);
    file.Exec(table);
    file.Exec(LegacyRowsSql(first, last));
    return path_;
  }

  void Edit(const std::string& sql) { SqliteFile(path_).Exec(sql); }

  absl::StatusOr<BackfillReport> Backfill(int batch_rows = 20) {
    BackfillOptions options;
    options.sqlite_path = path_;
    options.pg = TestPgOptions(dsn_);
    options.batch_rows = batch_rows;
    std::ostringstream log;
    return RunBackfill(options, log);
  }

  VerifyReport Verify() {
    VerifyOptions options;
    options.sqlite_path = path_;
    options.pg = TestPgOptions(dsn_);
    options.min_age = std::chrono::milliseconds(0);
    options.batch_rows = 1000;
    std::ostringstream log;
    auto report = RunVerify(options, log);
    EXPECT_TRUE(report.ok()) << report.status();
    return report.ok() ? *report : VerifyReport();
  }

  std::string Sql(const std::string& sql) { return testing::Sql(db_, sql); }

  std::string Reason(int64_t id) {
    return Sql(absl::StrCat(
        "SELECT reason FROM trades_quarantine WHERE source_id = ", id));
  }

  // The backfill left nothing behind: no fence, no deferred index.
  void ExpectNothingDeferred() {
    EXPECT_EQ(Sql("SELECT count(*) FROM deferred_indexes"), "0\n");
    EXPECT_EQ(Sql("SELECT count(*) FROM pg_trigger WHERE tgname = "
                  "'trades_backfill_fence'"),
              "0\n");
    EXPECT_EQ(Sql("SELECT count(*) FROM pg_constraint WHERE conrelid = "
                  "'trades'::regclass AND contype = 'p'"),
              "1\n");
  }

  TempDir dir_;
  std::string db_, dsn_, path_;
  int stores_ = 0;
};

TEST_F(HostileStoreTest, ANulByteQuarantinesItsRowAndTheRunGoesOn) {
  Store(1, 60, ", note TEXT, client_order_id TEXT");
  Edit(
      "UPDATE trades SET note = 'a' || char(0) || 'b' WHERE id = 17;"
      "UPDATE trades SET symbol = 'AA' || char(0) || 'PL' WHERE id = 18;"
      "UPDATE trades SET status = 'NEW' || char(0) WHERE id = 19;"
      "UPDATE trades SET client_order_id = 'k' || char(0) WHERE id = 20;"
      "UPDATE trades SET note = 'plain' WHERE id = 21");
  auto report = Backfill();
  TS_ASSERT_OK(report);
  EXPECT_EQ(report->rows_read, 60);
  EXPECT_EQ(report->rows_copied, 56);
  EXPECT_EQ(report->rows_quarantined, 4);
  EXPECT_THAT(Reason(17), HasSubstr("\"note\": TEXT \"a\\x00b\" holds a NUL"));
  EXPECT_THAT(Reason(18), HasSubstr("symbol: \"AA\\x00PL\""));
  EXPECT_THAT(Reason(19), HasSubstr("status: \"NEW\\x00\""));
  EXPECT_THAT(Reason(20), HasSubstr("client_order_id: \"k\\x00\""));
  // The raw value is kept, as bytes where jsonb cannot hold the text.
  EXPECT_EQ(Sql("SELECT raw->'note'->>'$hex' FROM trades_quarantine WHERE "
                "source_id = 17"),
            "610062\n");
  EXPECT_EQ(Sql("SELECT extra->>'note' FROM trades WHERE id = 21"), "plain\n");
  ExpectNothingDeferred();
  const VerifyReport verify = Verify();
  EXPECT_TRUE(verify.clean());
  EXPECT_EQ(verify.quarantined, 4);
  // A second run changes nothing and another store is not refused.
  auto again = Backfill();
  TS_ASSERT_OK(again);
  EXPECT_EQ(again->rows_copied, 0);
  Store(100, 120);
  TS_EXPECT_OK(Backfill());
}

TEST_F(HostileStoreTest, AColumnNameThatIsNotUtf8IsKeptUnderItsBytes) {
  // SQLite takes any bytes as a name; JSON keys must be UTF-8 (found by
  // the legacy_row fuzz target: the quarantine's JSON threw).
  const std::string name = "n\xd9T";
  Store(1, 30, absl::StrCat(", \"", name, "\" TEXT"));
  Edit(absl::StrCat("UPDATE trades SET \"", name,
                    "\" = 'v' WHERE id = 5;"
                    "UPDATE trades SET price = -1 WHERE id = 6"));
  auto report = Backfill();
  TS_ASSERT_OK(report);
  EXPECT_EQ(report->rows_copied, 29);
  EXPECT_EQ(report->rows_quarantined, 1);
  EXPECT_EQ(Sql("SELECT extra->>'$hex:6ed954' FROM trades WHERE id = 5"),
            "v\n");
  EXPECT_EQ(Sql("SELECT raw ? '$hex:6ed954' FROM trades_quarantine WHERE "
                "source_id = 6"),
            "t\n");
  ExpectNothingDeferred();
  EXPECT_TRUE(Verify().clean());
}

TEST_F(HostileStoreTest, RowsWithIdsOfZeroAndBelowAreAccountedFor) {
  Store(1, 54);
  Edit(LegacyRowsSql(-5, -5) + ";" + LegacyRowsSql(0, 0) + ";" +
       LegacyRowsSql(INT64_MIN, INT64_MIN));
  auto report = Backfill(/*batch_rows=*/2);  // several chunks below 1
  TS_ASSERT_OK(report);
  EXPECT_EQ(report->rows_read, 57);
  EXPECT_EQ(report->rows_copied, 54);
  EXPECT_EQ(report->rows_quarantined, 3);
  EXPECT_EQ(Reason(0), "id: 0 is not a positive id\n");
  EXPECT_EQ(Reason(-5), "id: -5 is not a positive id\n");
  EXPECT_EQ(Sql("SELECT count(*) FROM trades WHERE id <= 0"), "0\n");
  VerifyReport verify = Verify();
  EXPECT_TRUE(verify.clean());
  EXPECT_EQ(verify.rows_sqlite, 57);
  EXPECT_EQ(verify.quarantined, 3);
  EXPECT_EQ(verify.id_from, INT64_MIN);
  // Were they not quarantined, verify would see them missing.
  Sql("DELETE FROM trades_quarantine WHERE source_id <= 0");
  verify = Verify();
  EXPECT_FALSE(verify.clean());
  EXPECT_EQ(verify.missing_in_postgres, 3);
  // And a row Postgres holds below 1 is seen too.
  Sql("INSERT INTO trades_quarantine (source_id, reason, raw) SELECT "
      "source_id, 'x', '{}' FROM (VALUES (-5), (0), (" +
      std::to_string(INT64_MIN) + ")) v(source_id)");
  Sql("INSERT INTO trades (id, symbol, side, quantity, price, \"timestamp\", "
      "status) VALUES (-7, 'AAPL', 'BUY', 1, 1, now(), 'NEW')");
  verify = Verify();
  EXPECT_EQ(verify.missing_in_sqlite, 1);
  EXPECT_EQ(verify.missing_in_sqlite_ids, std::vector<int64_t>{-7});
}

TEST_F(HostileStoreTest, ANinthDecimalKeptAsRealIsQuarantinedNotRounded) {
  Store(1, 30);
  // DECIMAL columns have NUMERIC affinity: SQLite keeps these as REAL.
  Edit(
      "UPDATE trades SET quantity = 1.123456789 WHERE id = 5;"
      "UPDATE trades SET price = 0.000000005 WHERE id = 6;"
      "UPDATE trades SET price = 0.1 + 0.2 WHERE id = 7");
  ASSERT_EQ(SqliteFile(path_).Query("SELECT typeof(quantity) FROM trades "
                                    "WHERE id = 5"),
            "real");
  auto report = Backfill();
  TS_ASSERT_OK(report);
  EXPECT_EQ(report->rows_quarantined, 2);
  EXPECT_THAT(Reason(5), HasSubstr("quantity: REAL 1.123456789"));
  EXPECT_THAT(Reason(5), HasSubstr("would round"));
  EXPECT_THAT(Reason(6), HasSubstr("price: REAL 5.0000000000000001e-09"));
  // Float noise on a value of 8 places is that value, counted as lossy.
  EXPECT_EQ(Sql("SELECT price FROM trades WHERE id = 7"), "0.30000000\n");
  EXPECT_EQ(report->possibly_lossy, 1);
  EXPECT_TRUE(Verify().clean());
}

TEST_F(HostileStoreTest, AKeyThatIsNotTheRowidRefusesTheStore) {
  for (const char* table :
       {"CREATE TABLE trades (id INTEGER PRIMARY KEY DESC, symbol TEXT, side "
        "TEXT, quantity DECIMAL(18,8), price DECIMAL(18,8), timestamp "
        "DATETIME, status TEXT)",
        "CREATE TABLE trades (id INTEGER, symbol TEXT, side TEXT, quantity "
        "DECIMAL(18,8), price DECIMAL(18,8), timestamp DATETIME, status TEXT, "
        "PRIMARY KEY (id, symbol))",
        "CREATE TABLE trades (id INTEGER PRIMARY KEY, symbol TEXT, side TEXT, "
        "quantity DECIMAL(18,8), price DECIMAL(18,8), timestamp DATETIME, "
        "status TEXT) WITHOUT ROWID"}) {
    SCOPED_TRACE(table);
    path_ = dir_.File(absl::StrCat("key", ++stores_, ".db"));
    {
      SqliteFile file(path_);
      file.Exec(table);
      file.Exec(LegacyRowsSql(1, 5));
      file.Exec(
          "INSERT INTO trades VALUES ('7', 'AAPL', 'BUY', 1, 1, "
          "'2024-01-02 03:04:05', 'NEW')");
    }
    auto report = Backfill();
    TS_EXPECT_CODE(report, absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(report.status().message()),
                HasSubstr("trades.id is not the table's rowid"));
    EXPECT_EQ(Sql("SELECT to_regclass('trades') IS NULL"), "t\n");
    // Nothing of tradestore's was added to the file.
    EXPECT_EQ(SqliteFile(path_).Query("SELECT count(*) FROM sqlite_master "
                                      "WHERE name LIKE 'tradestore%'"),
              "0");
  }
}

TEST_F(HostileStoreTest, TheLargestIdIsCopiedWithoutOverflow) {
  Store(1, 3);
  Edit(LegacyRowsSql(INT64_MAX, INT64_MAX));
  auto report = Backfill();
  TS_ASSERT_OK(report);
  EXPECT_EQ(report->rows_copied, 4);
  EXPECT_EQ(report->high_water_id, INT64_MAX);
  EXPECT_EQ(report->next_id, 0);  // none left
  std::ostringstream summary;
  report->PrintSummary(summary);
  EXPECT_THAT(summary.str(), HasSubstr("Postgres cannot number new trades"));
  EXPECT_TRUE(Verify().clean());
}

TEST_F(HostileStoreTest, ARowPostgresRefusesIsFoundAndQuarantined) {
  // A constraint the legacy rules know nothing of, so the batch's COPY
  // fails and the row at fault must be found.
  UseDatabase(PgEnvironment::Get().FreshMigratedDatabase());
  Sql("ALTER TABLE trades ADD CONSTRAINT no_refused CHECK (symbol <> "
      "'REFUSED')");
  Store(1, 100);
  Edit("UPDATE trades SET symbol = 'REFUSED' WHERE id IN (42, 43, 97)");
  auto report = Backfill();  // into an empty table: behind the fence
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->rows_copied, 97);
  EXPECT_EQ(report->rows_quarantined, 3);
  EXPECT_THAT(Reason(42), HasSubstr("postgres refused the row: "));
  EXPECT_THAT(Reason(42), HasSubstr("no_refused"));
  EXPECT_EQ(Sql("SELECT raw->>'symbol' FROM trades_quarantine WHERE "
                "source_id = 97"),
            "REFUSED\n");
  ExpectNothingDeferred();
  const VerifyReport verify = Verify();
  EXPECT_TRUE(verify.clean());
  EXPECT_EQ(verify.quarantined, 3);
  EXPECT_TRUE(verify.totals_match());  // the refused rows left out of both
  // Beside a row dual-write put there (the staged upsert) the same holds.
  Store(200, 260);
  Edit("UPDATE trades SET symbol = 'REFUSED' WHERE id = 230");
  Sql("INSERT INTO trades (id, symbol, side, quantity, price, \"timestamp\", "
      "status, version) VALUES (225, 'AAPL', 'BUY', 1.5, 100.25, "
      "'2024-01-02 03:04:05+00', 'CANCELLED', 2)");
  report = Backfill();
  TS_ASSERT_OK(report);
  EXPECT_EQ(report->rows_copied, 59);
  EXPECT_EQ(report->rows_skipped, 1);
  EXPECT_EQ(report->rows_quarantined, 1);
  EXPECT_THAT(Reason(230), HasSubstr("no_refused"));
  EXPECT_EQ(Sql("SELECT status FROM trades WHERE id = 225"), "CANCELLED\n");
}

TEST_F(HostileStoreTest, DataNeverForgesAReportLine) {
  Store(1, 10, ", note TEXT");
  Edit(
      "UPDATE trades SET status = 'FIL...' || char(10) || '  copied "
      "999999' || char(10) || char(27) || '[31mred' WHERE id = 3;"
      "UPDATE trades SET symbol = printf('%.*c', 1000000, 'X') WHERE id = 4");
  auto report = Backfill();
  TS_ASSERT_OK(report);
  std::ostringstream summary;
  report->PrintSummary(summary);
  const std::string text = summary.str();
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
  EXPECT_EQ(text.find("\n  copied 999999"), std::string::npos) << text;
  EXPECT_THAT(text, HasSubstr("\\n  copied 999999\\n\\x1b[31m"));
  // A 1 MB value is cut, with its size.
  EXPECT_LT(text.size(), 4000u);
  EXPECT_THAT(text, HasSubstr("...\" (1000000 bytes)"));
  EXPECT_LT(std::stoul(Sql("SELECT max(length(reason)) FROM "
                           "trades_quarantine")),
            200u);
}

}  // namespace
}  // namespace tradestore
