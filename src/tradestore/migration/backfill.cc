#include "tradestore/migration/backfill.h"

#include <optional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "tradestore/internal/mutex.h"
#include "tradestore/internal/ordered_queue.h"
#include "tradestore/internal/progress.h"
#include "tradestore/internal/prom_text.h"
#include "tradestore/internal/side_by_side.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/internal/turnstile.h"
#include "tradestore/postgres/backfill_writer.h"
#include "tradestore/postgres/dsn.h"
#include "tradestore/sqlite/id_ranges.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore {
namespace {

constexpr size_t kMaxSamples = 20;

// Batches from the reader threads to the writer lanes, in batch order; at
// most a few wait, so memory stays flat whatever the store's size.
using BatchQueue = internal::OrderedQueue<BackfillBatch>;

// What the readers learn besides the batches; read after they finished.
struct ReadTally {
  int64_t rows_read = 0;
  int64_t converted_from_float = 0;
  int64_t possibly_lossy = 0;
};

// Reads and converts batches until the planner has none left.
absl::Status ReadBatches(SqliteTradeStore& store, IdRanges& planner,
                         int batch_rows, bool copy_data, BatchQueue& queue,
                         ReadTally& tally) {
  for (;;) {
    TS_ASSIGN_OR_RETURN(const auto range, planner.Next());
    if (!range) return absl::OkStatus();
    BackfillBatch batch;
    batch.rows.reserve(static_cast<size_t>(batch_rows));
    // Rows are converted as SQLite steps through them, from one reused
    // StoredRow: no copy of the raw row is kept.
    TS_ASSIGN_OR_RETURN(
        const int64_t count,
        store.ScanStoredRows(
            range->after_id, batch_rows, range->last_id,
            [&](const StoredRow& row) {
              ConversionNotes notes;
              auto trade = ConvertStoredRow(row, &notes);
              if (trade.ok()) {
                batch.rows.push_back(
                    {*std::move(trade), ExtraColumnsJson(row)});
                tally.converted_from_float += notes.converted_from_float;
                tally.possibly_lossy +=
                    static_cast<int64_t>(notes.possibly_lossy.size());
              } else {
                batch.quarantined.push_back(
                    {row.id, std::string(trade.status().message()),
                     StoredRowJson(row)});
              }
              return absl::OkStatus();
            }));
    if (copy_data) batch.copy_data = CopyData(batch.rows);
    tally.rows_read += count;
    batch.last_id = range->last_id;
    batch.seq = range->seq;
    if (!queue.Push(range->seq, std::move(batch))) return absl::OkStatus();
  }
}

// Runs `readers` ReadBatches side by side and closes the queue when all
// are done (a failure closes it at once: see RunProducers).
void ReadAll(SqliteTradeStore& store, int64_t after_id, int64_t high_water,
             int batch_rows, bool copy_data, int readers, BatchQueue& queue,
             ReadTally& total) {
  IdRanges planner(store, after_id, high_water, batch_rows,
                   /*reach_end=*/false);
  std::vector<ReadTally> tallies(static_cast<size_t>(readers));
  const absl::Status status =
      internal::RunProducers(readers, queue, [&](int i) {
        return ReadBatches(store, planner, batch_rows, copy_data, queue,
                           tallies[i]);
      });
  for (const ReadTally& tally : tallies) {
    total.rows_read += tally.rows_read;
    total.converted_from_float += tally.converted_from_float;
    total.possibly_lossy += tally.possibly_lossy;
  }
  queue.Close(status);
}

void Tally(const std::vector<QuarantineRow>& quarantined,
           BackfillReport& report) {
  report.rows_quarantined += static_cast<int64_t>(quarantined.size());
  for (const QuarantineRow& q : quarantined) {
    if (report.quarantine_samples.size() < kMaxSamples) {
      report.quarantine_samples.push_back({q.source_id, q.reason});
    }
  }
}

// Rows with an id of 0 or below, which no checkpoint range reaches (ranges
// start after the checkpoint, 0 at first): each is quarantined by the id
// rule, so every row of the file is accounted for. Read again on every run;
// recording them again changes nothing.
absl::Status QuarantineNonPositiveIds(SqliteTradeStore& store,
                                      BackfillWriter* writer, int batch_rows,
                                      BackfillReport& report) {
  int64_t first = INT64_MIN;
  for (;;) {
    BackfillBatch batch;
    TS_ASSIGN_OR_RETURN(
        const int64_t count,
        store.ScanStoredRowsBetween(
            first, 0, batch_rows, [&](const StoredRow& row) {
              batch.last_id = row.id;
              batch.quarantined.push_back(
                  {row.id,
                   std::string(
                       ConvertStoredRow(row, nullptr).status().message()),
                   StoredRowJson(row)});
              return absl::OkStatus();
            }));
    if (writer != nullptr && count > 0) {
      TS_RETURN_IF_ERROR(writer->Quarantine(batch.quarantined));
    }
    report.rows_read += count;
    Tally(batch.quarantined, report);
    if (count < batch_rows || batch.last_id == 0) return absl::OkStatus();
    first = batch.last_id + 1;
  }
}

// One batch through the writer; in a dry run, only its turn.
absl::StatusOr<BatchOutcome> WriteBatch(BackfillWriter* writer,
                                        const BackfillBatch& batch,
                                        internal::Turnstile& turn) {
  if (writer != nullptr) return writer->Write(batch, turn);
  TS_RETURN_IF_ERROR(turn.Wait(batch.seq));
  BatchOutcome outcome;
  outcome.copied = static_cast<int64_t>(batch.rows.size());
  return outcome;
}

// The writer lanes: batches copied on several connections side by side,
// committed in batch order (the turnstile), each added to the report as it
// commits. The first failure, or the operator's stop, ends every lane.
class CopyLanes {
 public:
  CopyLanes(const BackfillOptions& options, BackfillWriter* writer,
            BatchQueue& queue, Progress& progress, BackfillReport& report)
      : options_(options),
        writer_(writer),
        queue_(queue),
        progress_(progress),
        report_(report) {}

