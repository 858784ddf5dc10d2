#include "tradestore/verify/verifier.h"

#include <gtest/gtest.h>

#include "verify/verifier_fixture.h"

namespace tradestore {
namespace {

using testing::PgEnvironment;
using testing::TestPgOptions;
using verifier_tests::kBadEvery;
using verifier_tests::kRows;
using verifier_tests::VerifierTest;

TEST_F(VerifierTest, ABackfilledStoreIsCleanWithItsQuarantinedRowsCounted) {
  const VerifyReport report = Verify(Options());
  EXPECT_TRUE(report.clean());
  EXPECT_TRUE(report.covers_all_rows);
  EXPECT_EQ(report.quarantined, kRows / kBadEvery);
  EXPECT_EQ(report.rows_sqlite, kRows);
  EXPECT_EQ(report.rows_postgres, kRows - kRows / kBadEvery);
  EXPECT_EQ(report.rows_matching, kRows - kRows / kBadEvery);
  EXPECT_TRUE(report.totals_computed);
  EXPECT_FALSE(report.totals.empty());
  EXPECT_TRUE(report.totals_match());
  EXPECT_EQ(Sql("SELECT mode, clean, covers_all_rows, quarantined FROM "
                "verification_runs"),
            absl::StrCat("full|t|t|", kRows / kBadEvery, "\n"));
}

// Each column changed by its smallest step, on its own row, and a row
// missing on either side: the report names exactly those.
TEST_F(VerifierTest, NamesEveryInjectedDifferenceAndNothingElse) {
  const std::vector<std::pair<std::string, std::string>> changes = {
      {"symbol", "symbol = symbol || 'X'"},
      {"side", "side = CASE side WHEN 'BUY' THEN 'SELL' ELSE 'BUY' END"},
      {"quantity", "quantity = quantity + 0.00000001"},
      {"price", "price = price - 0.00000001"},
      {"timestamp", "\"timestamp\" = \"timestamp\" + interval '1 microsecond'"},
      {"status",
       "status = CASE status WHEN 'NEW' THEN 'FILLED' ELSE 'NEW' END"},
      {"client_order_id", "client_order_id = 'injected'"},
      {"fee", "fee = 0.00000001"},
      {"version", "version = version + 1"},
      {"created_at", "created_at = created_at - interval '1 microsecond'"},
      {"updated_at", "updated_at = updated_at - interval '1 microsecond'"},
  };
  std::map<int64_t, std::string> expected;
  int64_t id = 10;
  for (const auto& [column, set] : changes) {
    id += 101;
    if (id % kBadEvery == 0) ++id;
    Sql(absl::StrCat("UPDATE trades SET ", set, " WHERE id = ", id));
    expected[id] = column;
  }
  Sql("DELETE FROM trades WHERE id IN (1, 2500, 4000)");
  Sql("INSERT INTO trades (id, symbol, side, quantity, price, \"timestamp\", "
      "status, created_at, updated_at) VALUES (9000, 'BTC-USD', 'BUY', 1, 1, "
      "'2024-01-01', 'NEW', '2024-01-01', '2024-01-01')");

  VerifyOptions options = Options();
  const VerifyReport report = Verify(options);
  EXPECT_FALSE(report.clean());
  EXPECT_EQ(report.missing_in_postgres_ids,
            (std::vector<int64_t>{1, 2500, 4000}));
  EXPECT_EQ(report.missing_in_postgres, 3);
  EXPECT_EQ(report.missing_in_sqlite_ids, (std::vector<int64_t>{9000}));
  EXPECT_EQ(report.mismatched, static_cast<int64_t>(changes.size()));
  ASSERT_EQ(report.mismatches.size(), changes.size());
  for (const RowMismatch& m : report.mismatches) {
    ASSERT_EQ(m.columns.size(), 1u) << "row " << m.id;
    EXPECT_EQ(m.columns[0], expected[m.id]) << "row " << m.id;
  }
  EXPECT_EQ(report.quarantined, kRows / kBadEvery);
  EXPECT_FALSE(report.totals_match());  // the money moved too
  // Postgres's totals are what Postgres itself sums: rows that matched as
  // bytes count with SQLite's values, so this holds only if that is exact.
  std::string pg_totals;
  for (const MoneyTotal& t : report.totals) {
    if (t.count_postgres == 0) continue;
    absl::StrAppend(&pg_totals, t.symbol, "|", t.side, "|", t.count_postgres,
                    "|", t.quantity_postgres, "|", t.notional_postgres, "\n");
  }
  EXPECT_EQ(pg_totals,
            Sql("SELECT symbol, side, count(*), sum(quantity), "
                "sum(quantity * price) FROM trades GROUP BY 1, 2 "
                "ORDER BY symbol COLLATE \"C\", side::text COLLATE \"C\""));

  const nlohmann::json json = nlohmann::json::parse(report.ToJson());
  EXPECT_EQ(json["summary"]["mismatched"], changes.size());
  EXPECT_EQ(json["missing_in_sqlite"], nlohmann::json::array({9000}));
  EXPECT_EQ(json["mismatched"][0]["columns"][0]["column"], "symbol");
  EXPECT_NE(report.ToPrometheus().find("tradestore_verify_clean{mode=\"full\""),
            std::string::npos);

  // Samples are capped; counts stay complete.
  options.max_samples = 2;
  options.record_run = false;
  const VerifyReport capped = Verify(options);
  EXPECT_EQ(capped.mismatches.size(), 2u);
  EXPECT_EQ(capped.mismatched, static_cast<int64_t>(changes.size()));
  EXPECT_EQ(capped.missing_in_postgres_ids.size(), 2u);
  EXPECT_EQ(capped.missing_in_postgres, 3);
}

// Columns of the legacy table that tradestore does not know are kept in
// trades.extra (jsonb) by the backfill and compared like the others, by
// value: a NULL legacy column is the same as no key (rows the new code
// writes), a change in either store is a difference in "extra", and repair
// puts SQLite's values back.
TEST_F(VerifierTest, ComparesTheLegacyColumnsKeptInExtra) {
  path_ = dir_.File("with_extra.db");
  db_ = PgEnvironment::Get().FreshDatabaseName();
  dsn_ = PgEnvironment::Get().pg().Dsn(db_);
  ASSERT_TRUE(GenerateLegacyStore({.path = path_, .rows = 3000}).ok());
  auto sqlite_exec = [&](const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  };
  sqlite_exec(
      "ALTER TABLE trades ADD COLUMN venue TEXT;"
      "ALTER TABLE trades ADD COLUMN lot REAL;"
      "ALTER TABLE trades ADD COLUMN \"desk code\" BLOB;"
      "UPDATE trades SET venue = CASE id % 3 WHEN 0 THEN 'XLON' "
      "WHEN 1 THEN 'caf\xc3\xa9\t\"q\"' END, lot = id / 7.0, "
      "\"desk code\" = CASE WHEN id % 5 = 0 THEN x'00ff' END");
  ASSERT_TRUE(testing::Backfill(path_, dsn_).ok());
  // A row as the new code writes it: NULL legacy columns, NULL extra.
  sqlite_exec("UPDATE trades SET venue = NULL, lot = NULL WHERE id = 3");
  Sql("UPDATE trades SET extra = NULL WHERE id = 3");

  VerifyOptions options = Options();
  options.record_run = false;
  VerifyReport report = Verify(options);
  EXPECT_TRUE(report.clean());
  EXPECT_EQ(report.rows_matching, 3000);

  const std::map<int64_t, std::string> changes = {
      {100,
       "UPDATE trades SET extra = jsonb_set(extra, '{venue}', "
       "'\"XPAR\"') WHERE id = 100"},
      {200,
       "UPDATE trades SET extra = jsonb_set(extra, '{lot}', "
       "to_jsonb((extra->>'lot')::numeric + 1e-12)) WHERE id = 200"},
      {300,
       "UPDATE trades SET extra = extra || '{\"desk\": \"fx\"}' "
       "WHERE id = 300"},
      {400, "UPDATE trades SET extra = NULL WHERE id = 400"},
      {500, "UPDATE trades SET extra = extra - 'desk code' WHERE id = 500"}};
  for (const auto& [id, sql] : changes) Sql(sql);
  sqlite_exec("UPDATE trades SET lot = lot * 2 WHERE id = 600");
  std::set<int64_t> expected = {600};
  for (const auto& [id, sql] : changes) expected.insert(id);

  // The full scan compares bytes; a --since window compares decoded rows.
  VerifyOptions since = options;
  since.mode = VerifyMode::kSince;
  since.since = *Timestamp::Parse("2000-01-01T00:00:00Z");
  for (const VerifyOptions& o : {options, since}) {
    report = Verify(o);
    EXPECT_EQ(report.mismatched, 6) << VerifyModeName(o.mode);
    EXPECT_EQ(report.missing_in_postgres + report.missing_in_sqlite, 0);
    std::set<int64_t> seen;
    for (const RowMismatch& m : report.mismatches) {
      seen.insert(m.id);
      EXPECT_EQ(m.columns, std::vector<std::string>{"extra"}) << m.id;
    }
    EXPECT_EQ(seen, expected) << VerifyModeName(o.mode);
  }
  for (const RowMismatch& m : report.mismatches) {
    if (m.id == 400) {
      EXPECT_EQ(m.postgres_values[0], "\\N");
      EXPECT_NE(m.sqlite_values[0].find("\"venue\": \"caf\xc3\xa9"),
                std::string::npos)
          << m.sqlite_values[0];
    }
  }

  // The dry run lists the six rewrites and changes nothing.
  options.repair = true;
  options.repair_dry_run = true;
  report = Verify(options);
  EXPECT_EQ(report.repaired, 0);
  ASSERT_EQ(report.repair_log.size(), 6u);
  for (const std::string& line : report.repair_log) {
    EXPECT_EQ(line.rfind("would rewrite row ", 0), 0u) << line;
  }
  options.repair_dry_run = false;
  options.repair = false;
  EXPECT_EQ(Verify(options).mismatched, 6);

  options.repair = true;
  report = Verify(options);
  EXPECT_EQ(report.repaired, 6) << ::testing::PrintToString(report.repair_log);
  options.repair = false;
  report = Verify(options);
  EXPECT_TRUE(report.clean()) << report.mismatched;
  EXPECT_EQ(Sql("SELECT extra->>'venue', extra->'desk code' FROM trades "
                "WHERE id = 400"),
            "caf\xc3\xa9\t\"q\"|{\"$hex\": \"00ff\"}\n");

  // From postgres_only on, SQLite's legacy columns are repaired from
  // Postgres; a value no legacy column can hold is reported, not forced.
  Sql("UPDATE migration_phase SET phase = 'postgres_only'");
  Sql("UPDATE trades SET extra = extra || '{\"venue\": \"XAMS\", "
      "\"lot\": 7, \"desk code\": {\"$hex\": \"0a0b\"}}' WHERE id = 700");
  Sql("UPDATE trades SET extra = extra || '{\"desk\": \"fx\"}' "
      "WHERE id = 800");
  options.repair = true;
  report = Verify(options);
  EXPECT_EQ(report.mismatched, 2);
  EXPECT_EQ(report.repaired, 1) << ::testing::PrintToString(report.repair_log);
  EXPECT_NE(::testing::PrintToString(report.repair_log)
                .find("no column \\\"desk\\\""),
            std::string::npos)
      << ::testing::PrintToString(report.repair_log);
  options.repair = false;
  report = Verify(options);
  EXPECT_EQ(report.mismatched, 1);
  auto sqlite = SqliteTradeStore::Open({.path = path_});
  ASSERT_TRUE(sqlite.ok());
  auto rows = (*sqlite)->ScanStoredRows(699, 1, 700);
  ASSERT_TRUE(rows.ok() && rows->size() == 1u);
  // lot is a REAL column: SQLite keeps the 7 as 7.0, the same number.
  EXPECT_EQ(ExtraColumnsJson(rows->at(0)),
            R"({"desk code":{"$hex":"0a0b"},"lot":7.0,"venue":"XAMS"})");
}

// Values Postgres accepts but no trade can hold (its CHECKs let NaN through,
// NaN sorting above every number) are reported with the reason, never
// rounded or skipped.
TEST_F(VerifierTest, APostgresRowThatIsNoTradeIsReportedWithTheReason) {
  Sql("UPDATE trades SET quantity = 'NaN' WHERE id = 20");
  Sql("UPDATE trades SET \"timestamp\" = 'infinity' WHERE id = 30");
  const VerifyReport report = Verify(Options());
  EXPECT_FALSE(report.clean());
  EXPECT_EQ(report.mismatched, 2);
  ASSERT_EQ(report.mismatches.size(), 2u);
  for (const RowMismatch& m : report.mismatches) {
    ASSERT_EQ(m.columns.size(), 1u);
    EXPECT_EQ(m.columns[0], "(unreadable in Postgres)");
    EXPECT_NE(m.postgres_values[0].find(m.id == 20 ? "NaN" : "infinity"),
              std::string::npos)
        << m.postgres_values[0];
    EXPECT_NE(m.sqlite_values[0].find(absl::StrCat(m.id, "\t")),
              std::string::npos)
        << m.sqlite_values[0];
  }
}

TEST_F(VerifierTest, AnIdWindowSeesOnlyItsRows) {
  Sql("DELETE FROM trades WHERE id IN (100, 3000)");
  VerifyOptions options = Options();
  options.mode = VerifyMode::kIds;
  options.id_from = 2000;
  options.id_to = 3999;
  const VerifyReport report = Verify(options);
  EXPECT_FALSE(report.covers_all_rows);
  EXPECT_EQ(report.missing_in_postgres_ids, (std::vector<int64_t>{3000}));
  EXPECT_EQ(report.rows_sqlite, 2000);
}

TEST_F(VerifierTest, RepairMakesPostgresMatchAndAVerifyAfterIsClean) {
  Sql("DELETE FROM trades WHERE id IN (5, 6)");
  Sql("UPDATE trades SET price = price + 1 WHERE id = 7");
  Sql("UPDATE trades SET version = version + 5, status = 'CANCELLED' "
      "WHERE id = 8");  // newer in Postgres: never overwritten
  Sql("INSERT INTO trades (id, symbol, side, quantity, price, \"timestamp\", "
      "status) VALUES (8000, 'BTC-USD', 'BUY', 1, 1, '2024-01-01', 'NEW')");
  VerifyOptions options = Options();
  options.repair = true;
  const VerifyReport repaired = Verify(options);
  EXPECT_EQ(repaired.missing_in_postgres + repaired.missing_in_sqlite +
                repaired.mismatched,
            5);
  EXPECT_EQ(repaired.repaired, 4);
  EXPECT_EQ(repaired.repair_log.size(), 5u);
  // The Postgres-only row was moved to quarantine, not deleted.
  EXPECT_EQ(Sql("SELECT raw->>'symbol' FROM trades_quarantine WHERE "
                "source_id = 8000"),
            "BTC-USD\n");

  options.repair = false;
  const VerifyReport after = Verify(options);
  EXPECT_EQ(after.missing_in_postgres, 0);
  EXPECT_EQ(after.missing_in_sqlite, 0);
  EXPECT_EQ(after.mismatched, 1);  // row 8, which Postgres holds newer
  ASSERT_EQ(after.mismatches.size(), 1u);
  EXPECT_EQ(after.mismatches[0].id, 8);
}

TEST_F(VerifierTest, RepairFollowsThePhaseAndNeverWritesTheSourceOfTruth) {
  // postgres_only: Postgres is the source of truth; SQLite is repaired.
  Sql("UPDATE migration_phase SET phase = 'postgres_only'");
  Sql("UPDATE trades SET status = 'CANCELLED', version = version + 1 "
      "WHERE id = 4");
  Sql("INSERT INTO trades (id, symbol, side, quantity, price, \"timestamp\", "
      "status, version, created_at, updated_at) VALUES (900001, 'ETH-USD', "
      "'SELL', 2, 3000, now(), 'NEW', 1, now(), now())");
  Sql("DELETE FROM trades WHERE id = 5");  // SQLite alone has row 5 now
  const std::string before =
      Sql("SELECT md5(string_agg(t::text, ',' ORDER "
          "BY id)) FROM trades t");
  VerifyOptions options = Options();
  options.repair = true;
  const VerifyReport repaired = Verify(options);
  EXPECT_EQ(repaired.repaired, 3)
      << ::testing::PrintToString(repaired.repair_log);
  EXPECT_EQ(Sql("SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM "
                "trades t"),
            before);  // the source of truth untouched
  EXPECT_EQ(Sql("SELECT reason FROM trades_quarantine WHERE source_id = 5"),
            "repair: in SQLite but not in Postgres, the source of truth\n");
  auto sqlite = SqliteTradeStore::Open({.path = path_});
  ASSERT_TRUE(sqlite.ok());
  TS_EXPECT_CODE((*sqlite)->Get(5), absl::StatusCode::kNotFound);
  EXPECT_EQ((*sqlite)->Get(4)->status, TradeStatus::kCancelled);
  TS_EXPECT_OK((*sqlite)->Get(900001));
  options.repair = false;
  EXPECT_TRUE(Verify(options).clean());

  // archived: the file is not touched at all.
  Sql("UPDATE migration_phase SET phase = 'archived'");
  Sql("DELETE FROM trades WHERE id = 6");
  options.repair = true;
  std::ostringstream log;
  auto refused = RunVerify(options, log);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("archived"), std::string::npos);
}

// The report job runs as a role that can read and record, nothing more.
TEST_F(VerifierTest, RunsAsALeastPrivilegeRole) {
  VerifyOptions options = Options();
  options.pg = TestPgOptions(testing::PasswordRole(
      db_, "verify_job", "Verify-Pw-9",
      "GRANT SELECT ON trades, trades_quarantine, migration_phase, "
      "schema_migrations, verification_runs TO verify_job; "
      "GRANT INSERT ON verification_runs TO verify_job;"));
  const VerifyReport report = Verify(options);
  EXPECT_TRUE(report.clean());
  EXPECT_GT(report.run_id, 0);
}

}  // namespace
}  // namespace tradestore
