// Lets work done in parallel finish in the order it was handed out: item k
// takes its turn only after item k-1 has passed. The backfill's writer lanes
// copy batches side by side but commit them in order through one, so the
// committed checkpoint is always a contiguous prefix of the source.
#ifndef TRADESTORE_INTERNAL_TURNSTILE_H_
#define TRADESTORE_INTERNAL_TURNSTILE_H_

#include <condition_variable>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "tradestore/internal/mutex.h"

namespace tradestore::internal {

class Turnstile {
 public:
  explicit Turnstile(int64_t first = 0) : next_(first) {}

  // Blocks until `seq` is next. Cancelled once Abort was called: another
  // lane failed, so nothing after its item may commit.
  absl::Status Wait(int64_t seq) {
    ScopedLock lock(mu_);
    mu_.Await(changed_, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return aborted_ || next_ == seq;
    });
    if (aborted_) return absl::CancelledError("another writer lane failed");
    return absl::OkStatus();
  }

  // `seq` is done; the next one may go.
  void Pass(int64_t seq) {
    ScopedLock lock(mu_);
    if (next_ == seq) ++next_;
    changed_.notify_all();
  }

  void Abort() {
    ScopedLock lock(mu_);
    aborted_ = true;
    changed_.notify_all();
  }

 private:
  Mutex mu_;
  std::condition_variable changed_;
  int64_t next_ ABSL_GUARDED_BY(mu_);
  bool aborted_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace tradestore::internal

#endif  // TRADESTORE_INTERNAL_TURNSTILE_H_
