// The least time an incremental verify can take on this machine, whatever
// its code: a process linked with libpq (and so the libraries libpq loads)
// starts, connects to Postgres and asks one question. Where starting a
// process and forking a Postgres backend are slow, this alone can exceed a
// ratio target against the full verify.
#ifndef TRADESTORE_TOOLS_BENCH_START_FLOOR_H_
#define TRADESTORE_TOOLS_BENCH_START_FLOOR_H_

#include <string>

#include "absl/status/statusor.h"

namespace tradestore::bench {

// The median wall time of `rounds` runs of connect_once (built beside this
// benchmark) against `dsn`; their output goes to `log_path`.
absl::StatusOr<double> MeasureStartFloor(const std::string& dsn, int rounds,
                                         const std::string& log_path);

}  // namespace tradestore::bench

#endif  // TRADESTORE_TOOLS_BENCH_START_FLOOR_H_
