// What backups and restores ask of a database: a digest of every trade
// taken in one snapshot (exported, so pg_dump dumps that very snapshot),
// the server's version, whether a database is empty, and scratch databases
// for restore drills.
//
// Thread-safety: functions over a thread-safe pool.
#ifndef TRADESTORE_POSTGRES_DATABASE_FACTS_H_
#define TRADESTORE_POSTGRES_DATABASE_FACTS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace tradestore {

class PgPool;

struct TradesDigest {
  int64_t rows = 0;
  std::optional<int64_t> max_id;
  // sha256 over every column of every row (extra too), in id order, in
  // the canonical text of row_text.h: equal for equal tables on any server.
  std::string sha256;
};

// The digest of the trades table now (rows 0 when there is none).
absl::StatusOr<TradesDigest> DigestTrades(PgPool& pool);

// Exports a snapshot, calls `during` with its id while holding it (for
// `pg_dump --snapshot`), then digests the trades in that same snapshot, so
// the digest describes exactly what was dumped. `during` may run again when
// the connection is lost and the whole is retried.
absl::StatusOr<TradesDigest> DigestTradesAtExportedSnapshot(
    PgPool& pool,
    const std::function<absl::Status(const std::string&)>& during);

// The connected database's name.
absl::StatusOr<std::string> CurrentDatabase(PgPool& pool);

// The server's version ("15.18 (Debian 15.18-0+deb12u1)").
absl::StatusOr<std::string> ServerVersion(PgPool& pool);

// Whether the connected database holds any table of its own (outside the
// system schemas).
absl::StatusOr<bool> DatabaseHasTables(PgPool& pool);

// CREATE DATABASE / DROP DATABASE (IF EXISTS, WITH FORCE) `name`, through a
// pool on another database of the same server.
absl::Status CreateDatabase(PgPool& pool, const std::string& name);
absl::Status DropDatabase(PgPool& pool, const std::string& name);

}  // namespace tradestore

#endif  // TRADESTORE_POSTGRES_DATABASE_FACTS_H_
