// Generates a SQLite trade store the way execution-service's older code
// wrote it: the plan's seven columns with DECIMAL/DATETIME declared types, so
// values sit in every storage class legacy_row.h reads (REAL, TEXT and
// INTEGER decimals; text, epoch-second, epoch-millisecond and REAL
// timestamps; lower-case sides), and optionally bad rows of every kind a
// backfill must quarantine. For the demo, tests and benchmarks.
//
// Thread-safety: a function; do not generate into a file in use.
#ifndef TRADESTORE_SQLITE_LEGACY_GENERATOR_H_
#define TRADESTORE_SQLITE_LEGACY_GENERATOR_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace tradestore {

struct LegacyStoreSpec {
  std::string path;  // created; must not exist
  int64_t rows = 1000;
  // Every Nth row is a bad one (0 = none), cycling through the kinds.
  int64_t bad_every = 0;
  uint64_t seed = 42;
  // Every good row's quantity and price a REAL (what NUMERIC affinity made
  // of most legacy values) instead of a mix of REAL, INTEGER and TEXT.
  bool real_decimals = false;
};

struct LegacyStoreSummary {
  int64_t rows = 0;
  int64_t bad_rows = 0;
};

absl::StatusOr<LegacyStoreSummary> GenerateLegacyStore(
    const LegacyStoreSpec& spec);

}  // namespace tradestore

#endif  // TRADESTORE_SQLITE_LEGACY_GENERATOR_H_
