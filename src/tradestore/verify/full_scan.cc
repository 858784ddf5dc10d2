// verify's full scan: every row of both stores (or an id window), read
// side by side and compared chunk by chunk, with the money per symbol and
// side tallied on the way.
#include <algorithm>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tradestore/internal/chunk_queue.h"
#include "tradestore/internal/ordered_queue.h"
#include "tradestore/internal/progress.h"
#include "tradestore/internal/recycler.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/postgres/copy_out.h"
#include "tradestore/sqlite/id_ranges.h"
#include "tradestore/verify/verifier_impl.h"

namespace tradestore::verify {

using internal::ChunkQueue;
using internal::OrderedQueue;

// Room for a chunk's rows of the usual size up front, on both sides:
// growing by doubling would copy each chunk's bytes over and over, fault
// fresh pages in for every copy and leave up to twice the room it needs.
constexpr size_t kUsualRowBytes = 192;

// The queues between a full scan's readers and its merge. SQLite is read
// on kSqliteReaders threads side by side, each taking the next id range of
// `batch` rows (IdRanges); Postgres reads the same ranges on kPgLanes
// connections, range k on lane k % kPgLanes, so the work of both stores
// spreads over the cores. The merge takes chunks in id order.
struct ScanPipes {
  using Range = std::pair<int64_t, int64_t>;  // after, last

  ScanPipes(int batch, IdRanges* planner)
      : batch(batch), planner(planner), sqlite_chunks(kSqliteReaders) {
    for (int lane = 0; lane < kPgLanes; ++lane) {
      ranges.push_back(std::make_unique<ChunkQueue<Range>>(64));
      pg_chunks.push_back(std::make_unique<ChunkQueue<pg::RawRows>>(1));
    }
  }

  // Ends the readers early (the merge stopped or failed).
  void Stop() {
    sqlite_chunks.Stop();
    for (int lane = 0; lane < kPgLanes; ++lane) {
      pg_chunks[lane]->Stop();
      ranges[lane]->Stop();
    }
  }

