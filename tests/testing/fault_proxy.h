// A TCP proxy on loopback that a test puts between the store and Postgres
// to inject network faults without containers or root: added latency, a
// stall (nothing forwarded either way until resumed), every connection
// dropped at once, and the server's reply to COMMIT lost (the connection
// dropped right before the client would see it).
//
// Thread-safety: every method may be called from any thread.
#ifndef TRADESTORE_TESTS_TESTING_FAULT_PROXY_H_
#define TRADESTORE_TESTS_TESTING_FAULT_PROXY_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tradestore::testing {

class FaultProxy {
 public:
  // Forwards 127.0.0.1:port() to 127.0.0.1:target_port.
  explicit FaultProxy(int target_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }

  // Each chunk waits this long before it is forwarded, either way.
  void SetLatency(std::chrono::milliseconds latency) {
    latency_ms_.store(latency.count());
  }
  // Nothing is forwarded until Resume; new connections are accepted.
  void Stall() { stalled_.store(true); }
  void Resume() { stalled_.store(false); }
  // Closes every open connection, both sides at once, as a crashed
  // middlebox or a restarted pooler would.
  void DropAll();
  // The next `n` server replies holding COMMIT's CommandComplete are not
  // forwarded: that connection is dropped instead, after the server
  // committed.
  void DropCommitReplies(int n) { drop_commits_.store(n); }

  int64_t connections() const { return accepted_.load(); }
  int64_t commits_dropped() const { return dropped_.load(); }

 private:
  struct Link;
  void Accept();
  void Pump(std::shared_ptr<Link> link, bool to_server);

  int listen_fd_ = -1;
  int port_ = 0;
  const int target_port_;
  std::atomic<bool> stop_{false}, stalled_{false};
  std::atomic<int64_t> latency_ms_{0};
  std::atomic<int> drop_commits_{0};
  std::atomic<int64_t> accepted_{0}, dropped_{0};
  std::mutex mu_;
  std::vector<std::shared_ptr<Link>> links_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace tradestore::testing

#endif  // TRADESTORE_TESTS_TESTING_FAULT_PROXY_H_
