// Waiting for something another process does (a server to answer, a
// process to end), by asking again at an interval, on the Clock seam.
#ifndef TRADESTORE_INTERNAL_POLL_H_
#define TRADESTORE_INTERNAL_POLL_H_

#include <chrono>
#include <functional>

#include "absl/status/status.h"
#include "tradestore/clock.h"

namespace tradestore::internal {

// Calls `attempt` until it returns OK, sleeping `every` between calls, and
// returns OK. Once `limit` has passed since the first call, returns the
// last attempt's status instead. `clock` null means the real clock.
absl::Status PollUntilOk(std::chrono::milliseconds every,
                         std::chrono::milliseconds limit,
                         const std::function<absl::Status()>& attempt,
                         Clock* clock = nullptr);

}  // namespace tradestore::internal

#endif  // TRADESTORE_INTERNAL_POLL_H_
