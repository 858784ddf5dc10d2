// The one-shot backfill: every trade of a (legacy) SQLite store into
// Postgres, exact, resumable and idempotent.
//
// Rows are read in id order up to a high-water mark (the largest id when the
// run starts), converted by the legacy rules (sqlite/legacy_row.h), and
// written in batches by BackfillWriter: each batch, its quarantined rows and
// the checkpoint commit together. Reading and writing overlap (a reader
// thread and a queue of two batches), so memory stays constant. A row that
// cannot be copied exactly goes to trades_quarantine with its reason; one
// bad row never stops or slows a batch. At the end the id sequence is moved
// past the largest id.
//
// Thread-safety: RunBackfill may be called from any thread; one run per
// source store at a time (a second one fails on the checkpoint).
#ifndef TRADESTORE_MIGRATION_BACKFILL_H_
#define TRADESTORE_MIGRATION_BACKFILL_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tradestore/clock.h"
#include "tradestore/postgres/pg_options.h"

namespace tradestore {

struct BackfillOptions {
  std::string sqlite_path;
  PgOptions pg;
  int batch_rows = 20000;
  // Read and validate everything, write nothing (not even the schema).
  bool dry_run = false;
  // Progress: a redrawn line on a terminal, else a log line per interval.
  bool progress_tty = false;
  std::chrono::milliseconds log_interval{5000};
  Clock* clock = nullptr;  // null = Clock::Real()
  // Test seam: called after each committed batch with its last id.
  std::function<void(int64_t last_id)> after_batch;
  // Set (from a signal handler, say) to stop after the batch in hand:
  // RunBackfill then returns kCancelled naming the last id committed, and
  // the same command resumes from there.
  const std::atomic<bool>* stop = nullptr;
};

struct QuarantineSample {
  int64_t source_id = 0;
  std::string reason;
};

struct BackfillReport {
  bool dry_run = false;
  std::string source;  // the SQLite path
  std::string target;  // the masked DSN
  int64_t resumed_after_id = 0;
  int64_t high_water_id = 0;
  int64_t rows_read = 0;
  int64_t rows_copied = 0;  // inserted or updated to a newer version
  int64_t rows_quarantined = 0;
  int64_t rows_skipped = 0;  // already in Postgres, same or newer version
  int64_t converted_from_float = 0;
  int64_t possibly_lossy = 0;  // REALs with more than 15 significant digits
  std::vector<std::string> extra_columns;  // kept in trades.extra
  // Secondary indexes dropped for the load into an empty table and built
  // again at the end.
  std::vector<std::string> rebuilt_indexes;
  std::vector<QuarantineSample> quarantine_samples;  // the first 20
  // What the Postgres sequence gives next; 0 when no id is left.
  int64_t next_id = 0;
  // Over every run of this store (a resumed run's own counts are above).
  int64_t total_copied = 0, total_quarantined = 0, total_skipped = 0;
  // Where the time went: "copy", then the end's stages (indexes, primary
  // key, analyze, sequence).
  std::vector<std::pair<std::string, double>> stages;
  double duration_s = 0;
  double rows_per_s = 0;

  std::string ToJson() const;
  // The counts for the job's textfile (tradestore_backfill_*).
  std::string ToPrometheus() const;
  void PrintSummary(std::ostream& out) const;
};

// Returns kCancelled (options.stop), kNotFound (no SQLite file, or no
// trades table in it),
// kFailedPrecondition (a table it cannot take, another run of the same
// store), kUnavailable (Postgres unreachable after the retry deadline),
// kDataLoss (not a database).
absl::StatusOr<BackfillReport> RunBackfill(const BackfillOptions& options,
                                           std::ostream& log);

}  // namespace tradestore

#endif  // TRADESTORE_MIGRATION_BACKFILL_H_
