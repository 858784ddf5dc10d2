// backup_runs: the backups and restore drills of a database (migration
// 0010), for `tradestore status`.
//
// Thread-safety: functions over a thread-safe pool.
#ifndef TRADESTORE_POSTGRES_BACKUP_LOG_H_
#define TRADESTORE_POSTGRES_BACKUP_LOG_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "tradestore/timestamp.h"

namespace tradestore {

class PgPool;

struct BackupRun {
  std::string kind;  // "logical" or "drill"
  std::string name;  // the backup's
  std::string destination;
  bool ok = false;
  std::optional<int64_t> size_bytes, trades_rows;
  std::optional<double> rto_seconds;
  std::string detail;
  Timestamp finished_at;  // set by the database when recorded
};

// Records the run. kFailedPrecondition when the table is not there (the
// schema is older than migration 0010).
absl::Status RecordBackupRun(PgPool& pool, const BackupRun& run);

// The latest good run of `kind`, nullopt when none.
absl::StatusOr<std::optional<BackupRun>> LastGoodBackupRun(
    PgPool& pool, const std::string& kind);

}  // namespace tradestore

#endif  // TRADESTORE_POSTGRES_BACKUP_LOG_H_
