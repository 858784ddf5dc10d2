// Logical backups of the trade store's database (issue 21, the plan's
// daily pg_dump): `pg_dump -Fc` of one snapshot into
// <dbname>-<UTC time>.dump, a manifest beside it (<dbname>-<UTC time>.json:
// sha256, size, server version, time, and a digest of the trades taken in
// the very snapshot dumped), both uploaded to a destination
// (object_store.h), the manifest last: a backup without its manifest never
// counts. Retention deletes backups older than keep_days, never the newest
// and never a file whose name is not one of ours.
//
// Thread-safety: functions; one backup at a time per destination.
#ifndef TRADESTORE_OPS_BACKUP_H_
#define TRADESTORE_OPS_BACKUP_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tradestore/clock.h"
#include "tradestore/postgres/database_facts.h"
#include "tradestore/postgres/pg_options.h"
#include "tradestore/timestamp.h"

namespace tradestore::ops {

struct BackupManifest {
  std::string name;    // "trades-20261202T020000Z"
  std::string dump;    // name + ".dump"
  std::string sha256;  // of the dump file
  int64_t size = 0;    // bytes
  std::string database;
  std::string server_version;
  Timestamp created_at;
  std::string tradestore_version;
  TradesDigest trades;  // in the dumped snapshot
  double dump_seconds = 0;

  std::string ToJson() const;
  // kDataLoss naming what is missing or wrong.
  static absl::StatusOr<BackupManifest> FromJson(const std::string& text);
};

struct BackupOptions {
  PgOptions pg;            // the database, straight (not through PgBouncer)
  std::string to;          // the destination
  int keep_days = 7;       // 0 keeps every backup
  Clock* clock = nullptr;  // null = Clock::Real()
};

struct BackupReport {
  BackupManifest manifest;
  std::string destination;
  std::vector<std::string> deleted;   // by retention
  std::vector<std::string> problems;  // a retention step that failed
  std::vector<std::string> notes;     // worth saying, not a failure
  double duration_s = 0;

  bool ok() const { return problems.empty(); }
  std::string ToJson() const;
  std::string ToPrometheus() const;
  void PrintSummary(std::ostream& out) const;
};

// Backs the database up. Returns an error when no good backup was made
// (nothing is left at the destination as if it were one); a retention
// problem after a good backup is in the report.
absl::StatusOr<BackupReport> RunBackup(const BackupOptions& options,
                                       std::ostream& log);

// A backup at a destination, complete (dump and manifest).
struct BackupEntry {
  std::string name;
  Timestamp created_at;  // from the name
  int64_t size = 0;      // the dump's
};

// The complete backups at `from`, oldest first. Half-made ones (a dump
// without its manifest) are left out.
absl::StatusOr<std::vector<BackupEntry>> ListBackups(const std::string& from);

// The backup name for `database` at `when`; and back (nullopt when `name`
// is not one).
std::string BackupName(const std::string& database, Timestamp when);
std::optional<Timestamp> BackupTime(const std::string& name);

}  // namespace tradestore::ops

#endif  // TRADESTORE_OPS_BACKUP_H_
