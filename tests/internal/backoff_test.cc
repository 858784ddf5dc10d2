#include "tradestore/internal/backoff.h"

#include <gtest/gtest.h>

namespace tradestore {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(BackoffTest, GrowsExponentiallyWithJitterUpToTheCap) {
  SimulatedClock clock(*Timestamp::FromUnixMicros(0));
  BackoffOptions options{.initial_delay = milliseconds(100),
                         .max_delay = milliseconds(1000),
                         .deadline = milliseconds(1000000)};
  Backoff backoff(options, &clock);
  microseconds previous_cap{0};
  for (int i = 0; i < 8; ++i) {
    const auto before = clock.elapsed();
    ASSERT_TRUE(backoff.Wait());
    const auto slept = clock.elapsed() - before;
    const microseconds cap = std::min<microseconds>(
        milliseconds(100) * (1 << i), milliseconds(1000));
    EXPECT_GE(slept, cap / 2) << i;  // equal jitter: never below half
    EXPECT_LE(slept, cap) << i;
    EXPECT_GE(cap, previous_cap);
    previous_cap = cap;
  }
}

TEST(BackoffTest, StopsAtTheDeadlineWithoutSleepingPastIt) {
  SimulatedClock clock(*Timestamp::FromUnixMicros(0));
  BackoffOptions options{.initial_delay = milliseconds(100),
                         .max_delay = milliseconds(400),
                         .deadline = milliseconds(2000)};
  Backoff backoff(options, &clock);
  int waits = 0;
  while (backoff.Wait()) ++waits;
  EXPECT_GE(waits, 4);
  EXPECT_LE(clock.elapsed(), milliseconds(2000));
  EXPECT_EQ(backoff.attempts(), waits);
}

}  // namespace
}  // namespace tradestore