  // Runs `lanes` lanes until the queue ends; the first failure, or
  // kCancelled when stopped.
  absl::Status Run(int lanes) {
    internal::RunSideBySide(lanes, [&](int) { Lane(); });
    internal::ScopedLock lock(mu_);
    return status_;
  }

  // Rows done this run (copied, skipped or quarantined).
  int64_t done() {
    internal::ScopedLock lock(mu_);
    return done_;
  }

 private:
  void Lane() {
    while (auto batch = queue_.Pop()) {
      auto outcome = WriteBatch(writer_, *batch, turn_);
      const absl::Status status =
          outcome.ok() ? Account(*batch, *outcome) : outcome.status();
      if (!status.ok()) return Fail(status);
      turn_.Pass(batch->seq);
    }
  }

  // Still holding the turn: the report and the hook see batch order.
  absl::Status Account(const BackfillBatch& batch,
                       const BatchOutcome& outcome) {
    internal::ScopedLock lock(mu_);
    report_.rows_copied += outcome.copied;
    report_.rows_skipped += outcome.skipped;
    Tally(outcome.refused, report_);
    if (writer_ != nullptr && options_.after_batch) {
      options_.after_batch(batch.last_id);
    }
    Tally(batch.quarantined, report_);
    done_ += static_cast<int64_t>(batch.rows.size() + batch.quarantined.size());
    progress_.Update(done_);
    if (options_.stop != nullptr && options_.stop->load()) {
      // Committed in order up to here: the checkpoint says the same.
      return absl::CancelledError(absl::StrCat(
          "stopped after id ", batch.last_id, " (", done_,
          " rows this run); run the same command again to resume"));
    }
    return absl::OkStatus();
  }

  void Fail(absl::Status status) {
    internal::ScopedLock lock(mu_);
    // The first failure is the cause; the other lane is then cancelled.
    if (status_.ok()) status_ = std::move(status);
    queue_.Stop();
    turn_.Abort();
  }

