// PgMirror: the Postgres side of dual-write. It applies trades written to
// SQLite (by the outbox relay in batches, or one at a time by a synchronous
// write) with upserts keyed by id and guarded by version, so a replay, a
// reordering or a repeat after an unknown commit is harmless: Postgres ends
// with the newest version of each trade and never goes back. It also reads
// what the reverse catch-up needs and moves the id sequence when Postgres
// starts assigning ids.
//
// Thread-safety: safe for concurrent use (each call takes its own pooled
// connection).
#ifndef TRADESTORE_POSTGRES_PG_MIRROR_H_
#define TRADESTORE_POSTGRES_PG_MIRROR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tradestore/postgres/trade_copy.h"
#include "tradestore/timestamp.h"
#include "tradestore/trade.h"

namespace tradestore {

class PgPool;

struct ApplyOutcome {
  int64_t written = 0;      // inserted, or updated to a newer version
  int64_t skipped = 0;      // Postgres already had this version or a newer one
  int64_t quarantined = 0;  // rows SQLite holds that cannot be converted
};

// A row Postgres was given: its id and version.
struct RowVersion {
  int64_t id = 0;
  int64_t version = 0;
};

class PgMirror {
 public:
  // kAsync commits without waiting for the WAL flush (synchronous_commit
  // off): the writers sharing Postgres's disk wait less, but a crash or a
  // failover may lose the commit even though it returned. Confirm() says
  // whether it did.
  enum class Commit { kDurable, kAsync };

  // `pool` must outlive the mirror.
  explicit PgMirror(PgPool* pool) : pool_(pool) {}

  // Applies `rows` and records `quarantined`, in one transaction. Repeated
  // while the commit outcome is unknown (the upsert is idempotent). Returns
  // kUnavailable when Postgres cannot be reached within the pool's deadline.
  absl::StatusOr<ApplyOutcome> Apply(
      const std::vector<BackfillRow>& rows,
      const std::vector<QuarantineRow>& quarantined,
      Commit commit = Commit::kDurable);

  // How many of `rows` Postgres does not hold at their version or newer.
  // When none is missing, the transaction that read it commits durably
  // with a WAL record of its own (a key-share lock on one of the rows), so
  // it also makes every earlier commit durable, on a synchronous standby
  // too: 0 means every one of `rows`, however it was committed, survives a
  // crash from now on.
  absl::StatusOr<int64_t> Confirm(const std::vector<RowVersion>& rows);

  // One trade, the synchronous write: true when written, false when
  // Postgres already had this version or a newer one.
  absl::StatusOr<bool> ApplyOne(const Trade& trade);

  // Moves the id sequence past max(id) (never backwards), so that Postgres
  // can assign ids once SQLite no longer does. Returns the next id.
  absl::StatusOr<int64_t> AdvanceSequence();

  // Up to `limit` trades with updated_at >= since and id > after_id, in id
  // order: what the reverse catch-up copies back into SQLite.
  absl::StatusOr<std::vector<Trade>> ChangedSince(Timestamp since,
                                                  int64_t after_id, int limit);

  // Trade `id` with its legacy columns (jsonb text, "" for NULL), nullopt
  // when Postgres has no such row: what verify --repair copies into SQLite.
  // kDataLoss when the row is not a valid trade.
  absl::StatusOr<std::optional<BackfillRow>> Read(int64_t id);

  // Writes `trade` with its legacy columns (`extra`, "" for none) unless
  // Postgres holds a newer version: the same version is written over (verify
  // --repair rewrites a row that differs). Returns whether it wrote.
  absl::StatusOr<bool> Rewrite(const Trade& trade, const std::string& extra);

  // Ids of the trades with updated_at >= since, in id order.
  absl::StatusOr<std::vector<int64_t>> ChangedIdsSince(Timestamp since);

  // Removes trade `id`; returns whether there was one. The demo makes a
  // lost write with it for verify to find.
  absl::StatusOr<bool> Remove(int64_t id);

 private:
  PgPool* pool_;
};

}  // namespace tradestore

#endif  // TRADESTORE_POSTGRES_PG_MIRROR_H_
