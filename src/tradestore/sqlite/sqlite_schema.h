// Creating and upgrading the SQLite schema in place. Internal to the SQLite
// backend.
#ifndef TRADESTORE_SQLITE_SQLITE_SCHEMA_H_
#define TRADESTORE_SQLITE_SQLITE_SCHEMA_H_

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tradestore/sqlite/sqlite_handle.h"

namespace tradestore::sqlite {

struct SchemaInfo {
  // Decimal columns whose declared type has NUMERIC (or INTEGER/REAL)
  // affinity: SQLite would turn decimal text into REAL there, so new values
  // are written as BLOBs of their text.
  bool quantity_as_blob = false;
  bool price_as_blob = false;
  bool fee_as_blob = false;
  // The outbox of a file made before its seq was given by the insert.
  bool outbox_autoincrement = false;
  // Columns of the trades table tradestore does not know (legacy extras).
  std::vector<std::string> extra_columns;
  // A random id given to the store on first open (tradestore_meta
  // 'store_id'): names it in backfill checkpoints whatever its path.
  std::string store_id;
};

// The columns tradestore reads and writes, lower case.
const std::set<std::string>& KnownColumns();

// Brings the file on `db` to kSqliteSchemaVersion in one BEGIN IMMEDIATE
// transaction, or creates the full schema in an empty file. Existing rows are
// never rewritten. See SqliteTradeStore::Open for the status codes.
// With `require_trades_table`, a file without one is refused, not created.
absl::StatusOr<SchemaInfo> UpgradeSchema(SqliteDb* db,
                                         bool require_trades_table);

// The schema of a file already at kSqliteSchemaVersion, read without
// writing; kNotFound without a trades table, kFailedPrecondition for a file
// that needs UpgradeSchema first (or is newer than this build).
absl::StatusOr<SchemaInfo> ReadCurrentSchema(SqliteDb* db);

}  // namespace tradestore::sqlite

#endif  // TRADESTORE_SQLITE_SQLITE_SCHEMA_H_
