// Mutex: std::mutex with Clang's thread-safety annotations, so that
// `-Wthread-safety` (tools/check_thread_safety.sh) proves every member
// marked ABSL_GUARDED_BY is touched only with its lock held. ScopedLock and
// ScopedSharedLock are the annotated lock_guard and shared_lock.
//
// Condition variables stay std::condition_variable (faster than the _any
// kind); Mutex waits on them for the caller, who holds the lock before and
// after. A wait's predicate reads guarded members, so it is a lambda marked
// ABSL_EXCLUSIVE_LOCKS_REQUIRED(the mutex).
//
// Thread-safety: it is the synchronisation.
#ifndef TRADESTORE_INTERNAL_MUTEX_H_
#define TRADESTORE_INTERNAL_MUTEX_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/base/thread_annotations.h"

namespace tradestore::internal {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  bool try_lock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    return mu_.try_lock();
  }
  void unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

  // Waits on `cv` until notified (or woken spuriously).
  void Wait(std::condition_variable& cv) ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    Adopted held(mu_);
    cv.wait(held.lock);
  }

  // Waits on `cv` until ready() holds.
  template <typename Ready>
  void Await(std::condition_variable& cv, Ready ready)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    Adopted held(mu_);
    cv.wait(held.lock, ready);
  }

  // Waits on `cv` until ready() holds or `timeout` passed; ready()'s value.
  template <typename Rep, typename Period, typename Ready>
  bool AwaitFor(std::condition_variable& cv,
                std::chrono::duration<Rep, Period> timeout, Ready ready)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    Adopted held(mu_);
    return cv.wait_for(held.lock, timeout, ready);
  }

  // Waits on `cv` until notified or `deadline`.
  template <typename Clock, typename Duration>
  void WaitUntil(std::condition_variable& cv,
                 std::chrono::time_point<Clock, Duration> deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    Adopted held(mu_);
    cv.wait_until(held.lock, deadline);
  }

 private:
  // A unique_lock over the held mutex that leaves it held when it ends.
  struct Adopted {
    explicit Adopted(std::mutex& mu) : lock(mu, std::adopt_lock) {}
    ~Adopted() { lock.release(); }
    std::unique_lock<std::mutex> lock;
  };

  std::mutex mu_;
};

// lock_guard for any annotated lockable (Mutex, FairMutex, RwLock).
template <typename M>
class ABSL_SCOPED_LOCKABLE ScopedLock {
 public:
  explicit ScopedLock(M& mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_.lock();
  }
  ~ScopedLock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }
  ScopedLock(const ScopedLock&) = delete;
  ScopedLock& operator=(const ScopedLock&) = delete;

 private:
  M& mu_;
};

// shared_lock for an annotated reader-writer lock (RwLock).
template <typename M>
class ABSL_SCOPED_LOCKABLE ScopedSharedLock {
 public:
  explicit ScopedSharedLock(M& mu) ABSL_SHARED_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_.lock_shared();
  }
  ~ScopedSharedLock() ABSL_UNLOCK_FUNCTION() { mu_.unlock_shared(); }
  ScopedSharedLock(const ScopedSharedLock&) = delete;
  ScopedSharedLock& operator=(const ScopedSharedLock&) = delete;

 private:
  M& mu_;
};

}  // namespace tradestore::internal

#endif  // TRADESTORE_INTERNAL_MUTEX_H_
