// Buffers handed back by the thread that used them, for a producer to fill
// again: a scan's chunks keep the memory they grew into instead of freeing
// megabytes per chunk and faulting fresh pages back in (a full verify's
// system time fell by about a third with it).
//
// Thread-safety: any number of threads may Take and Give.
#ifndef TRADESTORE_INTERNAL_RECYCLER_H_
#define TRADESTORE_INTERNAL_RECYCLER_H_

#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

namespace tradestore::internal {

template <typename T>
class Recycler {
 public:
  // Keeps at most `keep` buffers; more are freed.
  explicit Recycler(size_t keep) : keep_(keep) {}

  // A buffer given back earlier (with its contents: the caller clears it,
  // keeping its capacity), or a new one.
  T Take() {
    std::lock_guard<std::mutex> lock(mu_);
    if (spare_.empty()) return T();
    T item = std::move(spare_.back());
    spare_.pop_back();
    return item;
  }

  void Give(T item) {
    std::lock_guard<std::mutex> lock(mu_);
    if (spare_.size() < keep_) spare_.push_back(std::move(item));
  }

 private:
  const size_t keep_;
  std::mutex mu_;
  std::vector<T> spare_;  // guarded by mu_
};

}  // namespace tradestore::internal

#endif  // TRADESTORE_INTERNAL_RECYCLER_H_
