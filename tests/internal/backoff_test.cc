#include "tradestore/internal/backoff.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

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
    EXPECT_EQ(backoff.last_delay(), slept) << i;  // what a retry log says
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

// A store being closed ends the retries at once: a Backoff whose owner
// cancelled it neither waits nor counts an attempt, and one cancelled
// while it sleeps (here an hour of it, on the real clock) wakes up.
TEST(BackoffTest, ACancelledBackoffStopsWaiting) {
  BackoffOptions options{.initial_delay = std::chrono::hours(1),
                         .max_delay = std::chrono::hours(1),
                         .deadline = std::chrono::hours(10)};
  std::atomic<bool> cancelled{true};
  Backoff done(options, Clock::Real(), &cancelled);
  EXPECT_FALSE(done.Wait());
  EXPECT_EQ(done.attempts(), 0);

  cancelled = false;
  Backoff sleeping(options, Clock::Real(), &cancelled);
  std::thread closer([&] { cancelled = true; });
  EXPECT_FALSE(sleeping.Wait());
  closer.join();
}

}  // namespace
}  // namespace tradestore
