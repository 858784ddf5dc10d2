// SqliteTradeStore: the TradeStore over execution-service's SQLite file.
//
// Open() takes the existing file in place (the plan's
// backend/services/execution/trade_store.db) and upgrades it without
// rewriting a row: missing columns are added with defaults and tradestore's
// own tables created, in one transaction, recorded in PRAGMA user_version. A
// new file gets schema/sqlite.sql. WAL, a busy timeout, cached prepared
// statements, BEGIN IMMEDIATE for writes, synchronous=FULL by default, one
// writer connection and a few reader connections. Rows are read through
// legacy_row.h, so legacy values read the same here as in backfill and
// verify.
//
// Thread-safety: safe for concurrent use; writes are serialised on the writer
// connection, reads spread over the reader connections.
#ifndef TRADESTORE_SQLITE_SQLITE_TRADE_STORE_H_
#define TRADESTORE_SQLITE_SQLITE_TRADE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "tradestore/clock.h"
#include "tradestore/sqlite/legacy_row.h"
#include "tradestore/sqlite/outbox_status.h"
#include "tradestore/trade_store.h"

namespace tradestore {

// The schema version this code writes into PRAGMA user_version.
constexpr int kSqliteSchemaVersion = 3;

struct SqliteStoreOptions {
  std::string path;
  // Create the file with the full schema when it does not exist.
  bool create_if_missing = true;
  // Refuse (kNotFound) a file without a trades table instead of
  // creating one: for tools that read an existing store.
  bool require_trades_table = false;
  // Open the file read-only (SQLITE_OPEN_READONLY, or immutable: see
  // CheckUnchanged) and change nothing in it: no upgrade, no journal mode
  // switch; every write is refused. For commands that only read. A file not yet
  // at this build's schema is refused (kFailedPrecondition): `tradestore
  // prepare`, or an open that may write, upgrades it first.
  bool read_only = false;
  // true: synchronous=FULL, an acknowledged trade survives power loss.
  // false: synchronous=NORMAL, survives a process crash only.
  bool sync_full = true;
  // SQLite's auto-checkpoint runs on the writer connection, inside the
  // commit that crosses this many WAL pages: the one write in so many that
  // pays for copying pages into the file and its fsync. SQLite's default is
  // 1000; a dual-write commit writes more pages (the outbox entry), so its
  // checkpoints came often enough to set the writer's p99. 0 turns
  // auto-checkpoints off (another process must checkpoint).
  int wal_autocheckpoint_pages = 4000;
  int reader_connections = 4;
  int busy_timeout_ms = 5000;
  Clock* clock = nullptr;  // null = Clock::Real()
};

// One entry of the dual-write outbox.
struct OutboxEntry {
  int64_t seq = 0;
  int64_t trade_id = 0;
  int64_t version = 0;  // the version the write produced
  Timestamp enqueued_at;
};

// What the relay applies next: entries in seq order, and the current row of
// each trade they name (once per trade, in id order, with legacy extras).
struct OutboxBatch {
  std::vector<OutboxEntry> entries;
  std::vector<StoredRow> rows;
  int64_t last_seq = 0;  // 0 when empty
};

class SqliteTradeStore : public TradeStore {
 public:
  // Returns kNotFound (no file and !create_if_missing, or no trades table
  // with require_trades_table), kFailedPrecondition (a trades table this
  // code cannot take: a required column missing, id not the rowid, a newer
  // schema version), kDataLoss (not a database), kUnavailable (locked past
  // the busy timeout).
  static absl::StatusOr<std::unique_ptr<SqliteTradeStore>> Open(
      const SqliteStoreOptions& options);
  ~SqliteTradeStore() override;

  absl::StatusOr<InsertResult> Insert(const Trade& trade) override;
  using TradeStore::UpdateStatus;
  absl::StatusOr<Trade> UpdateStatus(
      int64_t id, TradeStatus status,
      std::optional<int64_t> expected_version) override;
  absl::StatusOr<Trade> Get(int64_t id) override;
  absl::StatusOr<Trade> GetByClientOrderId(absl::string_view key) override;
  absl::StatusOr<std::vector<Trade>> QueryBySymbol(
      const SymbolQuery& query) override;
  absl::StatusOr<int64_t> Count() override;
  absl::StatusOr<std::vector<Trade>> ScanById(int64_t after_id,
                                              int limit) override;

  // Insert and UpdateStatus that, with `enqueue`, also add an outbox entry
  // in the same transaction (the dual-write phases). *outbox_seq (may be
  // null) is the entry's seq, 0 when nothing was written (an existing trade
  // returned, the status it already had).
  absl::StatusOr<InsertResult> InsertEnqueued(const Trade& trade, bool enqueue,
                                              int64_t* outbox_seq);
  absl::StatusOr<Trade> UpdateStatusEnqueued(
      int64_t id, TradeStatus status, std::optional<int64_t> expected_version,
      bool enqueue, int64_t* outbox_seq);

