#include "tradestore/internal/poll.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "testing/status_matchers.h"

namespace tradestore::internal {
namespace {

using std::chrono::milliseconds;

SimulatedClock Start() {
  return SimulatedClock(*Timestamp::Parse("2026-01-01T00:00:00Z"));
}

TEST(PollUntilOkTest, AsksAgainUntilItHolds) {
  SimulatedClock clock = Start();
  int calls = 0;
  TS_EXPECT_OK(PollUntilOk(
      milliseconds(100), milliseconds(10000),
      [&] {
        return ++calls < 4 ? absl::UnavailableError("not yet")
                           : absl::OkStatus();
      },
      &clock));
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(clock.elapsed(), milliseconds(300));
}

TEST(PollUntilOkTest, GivesTheLastAnswerOnceTheLimitHasPassed) {
  SimulatedClock clock = Start();
  int calls = 0;
  const absl::Status s = PollUntilOk(
      milliseconds(200), milliseconds(1000),
      [&] {
        ++calls;
        return absl::FailedPreconditionError(absl::StrCat("no ", calls));
      },
      &clock);
  // Asked at 0, 200, ..., 1000 ms, within the limit, and at 1200, past it.
  EXPECT_EQ(calls, 7);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "no 7");
}

}  // namespace
}  // namespace tradestore::internal
