// The least time a verify can take on this machine, whatever its code;
// against the targets' baselines they say whether a ratio target can be met
// here at all.
//
// Full: Postgres's backends must send every row's compared columns (the
// binary COPY verify asks for, on its two lanes) and SQLite must step every
// row with every column read. Their CPU spread perfectly over the cores is
// the floor.
//
// Incremental: a process linked with libpq (and so the libraries libpq
// loads) starts, connects to Postgres and asks one question. Where starting
// a process and forking a Postgres backend are slow, this alone can exceed
// a share of the full verify.
#ifndef TRADESTORE_TOOLS_BENCH_VERIFY_FLOOR_H_
#define TRADESTORE_TOOLS_BENCH_VERIFY_FLOOR_H_

#include <string>

#include "absl/status/statusor.h"

namespace tradestore::bench {

struct VerifyFloor {
  double postgres_cpu_s = 0;  // both backends, user + system
  double sqlite_cpu_s = 0;    // one thread
  unsigned cores = 1;
  double seconds() const { return (postgres_cpu_s + sqlite_cpu_s) / cores; }
};

// Each part's median over `rounds`; `dir` holds the scripts and outputs.
absl::StatusOr<VerifyFloor> MeasureVerifyFloor(const std::string& sqlite_path,
                                               const std::string& dsn,
                                               const std::string& dir,
                                               int rounds);

// The median wall time of `rounds` runs of connect_once (built beside this
// benchmark) against `dsn`; their output goes to `log_path`.
absl::StatusOr<double> MeasureIncrementalFloor(const std::string& dsn,
                                               int rounds,
                                               const std::string& log_path);

}  // namespace tradestore::bench

#endif  // TRADESTORE_TOOLS_BENCH_VERIFY_FLOOR_H_
