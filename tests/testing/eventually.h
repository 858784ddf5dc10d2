// Waits for an event a test cannot be told of directly (another thread's
// progress, a counter reaching a value), with a bound far beyond any
// machine's pace: for the event, never for a length of time.
#ifndef TRADESTORE_TESTS_TESTING_EVENTUALLY_H_
#define TRADESTORE_TESTS_TESTING_EVENTUALLY_H_

#include <chrono>
#include <thread>

namespace tradestore::testing {

// True once `done()` holds; false if it still does not after 60 s.
template <typename Done>
bool Eventually(Done done) {
  const auto give_up =
      std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace tradestore::testing

#endif  // TRADESTORE_TESTS_TESTING_EVENTUALLY_H_
