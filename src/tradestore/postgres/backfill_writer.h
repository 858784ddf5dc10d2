// The Postgres side of the backfill: writes a batch of converted trades, the
// batch's quarantined rows and the checkpoint in one transaction, so a kill
// at any moment leaves either the whole batch and its checkpoint or neither.
//
// Trades are streamed with COPY. When the batch's id range holds no row yet
// (the common case) they go straight into trades; otherwise (rows written by
// dual-write, or a batch replayed after an unknown commit) they are staged
// in a temporary table and upserted by id with a version guard, so a row
// already present is never overwritten by an older version.
//
// Thread-safety: one writer per backfill. Write may be called from several
// lanes at once (each on its own pooled connection): the batches' COPYs run
// side by side and their commits go through a Turnstile in batch order.
#ifndef TRADESTORE_POSTGRES_BACKFILL_WRITER_H_
#define TRADESTORE_POSTGRES_BACKFILL_WRITER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tradestore/clock.h"
#include "tradestore/internal/turnstile.h"
#include "tradestore/postgres/pg_options.h"
#include "tradestore/postgres/trade_copy.h"
#include "tradestore/trade.h"

namespace tradestore {

class PgPool;

struct BackfillBatch {
  std::vector<BackfillRow> rows;
  std::vector<QuarantineRow> quarantined;
  int64_t last_id = 0;  // the checkpoint after this batch
  int64_t seq = 0;      // its place in the run: commits go in this order
  // The rows in binary COPY format (CopyData), made by the reader thread so
  // the writer only streams; the writer makes it when empty.
  std::string copy_data;
};

struct BackfillCheckpoint {
  int64_t last_id = 0;
  int64_t high_water_id = 0;
  int64_t rows_copied = 0;
  int64_t rows_quarantined = 0;
  int64_t rows_skipped = 0;
  bool completed = false;
};

struct BatchOutcome {
  int64_t copied = 0;   // inserted, or updated to a newer version
  int64_t skipped = 0;  // already present with the same or a newer version
  // Rows Postgres refused (a value it cannot store that the legacy rules
  // let through): quarantined with the server's reason, in the same
  // transaction.
  std::vector<QuarantineRow> refused;
};

// How long one stage of the end of a run took.
struct StageTime {
  std::string name;
  double seconds = 0;
};

// How Finish shows the index builds' progress (internal/progress.h).
struct FinishProgress {
  bool tty = false;
  std::chrono::milliseconds interval{5000};
  Clock* clock = nullptr;  // null: the pool's
};

// One index build as pg_stat_progress_create_index shows it.
struct IndexBuildProgress {
  std::string phase;
  int64_t blocks_done = 0, blocks_total = 0;
  int64_t tuples_done = 0, tuples_total = 0;
};

// How far a build is, from 0 to 1 (the table's scan is the first half, the
// load of the sorted tuples the second).
double BuildFraction(const IndexBuildProgress& build);

// The index builds running on `table`, as this role may see them.
absl::StatusOr<std::vector<IndexBuildProgress>> ReadIndexBuilds(
    PgPool& pool, const std::string& table);

class BackfillWriter {
 public:
  // Connects and applies missing schema migrations.
  static absl::StatusOr<std::unique_ptr<BackfillWriter>> Open(
      const PgOptions& options, const std::string& store_id,
      const std::string& source_path);
  ~BackfillWriter();

  // The checkpoint of this source, if a run started before.
  absl::StatusOr<std::optional<BackfillCheckpoint>> LoadCheckpoint();

  // Records the start of a run up to `high_water_id` (keeps last_id). When
  // trades is empty, drops its secondary indexes in the same transaction,
  // recording their definitions in deferred_indexes for Finish to rebuild;
  // in sqlite_only and dual_write its primary key too, behind a fence that
  // refuses every other writer until Finish (migration 0009). Fails when
  // another store's backfill holds that fence.
  absl::Status Begin(int64_t high_water_id);

  // Writes the batch and moves the checkpoint, in one transaction that
  // commits only when `turn` reaches batch.seq. Returns holding the turn: the
  // caller passes it on after its own bookkeeping. Safe to repeat after any
  // failure, including an unknown commit outcome.
  absl::StatusOr<BatchOutcome> Write(const BackfillBatch& batch,
                                     internal::Turnstile& turn);

  // Records rows outside every batch in the quarantine, in one
  // transaction; repeating it changes nothing.
  absl::Status Quarantine(const std::vector<QuarantineRow>& rows);

  // Builds the deferred indexes (two at a time), restores the primary key
  // and lifts the fence, gathers the key's statistics when the table has
  // none, moves the id sequence past max(id) and marks the checkpoint
  // completed. Returns the next id the sequence will give. Says in `log`
  // which stage it is in, and how far the index builds are, so a long
  // build is not a frozen line.
  absl::StatusOr<int64_t> Finish(std::ostream& log,
                                 const FinishProgress& progress = {});

  // The indexes Finish built again.
  const std::vector<std::string>& rebuilt_indexes() const {
    return rebuilt_indexes_;
  }
  // Finish's stages, in order, with their times.
  const std::vector<StageTime>& stages() const { return stages_; }
  // The checkpoint's counts over every run of this store so far.
  const BackfillCheckpoint& totals() const { return known_; }

  const std::string& masked_dsn() const;

 private:
  BackfillWriter(std::unique_ptr<PgPool> pool, std::string store_id,
                 std::string source_path);
  // `isolate`: after Postgres refused the batch for a value, write it in
  // parts under savepoints, halving the parts that fail, and quarantine
  // each single row that Postgres refuses.
  absl::StatusOr<BatchOutcome> WriteOnce(const BackfillBatch& batch,
                                         bool staged, bool isolate,
                                         internal::Turnstile& turn);
  absl::StatusOr<std::vector<std::string>> RebuildIndexes(
      std::ostream& log, const FinishProgress& progress);
  absl::StatusOr<bool> RebuildIndex(const std::string& name);
  // Makes the rebuilt unique index the primary key again and lifts the
  // fence (migration 0009).
  absl::Status RestoreKey();
  // ANALYZE of the key when it has no statistics and this role may.
  absl::Status AnalyzeKey();

  std::unique_ptr<PgPool> pool_;
  // The checkpoint as this writer last knew it committed: the "before" that
  // settles an unknown commit, without a round trip per batch. Changed only
  // by the lane that holds the turn.
  BackfillCheckpoint known_;
  const std::string store_id_;
  const std::string source_path_;
  std::vector<std::string> rebuilt_indexes_;
  std::vector<StageTime> stages_;
  // Whether this run writes behind the fence of a deferred primary key: set
  // by Begin, before the lanes start.
  bool fenced_ = false;
};

}  // namespace tradestore

#endif  // TRADESTORE_POSTGRES_BACKFILL_WRITER_H_
