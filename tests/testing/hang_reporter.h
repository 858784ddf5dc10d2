// Turns a hung test into a failure that says where it hung. ctest's own
// timeout kills a stuck binary silently, after the whole budget, and the
// log then names no test. This listener gives every test (and the
// environment's set-up and tear-down) a limit, and the binary a budget
// just under ctest's timeout; past either it prints what was running and
// every thread's backtrace (gdb), then aborts, so the stack guards tear
// down what the binary started and the rest of CI still runs.
#ifndef TRADESTORE_TESTS_TESTING_HANG_REPORTER_H_
#define TRADESTORE_TESTS_TESTING_HANG_REPORTER_H_

#include <chrono>

namespace tradestore::testing {

// Installs the listener. TRADESTORE_TEST_HANG_LIMIT_S overrides
// `per_test` (0 turns the reporter off); TRADESTORE_TEST_BUDGET_S, when
// set, bounds the whole binary's run.
void InstallHangReporter(std::chrono::seconds per_test);

}  // namespace tradestore::testing

#endif  // TRADESTORE_TESTS_TESTING_HANG_REPORTER_H_
