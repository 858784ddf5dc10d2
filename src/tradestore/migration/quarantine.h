// The quarantine: rows the backfill (or the relay) could not copy exactly,
// with the reason and the raw values. An operator resolves each one:
// `retry` re-imports a row fixed at the source (it converts exactly now),
// `accept` records why a row stays out. The gates into read_postgres and
// postgres_only want no unresolved row.
//
// Thread-safety: functions.
#ifndef TRADESTORE_MIGRATION_QUARANTINE_H_
#define TRADESTORE_MIGRATION_QUARANTINE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tradestore/postgres/pg_options.h"
#include "tradestore/postgres/quarantine_log.h"

namespace tradestore {

struct QuarantineOptions {
  std::string sqlite_path;  // retry reads the fixed row here
  PgOptions pg;
  // Retry and accept say what they would do and write nothing (not even
  // the schema's missing migrations).
  bool dry_run = false;
};

struct ResolveOutcome {
  int64_t source_id = 0;
  bool resolved = false;
  std::string detail;  // what happened, or why not
};

// Unresolved entries first, by id; resolved ones too with `all`.
absl::StatusOr<std::vector<QuarantineEntry>> ListQuarantine(
    const QuarantineOptions& options, bool all);

// Reads each row from SQLite again; one that converts exactly now is
// written to Postgres (version-guarded) and marked retried, one that still
// fails keeps its entry with the new reason. A dry run's `resolved` says
// whether the row would be.
absl::StatusOr<std::vector<ResolveOutcome>> RetryQuarantined(
    const QuarantineOptions& options, const std::vector<int64_t>& ids);

// Marks the rows accepted with `reason` (required: kInvalidArgument).
absl::StatusOr<std::vector<ResolveOutcome>> AcceptQuarantined(
    const QuarantineOptions& options, const std::vector<int64_t>& ids,
    const std::string& reason);

}  // namespace tradestore

#endif  // TRADESTORE_MIGRATION_QUARANTINE_H_
