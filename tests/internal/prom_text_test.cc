#include "tradestore/internal/prom_text.h"

#include <gtest/gtest.h>

namespace tradestore {
namespace {

TEST(PromTextTest, DescribesEachMetricOnceBeforeItsSamples) {
  PromText t;
  t.Counter("tradestore_rows_total", "rows by outcome", int64_t{3},
            PromLabels({{"outcome", "written"}}))
      .Counter("tradestore_rows_total", "ignored", 0,
               PromLabels({{"outcome", "skipped"}}))
      .Gauge("tradestore_up", "1 when it worked", 1);
  EXPECT_EQ(t.text(),
            "# HELP tradestore_rows_total rows by outcome\n"
            "# TYPE tradestore_rows_total counter\n"
            "tradestore_rows_total{outcome=\"written\"} 3\n"
            "tradestore_rows_total{outcome=\"skipped\"} 0\n"
            "# HELP tradestore_up 1 when it worked\n"
            "# TYPE tradestore_up gauge\n"
            "tradestore_up 1\n");
}

TEST(PromTextTest, EscapesLabelValuesAndKeepsNumbersExact) {
  EXPECT_EQ(PromLabels({{"standby", "a\"b\\c\nd"}, {"mode", "full"}}),
            "{standby=\"a\\\"b\\\\c\\nd\",mode=\"full\"}");
  EXPECT_EQ(PromLabels({}), "");
  EXPECT_EQ(PromValue(int64_t{9'000'000'000'000'000'000}).text,
            "9000000000000000000");
  EXPECT_EQ(PromValue(uint64_t{18}).text, "18");
  EXPECT_EQ(PromValue(1733212345.678).text, "1733212345.678");
  EXPECT_EQ(PromValue(0.25).text, "0.25");
  EXPECT_EQ(PromValue(-1.0).text, "-1");
}

}  // namespace
}  // namespace tradestore
