// The real clock, counting the waits asked of it: a test asserts that a
// call did not retry (it asked for no wait), never how long it took.
#ifndef TRADESTORE_TESTS_TESTING_COUNTING_CLOCK_H_
#define TRADESTORE_TESTS_TESTING_COUNTING_CLOCK_H_

#include <atomic>
#include <chrono>

#include "tradestore/clock.h"

namespace tradestore::testing {

class CountingClock : public Clock {
 public:
  Timestamp Now() override { return Clock::Real()->Now(); }
  std::chrono::steady_clock::time_point Monotonic() override {
    return Clock::Real()->Monotonic();
  }
  void SleepFor(std::chrono::microseconds d) override {
    ++waits_;
    Clock::Real()->SleepFor(d);
  }
  int waits() const { return waits_.load(); }

 private:
  std::atomic<int> waits_{0};
};

}  // namespace tradestore::testing

#endif  // TRADESTORE_TESTS_TESTING_COUNTING_CLOCK_H_
