// Writers inserting trades until stopped, with Jepsen's accounting: each
// write's outcome is recorded as acknowledged, failed or unknown, and
// afterwards compared with what the database holds. Used by the failover
// drills and by tools/bench/failover_bench.
#ifndef TRADESTORE_TESTS_TESTING_WRITE_LOAD_H_
#define TRADESTORE_TESTS_TESTING_WRITE_LOAD_H_

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tradestore/trade_store.h"

namespace tradestore::testing {

using Steady = std::chrono::steady_clock;

struct Outcome {
  enum Kind { kOk, kFailed, kUnknown } kind;
  std::string key;  // the trade's client_order_id
  Steady::time_point at;
  std::string error;
};

// `writers` threads inserting trades keyed "<tag>-<writer>-<n>", each
// resting `pause` after a write: writers in a tight loop can starve a
// thread that shares the store's lock with them (the dual-write relay).
class WriteLoad {
 public:
  WriteLoad(TradeStore& store, const std::string& tag, int writers,
            std::chrono::microseconds pause = std::chrono::microseconds(0));
  ~WriteLoad() { Stop(); }
  WriteLoad(const WriteLoad&) = delete;
  WriteLoad& operator=(const WriteLoad&) = delete;

  // Acknowledged writes that finished after `since`.
  int AcksAfter(Steady::time_point since);
  // Waits for `n` acks after `since`; false after `deadline` (which only
  // ends a hung run).
  bool WaitAcks(int n, Steady::time_point since,
                std::chrono::seconds deadline = std::chrono::minutes(3));
  void Stop();
  // After Stop().
  const std::vector<Outcome>& outcomes() const { return outcomes_; }

 private:
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<Outcome> outcomes_;
  std::vector<std::thread> threads_;
};

// The longest time without an acknowledged write from `from` on.
double PauseSeconds(const std::vector<Outcome>& outcomes,
                    Steady::time_point from);

// client_order_id -> rows holding it, for the keys of `tag`, read with psql.
std::map<std::string, int> StoredKeys(const std::string& dsn,
                                      const std::string& tag);

struct Accounting {
  int ok = 0, failed = 0, unknown = 0;
  int unknown_committed = 0;  // unknown outcomes found stored once
  // Each a key with what is wrong with it; all empty when nothing was lost
  // or doubled and no failed write took effect.
  std::vector<std::string> lost, doubled, failed_but_stored;
  bool clean() const {
    return lost.empty() && doubled.empty() && failed_but_stored.empty();
  }
  // What is wrong, for a failed expectation; empty when clean().
  std::string Problems() const;
  // "N acknowledged, N failed, N unknown (N committed)".
  std::string Counts() const;
};
Accounting Account(const std::vector<Outcome>& outcomes,
                   const std::map<std::string, int>& stored);

}  // namespace tradestore::testing

#endif  // TRADESTORE_TESTS_TESTING_WRITE_LOAD_H_