  const BackfillOptions& options_;
  BackfillWriter* const writer_;  // null in a dry run
  BatchQueue& queue_;
  Progress& progress_;
  internal::Turnstile turn_;
  internal::Mutex mu_;  // also keeps progress_'s updates in order
  BackfillReport& report_ ABSL_GUARDED_BY(mu_);
  int64_t done_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
};

// The writer's closing steps (indexes, key, ANALYZE, the fence) and the
// totals across runs it keeps. `quarantined_apart`: the rows of ids <= 0,
// quarantined again by every run, outside the checkpoint's counts.
absl::Status FinishWriter(BackfillWriter& writer,
                          const BackfillOptions& options, Clock* clock,
                          std::ostream& log, int64_t quarantined_apart,
                          BackfillReport& report) {
  TS_ASSIGN_OR_RETURN(report.next_id,
                      writer.Finish(log, {.tty = options.progress_tty,
                                          .interval = options.log_interval,
                                          .clock = clock}));
  report.rebuilt_indexes = writer.rebuilt_indexes();
  for (const StageTime& s : writer.stages()) {
    report.stages.emplace_back(s.name, s.seconds);
  }
  report.total_copied = writer.totals().rows_copied;
  report.total_quarantined =
      writer.totals().rows_quarantined + quarantined_apart;
  report.total_skipped = writer.totals().rows_skipped;
  return absl::OkStatus();
}

// The writer of a run that writes (none for --dry-run), begun at the
// checkpoint it finds.
absl::StatusOr<std::unique_ptr<BackfillWriter>> OpenWriter(
    const BackfillOptions& options, SqliteTradeStore& store,
    BackfillReport& report) {
  if (options.dry_run) return nullptr;
  TS_ASSIGN_OR_RETURN(
      auto writer,
      BackfillWriter::Open(options.pg, store.store_id(), options.sqlite_path));
  TS_ASSIGN_OR_RETURN(auto checkpoint, writer->LoadCheckpoint());
  if (checkpoint) report.resumed_after_id = checkpoint->last_id;
  TS_RETURN_IF_ERROR(writer->Begin(report.high_water_id));
  return writer;
}

// Batches are read and converted by kReaders threads side by side and
// copied on kWriterLanes connections side by side, committing in order.
// One reader alone cannot keep two Postgres backends busy, and a lane
// waiting for a batch leaves a core idle; the queue admits a batch per
// reader and lane ahead of the next one to commit. Returns the rows done.
absl::StatusOr<int64_t> CopyAll(const BackfillOptions& options,
                                SqliteTradeStore& store, BackfillWriter* writer,
                                int batch_rows, Progress& progress,
                                BackfillReport& report) {
  constexpr int kReaders = 2;
  constexpr int kWriterLanes = 2;
  BatchQueue queue(kReaders + kWriterLanes);
  ReadTally tally;
  std::thread reader([&] {
    ReadAll(store, report.resumed_after_id, report.high_water_id, batch_rows,
            /*copy_data=*/writer != nullptr, kReaders, queue, tally);
  });
  CopyLanes lanes(options, writer, queue, progress, report);
  const absl::Status copied = lanes.Run(kWriterLanes);
  reader.join();
  TS_RETURN_IF_ERROR(copied);
  TS_RETURN_IF_ERROR(queue.status());
  report.rows_read += tally.rows_read;
  report.converted_from_float = tally.converted_from_float;
  report.possibly_lossy = tally.possibly_lossy;
  return lanes.done();
}

}  // namespace

absl::StatusOr<BackfillReport> RunBackfill(const BackfillOptions& options,
                                           std::ostream& log) {
  Clock* clock = options.clock != nullptr ? options.clock : Clock::Real();
  const auto start = clock->Monotonic();
  BackfillReport report;
  report.dry_run = options.dry_run;
  report.source = options.sqlite_path;
  report.target = MaskDsn(options.pg.dsn);

  TS_ASSIGN_OR_RETURN(auto store,
                      SqliteTradeStore::Open({.path = options.sqlite_path,
                                              .create_if_missing = false,
                                              .require_trades_table = true,
                                              .read_only = options.dry_run,
                                              .reader_connections = 2}));
  report.extra_columns = store->extra_columns();
  // Ids of 0 and below are quarantined apart (QuarantineNonPositiveIds).
  TS_ASSIGN_OR_RETURN(const int64_t max_id, store->MaxId());
  report.high_water_id = std::max<int64_t>(0, max_id);

  TS_ASSIGN_OR_RETURN(std::unique_ptr<BackfillWriter> writer,
                      OpenWriter(options, *store, report));
  if (report.resumed_after_id > 0) {
    log << "backfill: resuming after id " << report.resumed_after_id << "\n";
  }
  const int batch_rows = std::max(1, options.batch_rows);
  TS_RETURN_IF_ERROR(
      QuarantineNonPositiveIds(*store, writer.get(), batch_rows, report));
  const int64_t quarantined_apart = report.rows_quarantined;
  Progress progress(log, options.dry_run ? "backfill (dry run)" : "backfill",
                    options.progress_tty,
                    report.high_water_id - report.resumed_after_id, clock,
                    options.log_interval);

  TS_ASSIGN_OR_RETURN(
      const int64_t done,
      CopyAll(options, *store, writer.get(), batch_rows, progress, report));
  progress.Finish(done);
  TS_RETURN_IF_ERROR(store->CheckUnchanged());  // a dry run's snapshot
  report.stages.emplace_back(
      "copy",
      std::chrono::duration<double>(clock->Monotonic() - start).count());
  if (writer != nullptr) {
    TS_RETURN_IF_ERROR(
        FinishWriter(*writer, options, clock, log, quarantined_apart, report));
  }
  report.duration_s =
      std::chrono::duration<double>(clock->Monotonic() - start).count();
  report.rows_per_s =
      report.duration_s > 0 ? report.rows_read / report.duration_s : 0;
  return report;
}

