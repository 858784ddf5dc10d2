// Writing trades rows into Postgres in bulk: the binary COPY data of a
// batch, the COPY itself, the version-guarded upsert from a staging table,
// and the quarantine row. Shared by the backfill and the outbox relay.
// Internal to the Postgres backend, except the row types.
#ifndef TRADESTORE_POSTGRES_TRADE_COPY_H_
#define TRADESTORE_POSTGRES_TRADE_COPY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "tradestore/trade.h"

namespace pqxx {
class dbtransaction;
}

namespace tradestore {

// A trade and its legacy extra columns.
struct BackfillRow {
  Trade trade;
  std::string extra_json;  // legacy extra columns, "" when none
};

// A source row that could not be converted exactly, and why.
struct QuarantineRow {
  int64_t source_id = 0;
  std::string reason;
  std::string raw_json;
};

// The rows in COPY's binary format, in CopyRows' column order: exact by
// construction (no decimal or timestamp text for the server to parse).
std::string CopyData(const std::vector<BackfillRow>& rows);

namespace pg {

// Appends the trade's row as a binary COPY out of pg::kPgVerifyColumns
// sends it (the trades columns, the derived ones NULL, then extra), `extra`
// being its extra columns as jsonb prints them ("" for NULL): the row as
// Postgres sends a stored trade (numerics normalised, as the server stores
// them), so a trade read elsewhere compares with a row as bytes. Equal
// bytes mean equal rows; a row that differs may still be equal and must be
// decoded to tell.
void AppendTradeRow(std::string* out, const Trade& trade,
                    absl::string_view extra);

// Streams CopyData's bytes into `table` (trades or a staging table) with a
// binary COPY on the transaction's connection. Throws like libpqxx does.
void CopyRows(pqxx::dbtransaction& txn, const std::string& table,
              absl::string_view data);

// Runs `sql` on the transaction's raw libpq handle, like CopyRows, so that
// a failure stays out of libpqxx's books (it would close the transaction,
// where a savepoint can undo the statement). Returns the rows it returned.
int64_t ExecRaw(pqxx::dbtransaction& txn, const std::string& sql);

// CREATE TEMP TABLE `stage` like trades, dropped at commit: no session state
// survives the transaction, so it works behind PgBouncer.
void CreateStage(pqxx::dbtransaction& txn, const std::string& stage);

// The session's own temp table like trades, emptied at each commit, created
// the first time a server session needs it: for small, frequent batches,
// where creating and dropping a table each time cost more than the batch.
// Behind PgBouncer a server session keeps it, empty, for the next client
// that asks. The name carries the schema version, so a session never
// reuses a stage from before a migration. Returns the name.
std::string UseSessionStage(pqxx::dbtransaction& txn);

// INSERT INTO trades SELECT FROM `stage` ON CONFLICT (id) DO UPDATE ...
// WHERE the stored version is older; RETURNING id of each row written.
// A NULL extra keeps the stored one.
std::string UpsertFromStageSql(const std::string& stage);

// Moves the trades id sequence past max(id) and past `at_least`, never
// backwards (rows copied with ids of their own never touched it). Returns
// the next id it will give, 0 when no id is left (max(id) is 2^63-1).
int64_t MoveSequencePast(pqxx::dbtransaction& txn, int64_t at_least);

// Records (or refreshes, while unresolved) a quarantined row.
void PutQuarantine(pqxx::dbtransaction& txn, const QuarantineRow& row);

}  // namespace pg
}  // namespace tradestore

#endif  // TRADESTORE_POSTGRES_TRADE_COPY_H_
