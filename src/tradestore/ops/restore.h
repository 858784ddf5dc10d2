// Restoring a logical backup (backup.h), and the restore drill that proves
// one restores: the dump and its manifest are fetched, the dump's sha256
// checked against the manifest (a mismatch touches nothing), a target
// holding tables refused unless asked to clean it, `pg_restore -j` run, and
// the restored trades' digest checked against the manifest's. Every step
// is timed: the total is the measured RTO.
//
// Thread-safety: functions.
#ifndef TRADESTORE_OPS_RESTORE_H_
#define TRADESTORE_OPS_RESTORE_H_

#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "tradestore/clock.h"
#include "tradestore/ops/backup.h"
#include "tradestore/postgres/pg_options.h"

namespace tradestore::ops {

struct RestoreOptions {
  std::string from;    // the destination backups went to
  std::string backup;  // its name; empty = the latest
  // The database to restore into; with `drill`, any database of the server
  // the scratch database is made on.
  PgOptions target;
  int jobs = 2;        // pg_restore -j
  bool clean = false;  // drop the target's objects first
  bool drill = false;  // into a scratch database, dropped after
  // Restore ownership and grants (the roles must exist); false restores
  // everything owned by the connecting role.
  bool owners = true;
  Clock* clock = nullptr;
};

struct RestoreReport {
  BackupManifest manifest;
  std::string source;
  std::string database;  // restored into (the scratch one of a drill)
  bool drill = false;
  // Seconds per step; rto_s is their sum, from the start to checked.
  double fetch_s = 0, restore_s = 0, check_s = 0, rto_s = 0;
  TradesDigest restored;  // what the target holds after
  bool matches = false;   // restored equals the manifest's digest

  std::string ToJson() const;
  std::string ToPrometheus() const;
  void PrintSummary(std::ostream& out) const;
};

// Returns kDataLoss when the dump does not match its manifest (nothing was
// touched), kFailedPrecondition when the target holds tables and `clean`
// is off, kNotFound when there is no such backup. A restore whose digest
// differs is a report with matches false.
absl::StatusOr<RestoreReport> RunRestore(const RestoreOptions& options,
                                         std::ostream& log);

}  // namespace tradestore::ops

#endif  // TRADESTORE_OPS_RESTORE_H_
