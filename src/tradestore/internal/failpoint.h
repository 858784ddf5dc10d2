// Named places in the write path, the relay, the backfill and the phase
// switch where the fault suite kills the process, or runs an action of its
// own, to prove that a crash there loses and doubles nothing. Unarmed, a
// failpoint costs one relaxed atomic load.
//
// A process started with TRADESTORE_FAILPOINTS=NAME[@N][,NAME[@N]...] kills
// itself with SIGKILL the Nth time it reaches NAME (the first by default);
// an unknown name or a malformed list ends it at start. A test arms one in
// its own process with ArmFailpoint.
#ifndef TRADESTORE_INTERNAL_FAILPOINT_H_
#define TRADESTORE_INTERNAL_FAILPOINT_H_

#include <atomic>
#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace tradestore::internal {

inline constexpr const char* kFailpointsEnv = "TRADESTORE_FAILPOINTS";

// Every failpoint the code reaches; arming any other name is refused.
absl::Span<const absl::string_view> FailpointNames();

// Runs `action` the `nth` time `name` is reached, on the thread reaching
// it, and disarms it. A null action kills the process with SIGKILL.
absl::Status ArmFailpoint(absl::string_view name, int64_t nth,
                          std::function<void()> action = nullptr);
// Parses the TRADESTORE_FAILPOINTS grammar and arms each with a kill.
absl::Status ArmFailpointsFromText(absl::string_view spec);
void DisarmFailpoints();

namespace failpoint_detail {
extern std::atomic<bool> armed;
void Reach(absl::string_view name);
}  // namespace failpoint_detail

inline void Failpoint(absl::string_view name) {
  if (failpoint_detail::armed.load(std::memory_order_relaxed)) {
    failpoint_detail::Reach(name);
  }
}

}  // namespace tradestore::internal

#endif  // TRADESTORE_INTERNAL_FAILPOINT_H_
