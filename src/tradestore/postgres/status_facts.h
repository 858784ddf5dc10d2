// What `tradestore status` reads of Postgres, in one pass: the schema
// version, the phase, the backfill and its fence, the latest verification
// runs, the quarantine, the latest archive, backup and drill, replication. Any
// of them may be absent (an older schema, nothing run yet).
//
// Thread-safety: a function over a thread-safe pool.
#ifndef TRADESTORE_POSTGRES_STATUS_FACTS_H_
#define TRADESTORE_POSTGRES_STATUS_FACTS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "tradestore/phase.h"
#include "tradestore/postgres/replication_facts.h"
#include "tradestore/timestamp.h"

namespace tradestore {

class PgPool;

struct StatusFacts {
  int schema_version = 0;
  std::optional<PhaseState> phase;
  struct Backfill {
    int64_t last_id = 0, high_water_id = 0;
    bool completed = false;
    Timestamp updated_at;
  };
  std::optional<Backfill> backfill;     // of the store asked about
  std::optional<std::string> fence_by;  // the store whose backfill holds it
  struct Run {
    bool clean = false;
    Timestamp finished_at;
    int64_t differences = 0;
  };
  std::optional<Run> last_full, last_incremental;
  int64_t unresolved_quarantine = 0;
  struct Archive {
    std::string path;
    bool verified = false;
    Timestamp created_at;
  };
  std::optional<Archive> archive;
  struct Backup {
    std::string name;
    Timestamp finished_at;
    std::optional<double> rto_seconds;
  };
  std::optional<Backup> last_backup, last_drill;
  ReplicationFacts replication;
  Timestamp now;  // the server's
};

// The facts; `store_id` selects the backfill, verification and archive of
// one SQLite store ("" = the latest of any store).
absl::StatusOr<StatusFacts> ReadStatusFacts(PgPool& pool,
                                            const std::string& store_id);

}  // namespace tradestore

#endif  // TRADESTORE_POSTGRES_STATUS_FACTS_H_
