// The Postgres schema migrator. Migrations are the versioned files of
// migrations/ (0001_..., 0002_...), compiled into the library. Each applied
// version is recorded with its sha256 in `schema_migrations`; the migrator
// refuses to run when an applied file was edited or when the database has a
// version this build does not know. Concurrent migrators are serialised by a
// transaction-scoped advisory lock, and everything runs in one transaction,
// so it works through PgBouncer in transaction mode and a failure leaves the
// schema as it was.
//
// Thread-safety: functions; concurrent calls are serialised by the database.
#ifndef TRADESTORE_POSTGRES_MIGRATOR_H_
#define TRADESTORE_POSTGRES_MIGRATOR_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tradestore/postgres/pg_options.h"

namespace tradestore {

class PgPool;

struct Migration {
  int version = 0;
  std::string name;  // the file name, "0001_create_trades.sql"
  std::string sql;
  std::string checksum;  // sha256 of sql, hex
};

struct MigrateReport {
  std::vector<std::string> applied;  // file names applied by this run
  int already_applied = 0;
  int version = 0;  // the schema version after the run
};

// The migrations compiled into this build, in version order.
const std::vector<Migration>& BuiltinMigrations();

// Builds migrations from (file name, text) pairs; the name must start with a
// version number and '_'. Returns kInvalidArgument for a bad or repeated
// version.
absl::StatusOr<std::vector<Migration>> MakeMigrations(
    const std::vector<std::pair<std::string, std::string>>& files);

// Applies what is missing. Returns kFailedPrecondition (an applied file was
// edited, or the database is newer than this build), kUnavailable,
// kPermissionDenied (the role may not create tables), kInternal (a
// migration's SQL failed; nothing was applied).
absl::StatusOr<MigrateReport> Migrate(PgPool& pool,
                                      const std::vector<Migration>& migrations);
absl::StatusOr<MigrateReport> MigrateSchema(const PgOptions& options);

// The highest applied version, 0 on a database never migrated.
absl::StatusOr<int> AppliedSchemaVersion(PgPool& pool);

// For the commands that need the schema (backfill, verify, phase): applies
// the builtin migrations only when some are missing, so a least-privilege
// role (no CREATE on the schema) runs them against a migrated database.
absl::Status EnsureMigrated(PgPool& pool);

}  // namespace tradestore

#endif  // TRADESTORE_POSTGRES_MIGRATOR_H_
