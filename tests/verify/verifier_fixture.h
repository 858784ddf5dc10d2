// The fixture of the verifier tests (verifier_test.cc,
// verifier_incremental_test.cc): a fresh database with a backfilled legacy
// store of kRows rows, every kind of bad row among them, quarantined.
#ifndef TRADESTORE_TESTS_VERIFY_VERIFIER_FIXTURE_H_
#define TRADESTORE_TESTS_VERIFY_VERIFIER_FIXTURE_H_

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "testing/pg_environment.h"
#include "testing/phases.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"
#include "testing/trades.h"
#include "tradestore/cli/cli.h"
#include "tradestore/internal/read_file.h"
#include "tradestore/migration/backfill.h"
#include "tradestore/sqlite/legacy_generator.h"
#include "tradestore/sqlite/sqlite_trade_store.h"
#include "tradestore/verify/verifier.h"

namespace tradestore::verifier_tests {

using testing::PgEnvironment;
using testing::TempDir;
using testing::TestPgOptions;

constexpr int64_t kRows = 4000;
constexpr int64_t kBadEvery = 397;  // every kind of bad row, quarantined

class VerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = PgEnvironment::Get().FreshDatabaseName();
    dsn_ = PgEnvironment::Get().pg().Dsn(db_);
    path_ = dir_.File("trade_store.db");
    auto made = GenerateLegacyStore(
        {.path = path_, .rows = kRows, .bad_every = kBadEvery});
    ASSERT_TRUE(made.ok()) << made.status();
    auto report = testing::Backfill(path_, dsn_);
    ASSERT_TRUE(report.ok()) << report.status();
    ASSERT_EQ(report->rows_quarantined, kRows / kBadEvery);
  }

  VerifyOptions Options() {
    VerifyOptions options;
    options.sqlite_path = path_;
    options.pg = TestPgOptions(dsn_);
    options.min_age = std::chrono::milliseconds(200);
    options.batch_rows = 1000;  // several chunks, so chunk edges are crossed
    return options;
  }

  VerifyReport Verify(VerifyOptions options) {
    std::ostringstream log;
    auto report = RunVerify(options, log);
    EXPECT_TRUE(report.ok()) << report.status();
    return report.ok() ? *report : VerifyReport();
  }

  std::string Sql(const std::string& sql) { return testing::Sql(db_, sql); }

  TempDir dir_;
  std::string db_, dsn_, path_;
};

}  // namespace tradestore::verifier_tests

#endif  // TRADESTORE_TESTS_VERIFY_VERIFIER_FIXTURE_H_
