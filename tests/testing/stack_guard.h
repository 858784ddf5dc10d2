// Stops what a test started even when the test binary dies: a detached
// watchdog waits for this process to end, then runs `tradestore stack down
// --remove` on the directory.
#ifndef TRADESTORE_TESTS_TESTING_STACK_GUARD_H_
#define TRADESTORE_TESTS_TESTING_STACK_GUARD_H_

#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "tradestore/internal/process.h"

namespace tradestore::testing {

inline void GuardStack(const std::string& dir) {
  internal::SpawnDetached(absl::StrCat("while kill -0 ", getpid(),
                                       " 2>/dev/null; do sleep 1; done; '",
                                       TRADESTORE_CLI, "' stack down --dir '",
                                       dir, "' --remove"))
      .IgnoreError();
}

}  // namespace tradestore::testing

#endif  // TRADESTORE_TESTS_TESTING_STACK_GUARD_H_