namespace {

nlohmann::json StagesJson(
    const std::vector<std::pair<std::string, double>>& stages) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& [name, seconds] : stages) {
    j.push_back({{"stage", name}, {"seconds", seconds}});
  }
  return j;
}

}  // namespace

std::string BackfillReport::ToJson() const {
  nlohmann::json samples = nlohmann::json::array();
  for (const auto& s : quarantine_samples) {
    samples.push_back({{"source_id", s.source_id}, {"reason", s.reason}});
  }
  return nlohmann::json{{"dry_run", dry_run},
                        {"source", source},
                        {"target", target},
                        {"resumed_after_id", resumed_after_id},
                        {"high_water_id", high_water_id},
                        {"rows_read", rows_read},
                        {"rows_copied", rows_copied},
                        {"rows_quarantined", rows_quarantined},
                        {"rows_skipped", rows_skipped},
                        {"converted_from_float", converted_from_float},
                        {"possibly_lossy", possibly_lossy},
                        {"extra_columns", extra_columns},
                        {"rebuilt_indexes", rebuilt_indexes},
                        {"quarantine_samples", samples},
                        {"next_id", next_id},
                        {"totals",
                         {{"rows_copied", total_copied},
                          {"rows_quarantined", total_quarantined},
                          {"rows_skipped", total_skipped}}},
                        {"stages", StagesJson(stages)},
                        {"duration_s", duration_s},
                        {"rows_per_s", rows_per_s}}
      .dump(2);
}

std::string BackfillReport::ToPrometheus() const {
  return PromText()
      .Gauge("tradestore_backfill_rows_read", "Rows the last run read.",
             rows_read)
      .Gauge("tradestore_backfill_rows_copied",
             "Rows it inserted or moved to a newer version.", rows_copied)
      .Gauge("tradestore_backfill_rows_quarantined",
             "Rows it could not copy exactly (see trades_quarantine).",
             rows_quarantined)
      .Gauge("tradestore_backfill_rows_skipped",
             "Rows Postgres already held at the same or a newer version.",
             rows_skipped)
      .Gauge("tradestore_backfill_high_water_id",
             "The largest SQLite id when it started.", high_water_id)
      .Gauge("tradestore_backfill_rows_per_second", "Its read rate.",
             rows_per_s)
      .Take();
}

void BackfillReport::PrintSummary(std::ostream& out) const {
  out << (dry_run ? "backfill (dry run, nothing written): " : "backfill: ")
      << rows_read << " rows read up to id " << high_water_id;
  if (resumed_after_id > 0)
    out << " (resumed after id " << resumed_after_id << ")";
  out << "\n  " << (dry_run ? "would copy   " : "copied       ") << rows_copied
      << "\n  skipped      " << rows_skipped
      << " (already in Postgres with the same or a newer version)"
      << "\n  " << (dry_run ? "would quarantine " : "quarantined  ")
      << rows_quarantined << "\n  from float   " << converted_from_float
      << " values (" << possibly_lossy << " possibly lossy at source)\n";
  for (const auto& s : quarantine_samples) {
    out << "    row " << s.source_id << ": " << s.reason << "\n";
  }
  if (static_cast<size_t>(rows_quarantined) > quarantine_samples.size()) {
    out << "    ... see trades_quarantine for all of them\n";
  }
  if (!extra_columns.empty()) {
    out << "  kept " << extra_columns.size()
        << " unknown legacy column(s) in trades.extra\n";
  }
  if (!rebuilt_indexes.empty()) {
    out << "  loaded before building " << absl::StrJoin(rebuilt_indexes, ", ")
        << "\n";
  }
  if (!dry_run && next_id > 0) {
    out << "  next id from Postgres: " << next_id << "\n";
  } else if (!dry_run) {
    out << "  next id from Postgres: none: the largest id, " << INT64_MAX
        << ", is taken, so Postgres cannot number new trades\n";
  }
  if (!dry_run && resumed_after_id > 0) {
    out << "  all runs     " << total_copied << " copied, " << total_quarantined
        << " quarantined, " << total_skipped << " skipped\n";
  }
  if (stages.size() > 1) {
    out << "  stage          seconds\n";
    for (const auto& [name, seconds] : stages) {
      out << absl::StrFormat("    %-12s %8.2f\n", name, seconds);
    }
  }
  out << "  " << absl::StrFormat("%.2f s, %.0f rows/s", duration_s, rows_per_s)
      << "\n";
}

}  // namespace tradestore
