// Buffers handed back by the thread that used them, for a producer to fill
// again: a scan's chunks keep the memory they grew into instead of freeing
// megabytes per chunk and faulting fresh pages back in (a full verify's
// system time fell by about a third with it).
//
// Thread-safety: any number of threads may Take and Give.
#ifndef TRADESTORE_INTERNAL_RECYCLER_H_
#define TRADESTORE_INTERNAL_RECYCLER_H_

#include <cstddef>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "tradestore/internal/mutex.h"

namespace tradestore::internal {

template <typename T>
class Recycler {
 public:
  // Keeps at most `keep` buffers; more are freed.
  explicit Recycler(size_t keep) : keep_(keep) {}

  // A buffer given back earlier (with its contents: the caller clears it,
  // keeping its capacity), or a new one.
  T Take() {
    ScopedLock lock(mu_);
    if (spare_.empty()) return T();
    T item = std::move(spare_.back());
    spare_.pop_back();
    return item;
  }

  void Give(T item) {
    ScopedLock lock(mu_);
    if (spare_.size() < keep_) spare_.push_back(std::move(item));
  }

 private:
  const size_t keep_;
  Mutex mu_;
  std::vector<T> spare_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tradestore::internal

#endif  // TRADESTORE_INTERNAL_RECYCLER_H_
