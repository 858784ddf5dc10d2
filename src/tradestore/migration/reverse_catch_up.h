// The reverse catch-up: before rolling back from postgres_only, copy into
// SQLite every trade written or changed in Postgres since the switch, so
// SQLite is complete again. Version-guarded (an older version never
// overwrites a newer one) and idempotent, so it can run again at any time.
//
// Thread-safety: a function; the stores are safe for concurrent use.
#ifndef TRADESTORE_MIGRATION_REVERSE_CATCH_UP_H_
#define TRADESTORE_MIGRATION_REVERSE_CATCH_UP_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "tradestore/timestamp.h"

namespace tradestore {

class PgMirror;
class SqliteTradeStore;

struct CatchUpResult {
  Timestamp since;      // the switch time less the clock-skew margin
  int64_t read = 0;     // Postgres rows changed since then
  int64_t written = 0;  // written into SQLite (new, or a newer version)
};

// Copies into `sqlite` the trades Postgres changed since `switched_at`, the
// move into postgres_only. Rows are stamped by the services' clocks and the
// switch by the database's, so it reaches back 5 minutes further.
// Returns kAlreadyExists naming the id when SQLite holds a different trade
// under a Postgres id (nothing of that row is written), kUnavailable.
absl::StatusOr<CatchUpResult> ReverseCatchUp(PgMirror& pg,
                                             SqliteTradeStore& sqlite,
                                             Timestamp switched_at);

// What ReverseCatchUp reads from, for a dry run's report.
Timestamp CatchUpSince(Timestamp switched_at);

}  // namespace tradestore

#endif  // TRADESTORE_MIGRATION_REVERSE_CATCH_UP_H_
