// The least time a full verify that compares every row on the client can
// take on this machine, whatever its code: Postgres's backends must send
// every row's compared columns (the binary COPY verify asks for, on its two
// lanes) and SQLite must step every row with every column read. Their CPU
// spread perfectly over the cores is the floor; against the hand-made way it
// says whether a ratio target can be met here at all.
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

}  // namespace tradestore::bench

#endif  // TRADESTORE_TOOLS_BENCH_VERIFY_FLOOR_H_
