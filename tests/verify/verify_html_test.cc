#include "tradestore/verify/verify_html.h"

#include <gtest/gtest.h>

namespace tradestore {
namespace {

// Values from the stores reach the page escaped: a symbol or a column value
// cannot add markup.
TEST(VerifyHtmlTest, ValuesFromTheStoresAreEscaped) {
  VerifyReport r;
  r.mode = VerifyMode::kFull;
  r.covers_all_rows = true;
  r.source = "/data/<store>.db";
  r.mismatched = 1;
  r.mismatches.push_back({.id = 7,
                          .columns = {"symbol"},
                          .sqlite_values = {"<img src=x onerror=alert(1)>"},
                          .postgres_values = {"AAPL"}});
  r.totals_computed = true;
  r.totals.push_back({.symbol = "<b>X</b>",
                      .side = "BUY",
                      .count_sqlite = 1,
                      .count_postgres = 1,
                      .quantity_sqlite = "1.50000000",
                      .quantity_postgres = "1.50000000",
                      .notional_sqlite = "3.0000000000000000",
                      .notional_postgres = "3.0000000000000000"});
  const std::string page = VerifyReportHtml(r);
  EXPECT_EQ(page.find("<img"), std::string::npos);
  EXPECT_EQ(page.find("<b>X"), std::string::npos);
  EXPECT_NE(page.find("&lt;img src=x"), std::string::npos);
  EXPECT_NE(page.find("/data/&lt;store&gt;.db"), std::string::npos);
  EXPECT_NE(page.find("DIFFERENCES FOUND: 1 row<"), std::string::npos);
  // The money as the text table shows it: the same number, shorter.
  EXPECT_NE(page.find(">1.5</td>"), std::string::npos);
  EXPECT_NE(page.find("The totals agree."), std::string::npos);
}

TEST(VerifyHtmlTest, ACleanIncrementalRunWithItsHistory) {
  VerifyReport r;
  r.mode = VerifyMode::kIncremental;
  VerificationRunPoint old_run{
      .id = 1, .mode = "full", .clean = false, .differences = 3};
  VerificationRunPoint new_run{.id = 2,
                               .mode = "incremental",
                               .clean = true,
                               .outbox_entries = 4,
                               .outbox_oldest_age_s = 1.5};
  r.history = {old_run, new_run};
  const std::string page = VerifyReportHtml(r);
  EXPECT_NE(page.find("CLEAN: the stores agree"), std::string::npos);
  EXPECT_NE(page.find("Money totals come with full and --ids runs"),
            std::string::npos);
  EXPECT_NE(page.find("class=\"mark run alert\""), std::string::npos);
  // Only the run that recorded the outbox has a point on the lag chart.
  EXPECT_NE(page.find("4 entries, the oldest 1.5 s old"), std::string::npos);
  EXPECT_EQ(page.find("<polyline"), std::string::npos);
}

}  // namespace
}  // namespace tradestore
