// FairMutex: a mutex that serves its waiters in the order they came.
// std::mutex lets the thread that unlocks take the lock straight back, so
// writers in a loop kept the dual-write relay out of the SQLite store's
// writer for minutes (its lag had no bound); here a waiter is passed over
// by no one who came after it.
//
// Thread-safety: it is the synchronisation. Meets BasicLockable, so
// std::lock_guard and std::unique_lock work with it.
#ifndef TRADESTORE_INTERNAL_FAIR_MUTEX_H_
#define TRADESTORE_INTERNAL_FAIR_MUTEX_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "absl/base/thread_annotations.h"

namespace tradestore::internal {

class ABSL_LOCKABLE FairMutex {
 public:
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    std::unique_lock<std::mutex> l(mu_);
    const uint64_t ticket = next_++;
    turn_.wait(l, [&] { return serving_ == ticket; });
  }
  void unlock() ABSL_UNLOCK_FUNCTION() {
    {
      std::lock_guard<std::mutex> l(mu_);
      ++serving_;
    }
    turn_.notify_all();
  }
  // Threads waiting for the lock (the holder not counted); for tests.
  uint64_t waiting() {
    std::lock_guard<std::mutex> l(mu_);
    return next_ - serving_ - (next_ > serving_ ? 1 : 0);
  }

 private:
  std::mutex mu_;
  std::condition_variable turn_;
  uint64_t next_ = 0;     // the next ticket handed out
  uint64_t serving_ = 0;  // the ticket that holds (or may take) the lock
};

}  // namespace tradestore::internal

#endif  // TRADESTORE_INTERNAL_FAIR_MUTEX_H_