  const int batch;
  IdRanges* const planner;
  OrderedQueue<std::pair<EncodedChunk, int64_t>> sqlite_chunks;
  std::vector<std::unique_ptr<ChunkQueue<Range>>> ranges;
  std::vector<std::unique_ptr<ChunkQueue<pg::RawRows>>> pg_chunks;
  // The merge hands the chunks it is done with back to the readers.
  // Keeping only one of each freed the rest and faulted fresh pages in for
  // them; four halve the page faults, and more keep no fewer.
  internal::Recycler<EncodedChunk> spare_chunks{4};
  internal::Recycler<pg::RawRows> spare_rows{4};
};

absl::Status Verifier::FullScan() {
  TS_ASSIGN_OR_RETURN(const int64_t max_id, sqlite_->MaxId());
  const bool window = options_.mode == VerifyMode::kIds;
  const int64_t from = window ? options_.id_from : 1;
  const int64_t to = window ? options_.id_to : INT64_MAX;
  report_.id_from = from;
  report_.id_to = window ? to : std::max<int64_t>(0, max_id);
  // Opened by Run, unless an incremental run with no clean run before it
  // fell back to this scan.
  TS_RETURN_IF_ERROR(OpenReaders(kPgLanes));
  std::vector<MoneyTally> sqlite_money(kSqliteReaders + 1);
  MoneyTally sqlite_unmatched, pg_unmatched;
  if (options_.mode == VerifyMode::kFull) {
    TS_RETURN_IF_ERROR(NonPositiveIds(&sqlite_money[kSqliteReaders],
                                      &sqlite_unmatched, &pg_unmatched));
  }
  const int batch = std::max(1000, options_.batch_rows);
  // The last range reaches to `to`, so rows Postgres has beyond SQLite's
  // last id are seen too.
  IdRanges planner(*sqlite_, from - 1, to, batch, /*reach_end=*/true);
  ScanPipes pipes(batch, &planner);
  std::thread sqlite_thread([&] {
    const absl::Status status = internal::RunProducers(
        kSqliteReaders, pipes.sqlite_chunks,
        [&](int r) { return ReadSqliteRanges(pipes, sqlite_money[r]); });
    for (auto& r : pipes.ranges) r->Close(status);
    pipes.sqlite_chunks.Close(status);
  });
  std::vector<std::thread> pg_threads;
  for (int lane = 0; lane < kPgLanes; ++lane) {
    pg_threads.emplace_back([&, lane] { ReadPostgresLane(pipes, lane); });
  }
  Progress progress(log_, "verify", options_.progress_tty,
                    std::max<int64_t>(0, report_.id_to - from + 1), clock_,
                    options_.log_interval);
  const int64_t done =
      MergeChunks(pipes, from, progress, &sqlite_unmatched, &pg_unmatched);
  pipes.Stop();
  sqlite_thread.join();
  for (std::thread& t : pg_threads) t.join();
  TS_RETURN_IF_ERROR(pipes.sqlite_chunks.status());
  for (auto& q : pipes.pg_chunks) TS_RETURN_IF_ERROR(q->status());
  progress.Finish(done);
  for (size_t r = 1; r < sqlite_money.size(); ++r) {
    sqlite_money[0].Merge(sqlite_money[r]);
  }
  // Rows equal as bytes hold the same money in both stores: Postgres's
  // totals are SQLite's, less its rows that did not match, plus Postgres's.
  MoneyTally pg_money = sqlite_money[0];
  pg_money.Subtract(sqlite_unmatched);
  pg_money.Merge(pg_unmatched);
  sqlite_money[0].Subtract(comparer_->quarantined_money());
  FillTotals(sqlite_money[0], pg_money);
  return absl::OkStatus();
}

absl::Status Verifier::ReadSqliteRanges(ScanPipes& pipes, MoneyTally& money) {
  Trade scratch;  // each row is converted into it, then encoded
  for (;;) {
    TS_ASSIGN_OR_RETURN(
        const auto range, pipes.planner->Next([&](const IdRanges::Range& r) {
          pipes.ranges[r.seq % kPgLanes]->Push({r.after_id, r.last_id});
        }));
    if (!range) return absl::OkStatus();
    EncodedChunk encoded = pipes.spare_chunks.Take();
    encoded.Restart();
    encoded.Reserve(static_cast<size_t>(pipes.batch), kUsualRowBytes);
    TS_RETURN_IF_ERROR(sqlite_
                           ->ScanStoredRows(range->after_id, pipes.batch,
                                            range->last_id,
                                            [&](const StoredRow& row) {
                                              encoded.Add(row, scratch, &money);
                                              return absl::OkStatus();
                                            })
                           .status());
    if (!pipes.sqlite_chunks.Push(range->seq,
                                  {std::move(encoded), range->last_id})) {
      return absl::OkStatus();
    }
  }
}

void Verifier::ReadPostgresLane(ScanPipes& pipes, int lane) {
  absl::Status status;
  while (auto range = pipes.ranges[lane]->Pop()) {
    // Kept as sent: compared as bytes, decoded only where they differ.
    pg::RawRows rows = pipes.spare_rows.Take();
    const auto batch = static_cast<size_t>(pipes.batch);
    rows.bytes.reserve(batch * kUsualRowBytes);
    rows.ids.reserve(batch);
    rows.ends.reserve(batch);
    status = pg::CopyOutRawRows(*pg_readers_[lane], range->first, range->second,
                                rows);
    if (!status.ok()) break;
    if (!pipes.pg_chunks[lane]->Push(std::move(rows))) break;
  }
  if (status.ok()) status = pipes.ranges[lane]->status();
  pipes.pg_chunks[lane]->Close(status);
}

int64_t Verifier::MergeChunks(ScanPipes& pipes, int64_t from,
                              Progress& progress, MoneyTally* sqlite_unmatched,
                              MoneyTally* pg_unmatched) {
  int64_t done = 0;
  for (int64_t k = 0;; ++k) {
    auto s = pipes.sqlite_chunks.Pop();
    auto p = pipes.pg_chunks[k % kPgLanes]->Pop();
    if (!s || !p) break;
    report_.rows_sqlite += static_cast<int64_t>(s->first.rows.size());
    report_.rows_postgres += static_cast<int64_t>(p->size());
    comparer_->MergeBytes(s->first, *p, sqlite_unmatched, pg_unmatched);
    pipes.spare_chunks.Give(std::move(s->first));
    pipes.spare_rows.Give(*std::move(p));
    done = std::min(report_.id_to, s->second) - from + 1;
    progress.Update(done);
  }
  return done;
}

absl::Status Verifier::NonPositiveIds(MoneyTally* sqlite_money,
                                      MoneyTally* sqlite_unmatched,
                                      MoneyTally* pg_unmatched) {
  const int batch = std::max(1000, options_.batch_rows);
  for (int64_t first = INT64_MIN;;) {
    Chunk sqlite, postgres;
    TS_ASSIGN_OR_RETURN(const int64_t count,
                        sqlite_->ScanStoredRowsBetween(
                            first, 0, batch, [&](const StoredRow& row) {
                              sqlite.Add(row);
                              return absl::OkStatus();
                            }));
    // A full chunk ends at its last row; the last chunk reaches 0.
    const int64_t last = count == batch ? sqlite.rows.back().id : 0;
    TS_RETURN_IF_ERROR(pg::CopyOutTrades(
        *pool_, {.ranges = {{first, last}}, .ids = {}}, postgres));
    for (const Chunk* chunk : {&sqlite, &postgres}) {
      if (!chunk->rows.empty()) {
        report_.id_from = std::min(report_.id_from, chunk->rows.front().id);
      }
    }
    report_.rows_sqlite += static_cast<int64_t>(sqlite.rows.size());
    report_.rows_postgres += static_cast<int64_t>(postgres.rows.size());
    comparer_->Merge(sqlite, postgres, /*final_pass=*/false);
    // Counted as unmatched on both sides, as a row that differs would be.
    TallyTrades(sqlite, sqlite_money);
    TallyTrades(sqlite, sqlite_unmatched);
    TallyTrades(postgres, pg_unmatched);
    if (last == 0) return absl::OkStatus();
    first = last + 1;
  }
}

absl::Status Verifier::OpenReaders(int count) {
  while (static_cast<int>(pg_readers_.size()) < count) {
    TS_ASSIGN_OR_RETURN(auto reader, pg::BinaryCopyReader::Open(*pool_));
    pg_readers_.push_back(std::move(reader));
  }
  return absl::OkStatus();
}

void Verifier::FillTotals(const MoneyTally& sqlite,
                          const MoneyTally& postgres) {
  report_.totals_computed = true;
  std::map<std::pair<std::string, std::string>, MoneyTotal> merged;
  auto fill = [&](const MoneyTally& tally, bool is_sqlite) {
    for (const auto& [key, sum] : tally.sums()) {
      MoneyTotal& t = merged[key];
      t.symbol = key.first;
      t.side = key.second;
      const std::string qty =
          sum.overflow ? "overflow" : verify::ScaledToString(sum.quantity, 8);
      const std::string notional =
          sum.overflow ? "overflow" : verify::ScaledToString(sum.notional, 16);
      if (is_sqlite) {
        t.count_sqlite = sum.count;
        t.quantity_sqlite = qty;
        t.notional_sqlite = notional;
      } else {
        t.count_postgres = sum.count;
        t.quantity_postgres = qty;
        t.notional_postgres = notional;
      }
    }
  };
  fill(sqlite, true);
  fill(postgres, false);
  for (auto& [key, total] : merged) {
    for (std::string* s : {&total.quantity_sqlite, &total.quantity_postgres}) {
      if (s->empty()) *s = verify::ScaledToString(0, 8);
    }
    for (std::string* s : {&total.notional_sqlite, &total.notional_postgres}) {
      if (s->empty()) *s = verify::ScaledToString(0, 16);
    }
    report_.totals.push_back(std::move(total));
  }
}

}  // namespace tradestore::verify
