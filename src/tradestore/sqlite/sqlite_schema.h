// Creating and upgrading the SQLite schema in place. Internal to the SQLite
// backend.
#ifndef TRADESTORE_SQLITE_SQLITE_SCHEMA_H_
#define TRADESTORE_SQLITE_SQLITE_SCHEMA_H_

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
};

// Brings the file on `db` to kSqliteSchemaVersion in one BEGIN IMMEDIATE
// transaction, or creates the full schema in an empty file. Existing rows are
// never rewritten. See SqliteTradeStore::Open for the status codes.
absl::StatusOr<SchemaInfo> UpgradeSchema(SqliteDb* db);

}  // namespace tradestore::sqlite

#endif  // TRADESTORE_SQLITE_SQLITE_SCHEMA_H_
