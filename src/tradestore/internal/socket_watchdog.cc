#include "tradestore/internal/socket_watchdog.h"

#include <pthread.h>
#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "tradestore/internal/mutex.h"

namespace tradestore::internal {
namespace {

using SteadyClock = std::chrono::steady_clock;

class Watchdog {
 public:
  // Never destroyed: guards may outlive static destruction in other
  // threads, and the thread waits on this object.
  static Watchdog& Get() {
    static Watchdog* const watchdog = [] {
      auto* w = new Watchdog;
      // A forked child has no watchdog thread and must not inherit a
      // locked mutex: the lock is held across fork, and the child starts
      // afresh (a Python service may fork). The child's handler only sets
      // fields: freeing there hangs when another thread held the
      // allocator's lock at the fork (ASan's does); the parent's guards
      // are dropped at the child's first Arm instead.
      pthread_atfork([]() ABSL_NO_THREAD_SAFETY_ANALYSIS { Get().mu_.lock(); },
                     []()
                         ABSL_NO_THREAD_SAFETY_ANALYSIS { Get().mu_.unlock(); },
                     []() ABSL_NO_THREAD_SAFETY_ANALYSIS {
                       Watchdog& c = Get();
                       c.forked_ = true;
                       c.started_ = false;
                       c.wake_at_ = SteadyClock::time_point::min();
                       c.mu_.unlock();
                     });
      return w;
    }();
    return *watchdog;
  }

  uint64_t Arm(int fd, SteadyClock::time_point deadline) {
    ScopedLock lock(mu_);
    if (forked_) {
      // The parent's sockets: this process's thread must never shut them.
      armed_.clear();
      forked_ = false;
    }
    if (!started_) {
      std::thread([this] { Loop(); }).detach();
      started_ = true;
    }
    const uint64_t id = ++next_id_;
    armed_[id] = {fd, deadline, false};
    // Guards share one limit, so a new deadline is almost never the next
    // one: the thread is woken only when it is, not on every call.
    if (deadline < wake_at_) changed_.notify_one();
    return id;
  }

  bool Disarm(uint64_t id) {
    ScopedLock lock(mu_);
    const auto it = armed_.find(id);
    if (it == armed_.end()) return false;
    const bool fired = it->second.fired;
    armed_.erase(it);
    return fired;
  }

  std::atomic<int64_t> fired_total{0};

 private:
  struct Entry {
    int fd;
    SteadyClock::time_point deadline;
    bool fired;
  };

  void Loop() {
    ScopedLock lock(mu_);
    for (;;) {
      auto next = SteadyClock::time_point::max();
      const auto now = SteadyClock::now();
      for (auto& [id, e] : armed_) {
        if (e.fired) continue;
        if (e.deadline <= now) {
          // Under the lock: Disarm (and so the close after it) waits.
          ::shutdown(e.fd, SHUT_RDWR);
          e.fired = true;
          fired_total.fetch_add(1);
        } else if (e.deadline < next) {
          next = e.deadline;
        }
      }
      wake_at_ = next;
      if (next == SteadyClock::time_point::max()) {
        mu_.Wait(changed_);
      } else {
        mu_.WaitUntil(changed_, next);
      }
    }
  }

  Mutex mu_;
  std::condition_variable changed_;
  std::map<uint64_t, Entry> armed_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  // armed_ still holds the parent's guards
  bool forked_ ABSL_GUARDED_BY(mu_) = false;
  // When the thread wakes next by itself; a deadline before it needs a
  // notify. min() until the thread first waits: its first scan, under
  // the lock, sees every guard armed before it.
  SteadyClock::time_point wake_at_ ABSL_GUARDED_BY(mu_) =
      SteadyClock::time_point::min();
};

}  // namespace

SocketGuard::SocketGuard(int fd, std::chrono::milliseconds limit) {
  if (fd < 0 || limit.count() <= 0) return;
  id_ = Watchdog::Get().Arm(fd, SteadyClock::now() + limit);
}

bool SocketGuard::Disarm() {
  if (id_ != 0) {
    fired_ = Watchdog::Get().Disarm(id_) || fired_;
    id_ = 0;
  }
  return fired_;
}

int64_t SocketGuardsFired() { return Watchdog::Get().fired_total.load(); }

}  // namespace tradestore::internal
