// Binary COPY against the harness's real Postgres: the decoders give exactly
// what Postgres's text form says, refuse what does not fit, and a copy
// survives a dropped connection and a PgBouncer in front.
#include "tradestore/postgres/pg_binary_copy.h"

#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "testing/pg_environment.h"
#include "testing/status_matchers.h"
#include "tradestore/decimal.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/postgres/pg_transact.h"

namespace tradestore::pg {
namespace {

using testing::PgEnvironment;
using testing::TestPgOptions;

struct Copied {
  std::vector<std::vector<std::string>> rows;  // fields; "<NULL>" for NULL
  int restarts = 0;
};

absl::StatusOr<Copied> Copy(BinaryCopyReader& reader, const std::string& sql) {
  Copied copied;
  absl::Status s = reader.Run(
      sql, [&] { copied.rows.clear(), ++copied.restarts; },
      [&](const BinaryRow& row) {
        std::vector<std::string> fields;
        for (int i = 0; i < row.size(); ++i) {
          fields.push_back(row.null(i) ? "<NULL>" : std::string(row.field(i)));
        }
        copied.rows.push_back(std::move(fields));
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return copied;
}

class PgBinaryCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& env = PgEnvironment::Get();
    db_ = env.FreshMigratedDatabase();
    auto pool = PgPool::Create(TestPgOptions(env.pg().Dsn(db_)));
    TS_ASSERT_OK(pool);
    pool_ = *std::move(pool);
    auto reader = BinaryCopyReader::Open(*pool_);
    TS_ASSERT_OK(reader);
    reader_ = *std::move(reader);
  }

  // Each value as NUMERIC(18,8) in binary and as Postgres prints it.
  void ExpectNumericsDecodeAsPrinted(const std::vector<std::string>& values) {
    std::string list;
    for (const std::string& v : values) {
      absl::StrAppend(&list, list.empty() ? "" : ",", "('", v, "')");
    }
    auto copied = Copy(
        *reader_,
        absl::StrCat(
            "SELECT v::numeric(18,8), v::numeric(18,8)::text FROM (VALUES ",
            list, ") t(v)"));
    TS_ASSERT_OK(copied);
    ASSERT_EQ(copied->rows.size(), values.size());
    for (const auto& row : copied->rows) {
      auto units = ReadNumericUnits(row[0], Decimal::kScale);
      TS_ASSERT_OK(units);
      EXPECT_EQ(Decimal::FromUnits(*units)->ToString(), row[1]);
    }
  }

  // A pool and a reader through PgBouncer (transaction mode).
  void OpenThroughBouncer() {
    auto pool = PgPool::Create(
        TestPgOptions(PgEnvironment::Get().pg().BouncerDsn(db_)));
    TS_ASSERT_OK(pool);
    bouncer_pool_ = *std::move(pool);
    auto reader = BinaryCopyReader::Open(*bouncer_pool_);
    TS_ASSERT_OK(reader);
    bouncer_reader_ = *std::move(reader);
  }

  std::string db_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<BinaryCopyReader> reader_;
  std::unique_ptr<PgPool> bouncer_pool_;
  std::unique_ptr<BinaryCopyReader> bouncer_reader_;
};

TEST_F(PgBinaryCopyTest, NumericsDecodeExactlyToTheirPrintedValue) {
  ExpectNumericsDecodeAsPrinted(
      {"0", "0.00000001", "-0.00000001", "1", "-1", "10000", "9999.9999",
       "12345.6789", "0.1", "0.12345678", "100000000", "123456789.87654321",
       "9999999999.99999999", "-9999999999.99999999", "0.0001", "0.00010001",
       "50000.5", "1e-8", "42.00000000"});
}

TEST_F(PgBinaryCopyTest, NumericsThatDoNotFitAreRefusedNotRounded) {
  auto copied = Copy(
      *reader_,
      "SELECT v FROM (VALUES ('0.000000001'::numeric), ('NaN'::numeric), "
      "('Infinity'::numeric), ('-Infinity'::numeric), "
      "('100000000000000000000'::numeric), ('1.123456785'::numeric)) t(v)");
  TS_ASSERT_OK(copied);
  ASSERT_EQ(copied->rows.size(), 6u);
  const std::vector<std::string> problems = {"more than 8 fraction digits",
                                             "NaN",
                                             "infinite",
                                             "infinite",
                                             "out of range",
                                             "more than 8 fraction digits"};
  for (size_t i = 0; i < problems.size(); ++i) {
    auto units = ReadNumericUnits(copied->rows[i][0], Decimal::kScale);
    ASSERT_FALSE(units.ok()) << i;
    EXPECT_NE(units.status().message().find(problems[i]), std::string::npos)
        << units.status();
  }
}

TEST_F(PgBinaryCopyTest, TimestampsDecodeToTheMicrosecondAndInfinityIsRefused) {
  const std::vector<std::string> values = {
      "1970-01-01 00:00:00+00",        "1970-01-01 00:00:00.000001+00",
      "1999-12-31 23:59:59.999999+00", "2000-01-01 00:00:00+00",
      "2023-11-14 22:13:21.471325+00", "2024-02-29 12:00:00.5+00",
      "1900-03-01 00:00:00+00",        "9999-12-31 23:59:59.999999+00"};
  std::string list;
  for (const std::string& v : values) {
    absl::StrAppend(&list, list.empty() ? "" : ",", "('", v, "'::timestamptz)");
  }
  auto copied =
      Copy(*reader_,
           absl::StrCat("SELECT v, to_char(v AT TIME ZONE 'UTC', "
                        "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM (VALUES ",
                        list, ", ('infinity'::timestamptz)) t(v)"));
  TS_ASSERT_OK(copied);
  ASSERT_EQ(copied->rows.size(), values.size() + 1);
  for (size_t i = 0; i < values.size(); ++i) {
    auto t = ReadTimestamptz(copied->rows[i][0]);
    TS_ASSERT_OK(t);
    EXPECT_EQ(*t, *Timestamp::Parse(copied->rows[i][1])) << values[i];
  }
  auto infinite = ReadTimestamptz(copied->rows.back()[0]);
  ASSERT_FALSE(infinite.ok());
  EXPECT_NE(infinite.status().message().find("infinity"), std::string::npos);
}

TEST_F(PgBinaryCopyTest, NullsEmptyStringsAndManyRowsArriveWhole) {
  // 200k rows span many libpq messages; every row and field must arrive.
  auto copied = Copy(*reader_,
                     "SELECT i::int8, CASE WHEN i % 3 = 0 THEN NULL ELSE "
                     "repeat('x', (i % 5)::int) END FROM "
                     "generate_series(1, 200000) i");
  TS_ASSERT_OK(copied);
  ASSERT_EQ(copied->rows.size(), 200000u);
  for (int64_t i = 1; i <= 200000; i += 997) {
    const auto& row = copied->rows[i - 1];
    EXPECT_EQ(*ReadInt8(row[0]), i);
    EXPECT_EQ(row[1], i % 3 == 0 ? "<NULL>" : std::string(i % 5, 'x'));
  }
}

TEST_F(PgBinaryCopyTest, ADroppedConnectionIsReopenedAndTheCopyRunAgain) {
  // Kill the reader's backend; the next copy reconnects and still returns
  // every row exactly once.
  TS_ASSERT_OK(PgEnvironment::Get().pg().Psql(
      db_,
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
      "datname = current_database() AND pid <> pg_backend_pid() AND "
      "application_name = 'tradestore'"));
  auto copied =
      Copy(*reader_, "SELECT i::int8 FROM generate_series(1, 1000) i");
  TS_ASSERT_OK(copied);
  EXPECT_EQ(copied->restarts, 1);
  EXPECT_EQ(copied->rows.size(), 1000u);
  EXPECT_EQ(*ReadInt8(copied->rows.back()[0]), 1000);
}

TEST_F(PgBinaryCopyTest, WorksThroughPgBouncerInTransactionMode) {
  ASSERT_NO_FATAL_FAILURE(OpenThroughBouncer());
  auto copied = Copy(*bouncer_reader_, "SELECT 1.5::numeric(18,8)");
  TS_ASSERT_OK(copied);
  ASSERT_EQ(copied->rows.size(), 1u);
  EXPECT_EQ(*ReadNumericUnits(copied->rows[0][0], 8), 150000000);
}

TEST_F(PgBinaryCopyTest, ReadsWithoutParallelWorkersAndLeavesNoSettingBehind) {
  // Through PgBouncer in transaction mode the next client gets the same
  // server connection: a session-wide SET would reach its statements.
  ASSERT_NO_FATAL_FAILURE(OpenThroughBouncer());
  auto copied =
      Copy(*bouncer_reader_,
           "SELECT current_setting('max_parallel_workers_per_gather'), "
           "pg_backend_pid()::text");
  TS_ASSERT_OK(copied);
  ASSERT_EQ(copied->rows.size(), 1u);
  EXPECT_EQ(copied->rows[0][0], "0");
  std::string setting, pid;
  TS_ASSERT_OK(pg::Transact(*bouncer_pool_, [&](pqxx::work& txn) {
    const pqxx::row row = txn.exec1(
        "SELECT current_setting('max_parallel_workers_per_gather'), "
        "pg_backend_pid()::text");
    setting = row[0].as<std::string>();
    pid = row[1].as<std::string>();
    return absl::OkStatus();
  }));
  EXPECT_EQ(pid, copied->rows[0][1]) << "not the reader's server connection";
  EXPECT_EQ(setting, "2");
}

TEST_F(PgBinaryCopyTest, AnErrorInTheQueryIsReportedNotRetried) {
  auto copied = Copy(*reader_, "SELECT no_such_column FROM trades");
  ASSERT_FALSE(copied.ok());
  EXPECT_NE(copied.status().message().find("no_such_column"), std::string::npos)
      << copied.status();
}

}  // namespace
}  // namespace tradestore::pg
