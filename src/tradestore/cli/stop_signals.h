// SIGINT and SIGTERM, while one of these is in scope, only set a flag: the
// relay and the backfill stop cleanly after the work in hand and say where.
// The previous handlers come back when it goes.
//
// Thread-safety: one at a time per process; the flag may be read anywhere.
#ifndef TRADESTORE_CLI_STOP_SIGNALS_H_
#define TRADESTORE_CLI_STOP_SIGNALS_H_

#include <atomic>

namespace tradestore::cli {

class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  const std::atomic<bool>& flag() const;
  bool stopped() const { return flag().load(); }

 private:
  void (*old_int_)(int);
  void (*old_term_)(int);
};

// 128 + SIGINT: what a shell reports for a run stopped by Ctrl-C.
constexpr int kExitInterrupted = 130;

}  // namespace tradestore::cli

#endif  // TRADESTORE_CLI_STOP_SIGNALS_H_
