// The verify summary's money table: one line where the stores agree, two
// where they do not, every value exact (trailing zeros dropped only) and
// decimal points under each other.
#include <gtest/gtest.h>

#include <sstream>

#include "tradestore/verify/verifier.h"

namespace tradestore {
namespace {

TEST(VerifyReportTest, TheMoneyTableIsCompactExactAndAligned) {
  VerifyReport report;
  report.totals_computed = true;
  report.totals = {
      {.symbol = "BTC-USD",
       .side = "buy",
       .count_sqlite = 1204,
       .count_postgres = 1204,
       .quantity_sqlite = "12.34567800",
       .quantity_postgres = "12.34567800",
       .notional_sqlite = "530880.1234567800000000",
       .notional_postgres = "530880.1234567800000000"},
      {.symbol = "ETH-USD",
       .side = "sell",
       .count_sqlite = 12,
       .count_postgres = 11,
       .quantity_sqlite = "3.50000000",
       .quantity_postgres = "3.00000000",
       .notional_sqlite = "7000.1000000000000000",
       .notional_postgres = "6000.0000000000000000"},
  };
  std::ostringstream out;
  report.PrintSummary(out);
  const std::string text = out.str();
  const std::string table =
      "  money per symbol and side: THE TOTALS DIFFER\n"
      "    symbol   side  store     trades   quantity         notional\n"
      "    BTC-USD  buy   both        1204  12.345678  530880.12345678\n"
      "    ETH-USD  sell  SQLite        12   3.5         7000.1\n"
      "                   Postgres      11   3           6000           "
      "DIFFERS\n";
  EXPECT_NE(text.find(table), std::string::npos) << text;
}

}  // namespace
}  // namespace tradestore
