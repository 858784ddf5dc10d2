// A bounded queue that hands items out in sequence order, whichever
// producer pushes them first: several threads read batches side by side and
// the consumers still get batch 0, 1, 2, ... Memory stays flat: a push waits
// while its sequence number is `window` or more ahead of the next one to be
// handed out, and the next one itself is always admitted, so a slow producer
// can never be shut out by fast ones.
//
// Thread-safety: any number of producers and consumers.
#ifndef TRADESTORE_INTERNAL_ORDERED_QUEUE_H_
#define TRADESTORE_INTERNAL_ORDERED_QUEUE_H_

#include <condition_variable>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "tradestore/internal/mutex.h"
#include "tradestore/internal/side_by_side.h"

namespace tradestore::internal {

template <typename T>
class OrderedQueue {
 public:
  explicit OrderedQueue(int64_t window) : window_(window < 1 ? 1 : window) {}

  // Adds the item numbered `seq` (0, 1, 2, ... across all producers, each
  // once). False when the queue was closed or stopped: the producer should
  // end.
  bool Push(int64_t seq, T item) {
    ScopedLock lock(mu_);
    mu_.Await(changed_, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return closed_ || stopped_ || seq < next_ + window_;
    });
    if (closed_ || stopped_) return false;
    items_.emplace(seq, std::move(item));
    changed_.notify_all();
    return true;
  }

  // The end of the stream: after the items pushed so far, Pop returns
  // nullopt. The first error given is kept (a failed producer closes at
  // once, so the others' pushes end and no consumer waits for its item).
  void Close(absl::Status status) {
    ScopedLock lock(mu_);
    if (status_.ok()) status_ = std::move(status);
    closed_ = true;
    changed_.notify_all();
  }

  // The consumers give up: blocked pushes return false.
  void Stop() {
    ScopedLock lock(mu_);
    stopped_ = true;
    changed_.notify_all();
  }

  // The item numbered next; nullopt once closed without it (then status()
  // tells how the stream ended).
  std::optional<T> Pop() {
    ScopedLock lock(mu_);
    mu_.Await(changed_, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return closed_ || Ready();
    });
    if (!Ready()) return std::nullopt;
    auto first = items_.begin();
    T item = std::move(first->second);
    items_.erase(first);
    ++next_;
    changed_.notify_all();
    return item;
  }

  absl::Status status() {
    ScopedLock lock(mu_);
    return status_;
  }

 private:
  bool Ready() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !items_.empty() && items_.begin()->first == next_;
  }

  const int64_t window_;
  Mutex mu_;
  std::condition_variable changed_;
  std::map<int64_t, T> items_ ABSL_GUARDED_BY(mu_);
  int64_t next_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
};

// Runs produce(0) ... produce(producers - 1) side by side, one on the
// calling thread, each pushing into `queue`. A failed producer closes the
// queue at once, so no consumer waits for an item it will never push.
// Returns the first failure; the caller closes the queue when all is done.
template <typename T, typename Produce>
absl::Status RunProducers(int producers, OrderedQueue<T>& queue,
                          const Produce& produce) {
  std::vector<absl::Status> status(producers < 1 ? 1 : producers);
  RunSideBySide(producers, [&](int i) {
    status[i] = produce(i);
    if (!status[i].ok()) queue.Close(status[i]);
  });
  absl::Status first;
  for (const absl::Status& s : status) first.Update(s);
  return first;
}

}  // namespace tradestore::internal

#endif  // TRADESTORE_INTERNAL_ORDERED_QUEUE_H_
