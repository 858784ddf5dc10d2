// How far an index build is, from what pg_stat_progress_create_index says
// (the backfill's closing stage shows it).
#include <gtest/gtest.h>

#include "tradestore/postgres/backfill_writer.h"

namespace tradestore {
namespace {

IndexBuildProgress Build(std::string phase, int64_t blocks_done,
                         int64_t blocks_total, int64_t tuples_done,
                         int64_t tuples_total) {
  return {std::move(phase), blocks_done, blocks_total, tuples_done,
          tuples_total};
}

TEST(IndexBuildTest, TheScanIsTheFirstHalfAndTheLoadTheSecond) {
  EXPECT_EQ(BuildFraction(Build("initializing", 0, 0, 0, 0)), 0.0);
  EXPECT_EQ(
      BuildFraction(Build("waiting for writers before build", 0, 0, 0, 0)),
      0.0);
  EXPECT_EQ(
      BuildFraction(Build("building index: scanning table", 25, 100, 0, 0)),
      0.125);
  // No total yet: nothing claimed.
  EXPECT_EQ(BuildFraction(Build("building index: scanning table", 5, 0, 0, 0)),
            0.0);
  EXPECT_EQ(BuildFraction(
                Build("building index: sorting live tuples", 100, 100, 0, 0)),
            0.5);
  EXPECT_EQ(BuildFraction(Build("building index: loading tuples in tree", 100,
                                100, 750, 1000)),
            0.875);
  EXPECT_EQ(
      BuildFraction(Build("index validation: scanning index", 0, 0, 0, 0)),
      1.0);
}

TEST(IndexBuildTest, CountsPastTheirTotalsStayWithinTheBuild) {
  EXPECT_EQ(
      BuildFraction(Build("building index: scanning table", 120, 100, 0, 0)),
      0.5);
  EXPECT_EQ(BuildFraction(Build("building index: loading tuples in tree", 100,
                                100, 2000, 1000)),
            1.0);
}

}  // namespace
}  // namespace tradestore
