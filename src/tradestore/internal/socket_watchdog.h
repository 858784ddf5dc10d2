// SocketWatchdog: a bound on calls to a server that stops answering while
// its host still acknowledges the packets (a frozen process, a proxy that
// hangs): TCP keepalives and tcp_user_timeout see nothing wrong there, and a
// blocked read would wait forever. A Guard names a socket and a limit; when
// the call outlives it, one shared thread shuts the socket down, so the read
// returns at once as on a lost connection and the caller's retry rules apply.
//
// Thread-safety: Guards may be made and dropped from any thread. The socket
// must stay open while its Guard is armed (Disarm before closing it).
#ifndef TRADESTORE_INTERNAL_SOCKET_WATCHDOG_H_
#define TRADESTORE_INTERNAL_SOCKET_WATCHDOG_H_

#include <chrono>
#include <cstdint>

namespace tradestore::internal {

class SocketGuard {
 public:
  // fd < 0 or limit <= 0 arms nothing.
  SocketGuard(int fd, std::chrono::milliseconds limit);
  ~SocketGuard() { Disarm(); }
  SocketGuard(const SocketGuard&) = delete;
  SocketGuard& operator=(const SocketGuard&) = delete;

  // Stops watching; returns whether the limit was hit and the socket shut
  // down. Idempotent.
  bool Disarm();

 private:
  uint64_t id_ = 0;  // 0: not armed
  bool fired_ = false;
};

// Sockets shut down by a guard since the process started.
int64_t SocketGuardsFired();

}  // namespace tradestore::internal

#endif  // TRADESTORE_INTERNAL_SOCKET_WATCHDOG_H_
