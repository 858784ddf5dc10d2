#include "tradestore/internal/poll.h"

namespace tradestore::internal {

absl::Status PollUntilOk(std::chrono::milliseconds every,
                         std::chrono::milliseconds limit,
                         const std::function<absl::Status()>& attempt,
                         Clock* clock) {
  if (clock == nullptr) clock = Clock::Real();
  const auto until = clock->Monotonic() + limit;
  for (;;) {
    absl::Status last = attempt();
    if (last.ok() || clock->Monotonic() > until) return last;
    clock->SleepFor(every);
  }
}

}  // namespace tradestore::internal
