// verify --repair when Postgres is the source of truth (postgres_only): the
// SQLite store is made to match it. Postgres's version of each differing
// trade is written into SQLite (never over a newer version); a row only
// SQLite has is recorded in trades_quarantine with its raw values and then
// removed from SQLite: moved, never deleted silently. Internal to the
// verifier.
#ifndef TRADESTORE_VERIFY_REPAIR_SQLITE_H_
#define TRADESTORE_VERIFY_REPAIR_SQLITE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tradestore {
class PgPool;
class SqliteTradeStore;
}  // namespace tradestore

namespace tradestore::verify {

// Repairs the ids that differ; appends a line per change to `log` and
// returns how many rows it changed. Rows it cannot repair are logged and
// left as they are.
absl::StatusOr<int64_t> RepairSqliteFromPostgres(
    SqliteTradeStore& sqlite, PgPool& pool, const std::vector<int64_t>& ids,
    std::vector<std::string>* log);

}  // namespace tradestore::verify

#endif  // TRADESTORE_VERIFY_REPAIR_SQLITE_H_