  // Up to `limit` outbox entries with seq > after_seq, oldest first, with
  // the current rows of their trades. A trade whose row is gone (it never
  // is, short of hand edits) has no row; the relay acks its entries.
  absl::StatusOr<OutboxBatch> ReadOutbox(int limit, int64_t after_seq = 0);
  // Deletes the entries with seq <= through_seq (their rows are applied)
  // and records `ack` (RelayProgress) in the same transaction.
  absl::Status AckOutbox(int64_t through_seq, const RelayAck& ack);
  absl::StatusOr<OutboxStatus> GetOutboxStatus();

  // Writes each trade (id, version and times as given) that the store does
  // not hold, or holds in an older version: the reverse catch-up from
  // Postgres. One transaction; returns how many were written.
  // kAlreadyExists (nothing written) when an id holds a different trade or
  // a client_order_id is another trade's; kInvalidArgument for a bad trade.
  absl::StatusOr<int64_t> PutIfNewer(const std::vector<Trade>& trades);

  // Up to `limit` rows with after_id < id <= up_to_id as stored,
  // unconverted, in id order, with the legacy extra columns: what backfill
  // and verify read so that they can quarantine or report a row instead of
  // failing. Each call is one short read transaction (WAL: never blocks the
  // writer).
  absl::StatusOr<std::vector<StoredRow>> ScanStoredRows(
      int64_t after_id, int limit, int64_t up_to_id = INT64_MAX);
  // The same rows passed to `visit` one at a time in one reused StoredRow
  // (valid during the call; no copies); returns how many. An error from
  // `visit` ends the scan and is returned.
  absl::StatusOr<int64_t> ScanStoredRows(
      int64_t after_id, int limit, int64_t up_to_id,
      const std::function<absl::Status(const StoredRow&)>& visit);
  // Up to `limit` rows with first_id <= id <= last_id, as above: for ids
  // that no exclusive lower bound reaches (0 and below: SQLite allows them,
  // tradestore's ids start at 1).
  absl::StatusOr<int64_t> ScanStoredRowsBetween(
      int64_t first_id, int64_t last_id, int limit,
      const std::function<absl::Status(const StoredRow&)>& visit);
  // The rows with these ids (those that exist), in id order, as above.
  absl::StatusOr<int64_t> ScanStoredRowsByIds(
      const std::vector<int64_t>& ids,
      const std::function<absl::Status(const StoredRow&)>& visit);

  // Ids of the rows this backend wrote or changed at or after `since`, in id
  // order (idx_trades_updated_at: the cost grows with the changes). Legacy
  // rows, which have no updated_at, are never among them.
  absl::StatusOr<std::vector<int64_t>> ChangedIdsSince(Timestamp since);

  // Sets the legacy extra columns (extra_columns()) of row `id` to `values`,
  // one per column in that order (verify --repair, from Postgres's
  // trades.extra). Returns whether there was a row.
  absl::StatusOr<bool> PutExtraColumns(int64_t id,
                                       const std::vector<SqlValue>& values);

  // Deletes the row `id` (verify --repair, once the row is recorded in the
  // Postgres quarantine). Returns whether there was one.
  absl::StatusOr<bool> DeleteRow(int64_t id);

  // Writes key/value pairs into tradestore_meta in one transaction.
  absl::Status SetMeta(
      const std::vector<std::pair<std::string, std::string>>& entries);

  // The largest id, 0 when empty.
  absl::StatusOr<int64_t> MaxId();
  // The id of the `rows`-th row after `after_id` (the last one up to
  // `up_to_id` when fewer are left); 0 when none is left. Lets several
  // threads read the batches of one scan side by side.
  absl::StatusOr<int64_t> BatchEnd(int64_t after_id, int rows,
                                   int64_t up_to_id);
  // The first id after `after_id` and up to `up_to_id`, 0 when none (one
  // b-tree seek, whatever the distance).
  absl::StatusOr<int64_t> NextId(int64_t after_id, int64_t up_to_id);

  // OK unless the store was opened read_only as immutable (it was an idle
  // WAL store, with no writer) and a writer has changed the file since:
  // kAborted, the reads may mix two states.
  absl::Status CheckUnchanged() const;

  // The store's random id (tradestore_meta 'store_id').
  const std::string& store_id() const;
  const std::string& path() const;
  // Legacy columns of the trades table that tradestore does not know.
  const std::vector<std::string>& extra_columns() const;

  // PRAGMA user_version of the file.
  absl::StatusOr<int> SchemaVersion();

 private:
  struct Impl;
  explicit SqliteTradeStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tradestore

#endif  // TRADESTORE_SQLITE_SQLITE_TRADE_STORE_H_
