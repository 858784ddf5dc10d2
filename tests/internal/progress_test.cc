#include "tradestore/internal/progress.h"

#include <gtest/gtest.h>

#include <limits>
#include <sstream>

namespace tradestore {
namespace {

TEST(ProgressTest, LogsALineEveryIntervalWithTheRateAndAnEta) {
  SimulatedClock clock(*Timestamp::FromUnixMicros(0));
  std::ostringstream out;
  Progress progress(out, "backfill", /*tty=*/false, 10'000, &clock,
                    std::chrono::seconds(5));
  progress.Update(10);
  EXPECT_EQ(out.str(), "");  // not 5 s yet
  clock.Advance(std::chrono::seconds(10));
  progress.Update(100);
  EXPECT_EQ(out.str(),
            "backfill: 100/10000 rows (1.0%), 10 rows/s, ETA 0:16:30\n");
  clock.Advance(std::chrono::seconds(10));
  progress.Finish(10'000);
  EXPECT_NE(out.str().find("backfill: 10000/10000 rows (100.0%), 500 rows/s\n"),
            std::string::npos)
      << out.str();
}

TEST(ProgressTest, CountsInTheUnitItIsGiven) {
  SimulatedClock clock(*Timestamp::FromUnixMicros(0));
  std::ostringstream out;
  Progress progress(out, "indexes", /*tty=*/false, 0, &clock);
  progress.set_unit("tuples");
  clock.Advance(std::chrono::seconds(2));
  progress.Finish(300);
  EXPECT_EQ(out.str(), "indexes: 300 tuples, 150 tuples/s\n");
}

TEST(ProgressTest, ATerminalGetsOneLineRedrawnWithABarThatFits) {
  SimulatedClock clock(*Timestamp::FromUnixMicros(0));
  std::ostringstream out;
  Progress progress(out, "verify", /*tty=*/true, 1'000, &clock,
                    std::chrono::seconds(5), /*columns=*/100);
  clock.Advance(std::chrono::seconds(1));
  progress.Update(250);
  EXPECT_EQ(out.str(),
            "\r\033[Kverify: [######..................] 250/1000 rows "
            "(25.0%), 250 rows/s, ETA 0:00:03");
  clock.Advance(std::chrono::seconds(3));
  progress.Finish(1'000);
  EXPECT_NE(out.str().find("\r\033[Kverify: [########################] "
                           "1000/1000 rows (100.0%), 250 rows/s\n"),
            std::string::npos)
      << out.str();

  // 80 columns: a narrower bar, the line still under the width.
  std::ostringstream narrow;
  Progress small(narrow, "verify", /*tty=*/true, 1'000, &clock,
                 std::chrono::seconds(5), /*columns=*/80);
  clock.Advance(std::chrono::seconds(1));
  small.Update(500);
  const std::string line = narrow.str().substr(4);  // after \r\033[K
  EXPECT_EQ(line.size(), 79u) << line;
  EXPECT_NE(line.find("verify: [###########...........] 500/1000"),
            std::string::npos)
      << line;

  // No room for a bar of 8: none.
  std::ostringstream tiny;
  Progress none(tiny, "verify", /*tty=*/true, 1'000, &clock,
                std::chrono::seconds(5), /*columns=*/50);
  clock.Advance(std::chrono::seconds(1));
  none.Update(500);
  EXPECT_EQ(tiny.str().find("verify: ["), std::string::npos) << tiny.str();
}

TEST(ProgressTest, ReadsLikeAClock) {
  EXPECT_EQ(HoursMinutesSeconds(0), "0:00:00");
  EXPECT_EQ(HoursMinutesSeconds(65.4), "0:01:05");
  EXPECT_EQ(HoursMinutesSeconds(3599.6), "1:00:00");
  EXPECT_EQ(HoursMinutesSeconds(36 * 3600 + 61), "36:01:01");
  EXPECT_EQ(HoursMinutesSeconds(std::numeric_limits<double>::infinity()),
            "277777:46:40");
  EXPECT_EQ(HoursMinutesSeconds(-5), "0:00:00");
}

}  // namespace
}  // namespace tradestore
