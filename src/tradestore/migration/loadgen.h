// Loadgen: realistic trading load through the embedded PhasedTradeStore, in
// whatever phase is set: inserts of new trades and status updates of recent
// ones, paced to a rate over a duration by a few writer threads. Every
// acknowledgement can be appended to an ack log at once (a kill -9 keeps
// every line written), so a test can check that nothing acknowledged was
// lost. At the end it drains the outbox (bounded) and reports latencies and
// the relay's lag.
//
// Thread-safety: a function; runs its own threads.
#ifndef TRADESTORE_MIGRATION_LOADGEN_H_
#define TRADESTORE_MIGRATION_LOADGEN_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tradestore/migration/phased_trade_store.h"

namespace tradestore {

struct LoadgenOptions {
  PhasedStoreOptions store;  // sqlite_path (created if missing), pg, ...
  double rate = 1000;        // writes per second, all threads together
  std::chrono::milliseconds duration{10000};
  int threads = 2;
  // The share of writes that move a recent open trade to a new status.
  double update_share = 0.3;
  // Appends "<id> <version>\n" per acknowledged write, as it happens.
  std::string ack_log;
  std::chrono::milliseconds drain_timeout = std::chrono::minutes(5);
  bool progress_tty = false;
};

struct Percentiles {
  int64_t p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
};

struct LoadgenReport {
  std::string phase;
  int64_t acknowledged = 0, failed = 0, inserts = 0, updates = 0;
  double duration_s = 0, writes_per_s = 0;
  Percentiles latency;    // per write, as the caller sees it
  Percentiles relay_lag;  // enqueue to applied in Postgres
  int64_t sync_fallbacks = 0;
  bool drained = true;      // the outbox was empty at the end
  int64_t outbox_left = 0;  // entries not applied at the end
  std::string drain_error;
  std::vector<std::string> error_samples;
};

// Returns the store's Open errors, kInvalidArgument for a bad option, or a
// report (failed writes are counted in it, not errors of the run).
absl::StatusOr<LoadgenReport> RunLoadgen(const LoadgenOptions& options,
                                         std::ostream& log);

std::string LoadgenJson(const LoadgenReport& report);
void PrintLoadgenSummary(const LoadgenReport& report, std::ostream& out);

// An ack log read back (a last line torn by a crash is left out): the
// newest acknowledged version of each id, and how many acknowledgements
// the log holds.
struct AckedVersions {
  std::map<int64_t, int64_t> newest;
  int64_t lines = 0;
};
AckedVersions ReadAckLog(const std::string& path);

// p50/p99/max of `samples` (sorted in place).
Percentiles PercentilesOf(std::vector<int64_t>& samples);

}  // namespace tradestore

#endif  // TRADESTORE_MIGRATION_LOADGEN_H_
