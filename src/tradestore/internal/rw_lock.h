// RwLock: a reader-writer lock that lets a waiting writer in. glibc's
// default rwlock (behind std::shared_mutex) prefers readers, so a steady
// stream of calls can keep a phase switch waiting for minutes; here a
// waiting writer stops new readers. Not recursive: a thread holding it
// shared must not take it shared again.
//
// Thread-safety: it is the synchronisation. Meets the SharedMutex
// requirements, so std::shared_lock and std::unique_lock work with it.
#ifndef TRADESTORE_INTERNAL_RW_LOCK_H_
#define TRADESTORE_INTERNAL_RW_LOCK_H_

#include <pthread.h>

#include "absl/base/thread_annotations.h"

namespace tradestore::internal {

class ABSL_LOCKABLE RwLock {
 public:
  RwLock() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr,
                                  PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&lock_, &attr);
    pthread_rwlockattr_destroy(&attr);
  }
  ~RwLock() { pthread_rwlock_destroy(&lock_); }
  RwLock(const RwLock&) = delete;
  RwLock& operator=(const RwLock&) = delete;

  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { pthread_rwlock_wrlock(&lock_); }
  bool try_lock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    return pthread_rwlock_trywrlock(&lock_) == 0;
  }
  void unlock() ABSL_UNLOCK_FUNCTION() { pthread_rwlock_unlock(&lock_); }
  void lock_shared() ABSL_SHARED_LOCK_FUNCTION() {
    pthread_rwlock_rdlock(&lock_);
  }
  bool try_lock_shared() ABSL_SHARED_TRYLOCK_FUNCTION(true) {
    return pthread_rwlock_tryrdlock(&lock_) == 0;
  }
  void unlock_shared() ABSL_UNLOCK_FUNCTION() { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
};

}  // namespace tradestore::internal

#endif  // TRADESTORE_INTERNAL_RW_LOCK_H_
