// The consistency verifier: proves the SQLite store and Postgres hold the
// same trades, or names every difference.
//
// Both stores are read at once, in id order, streaming (one thread each;
// Postgres in binary COPY), and compared row by row as trades: decimals as
// fixed-point values, times to the microsecond, strings byte for byte; the
// legacy columns kept in trades.extra by value (verify/extra_text.h). Only
// a difference is formatted, in the canonical text of row_text.h. Legacy
// SQLite values are read with the backfill's rules; rows the backfill
// quarantined count as quarantined, not missing. A difference on a row
// changed within `min_age` may be a write in flight: it is read again from
// both stores once that age has passed (after `before_recheck`, where the
// dual-write outbox drains) and reported only if it persists.
//
// Each run is recorded in verification_runs for the phase gates.
#ifndef TRADESTORE_VERIFY_VERIFIER_H_
#define TRADESTORE_VERIFY_VERIFIER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tradestore/clock.h"
#include "tradestore/postgres/pg_options.h"
#include "tradestore/postgres/verification_log.h"
#include "tradestore/timestamp.h"

namespace tradestore {

enum class VerifyMode {
  kFull,         // every row
  kIds,          // id_from <= id <= id_to
  kSince,        // rows changed at or after `since`
  kIncremental,  // rows changed since the last clean run started
};

const char* VerifyModeName(VerifyMode mode);

struct VerifyOptions {
  std::string sqlite_path;
  PgOptions pg;
  VerifyMode mode = VerifyMode::kFull;
  int64_t id_from = 1;
  int64_t id_to = INT64_MAX;
  Timestamp since;
  std::chrono::microseconds min_age = std::chrono::seconds(5);
  int max_samples = 100;
  // Make the store that is not the source of truth in the current phase
  // match the one that is (SQLite in sqlite_only and dual_write).
  bool repair = false;
  // With repair: list what it would change in repair_log, change nothing.
  bool repair_dry_run = false;
  bool record_run = true;
  // Rows per chunk: fewer, larger queries cost the servers less, but
  // several chunks of each store are in memory at once: larger chunks
  // gained little time at 10M rows and took the peak near its 100 MB
  // target.
  int batch_rows = 15000;
  bool progress_tty = false;
  std::chrono::milliseconds log_interval = std::chrono::seconds(5);
  Clock* clock = nullptr;
  // Differences on rows waiting in the dual-write outbox when the run
  // starts are read again once the relay has applied those entries; this
  // is how long the run waits for that before it reports them.
  std::chrono::milliseconds outbox_wait = std::chrono::seconds(30);
  // Called once before writes in flight are read again, instead of waiting
  // for the outbox. May be empty.
  std::function<absl::Status()> before_recheck;
  // The latest runs of the store to read into the report's history (this
  // one included when recorded), for the HTML report; 0 reads none.
  int history_runs = 0;
  // Test seam: called when the run starts waiting for the outbox.
  std::function<void()> outbox_wait_started;
};

struct RowMismatch {
  int64_t id = 0;
  std::vector<std::string> columns;
  std::vector<std::string> sqlite_values;  // one per column, as text
  std::vector<std::string> postgres_values;
};

// Per symbol and side, in each store: the count, sum(quantity) and
// sum(quantity x price), exact, as decimal text.
struct MoneyTotal {
  std::string symbol;
  std::string side;
  int64_t count_sqlite = 0, count_postgres = 0;
  std::string quantity_sqlite, quantity_postgres;
  std::string notional_sqlite, notional_postgres;
  bool matches() const;
};

struct VerifyReport {
  VerifyMode mode = VerifyMode::kFull;
  bool covers_all_rows = false;
  int64_t id_from = 0, id_to = 0;  // the id range covered (full, ids)
  std::optional<Timestamp> since;  // since, incremental
  std::string source, target;      // the SQLite path, the masked DSN
  Timestamp started_at;

  int64_t rows_sqlite = 0;  // rows read from each store
  int64_t rows_postgres = 0;
  int64_t rows_matching = 0;
  // Counts are complete; the id lists and mismatches are samples capped by
  // max_samples.
  int64_t missing_in_postgres = 0, missing_in_sqlite = 0, mismatched = 0;
  int64_t quarantined = 0;  // unconvertible rows the backfill quarantined
  int64_t rechecked_in_flight = 0;  // read again; those that settled are fine
  std::vector<int64_t> missing_in_postgres_ids, missing_in_sqlite_ids;
  std::vector<std::string> missing_in_postgres_reasons;  // "" or why unreadable
  std::vector<RowMismatch> mismatches;
  std::vector<int64_t> quarantined_ids;

  bool totals_computed = false;  // full and ids runs only
  std::vector<MoneyTotal> totals;

  int64_t repaired = 0;                 // rows written or moved by --repair
  std::vector<std::string> repair_log;  // what repair changed (capped)
  int64_t run_id = 0;  // verification_runs.id, 0 if not recorded
  double duration_s = 0;
  // The dual-write outbox when the run started: recorded with the run, so
  // the history shows the relay's lag beside the verdicts.
  int64_t outbox_entries = 0;
  double outbox_oldest_age_s = 0;
  std::vector<VerificationRunPoint> history;  // VerifyOptions::history_runs

  bool clean() const {
    return missing_in_postgres == 0 && missing_in_sqlite == 0 &&
           mismatched == 0;
  }
  bool totals_match() const;
  std::string ToJson() const;
  // Prometheus text format, for node_exporter's textfile collector.
  std::string ToPrometheus() const;
  void PrintSummary(std::ostream& out) const;
};

// Runs one verification. Returns an error only when it could not run
// (unreadable file, Postgres unreachable after the retry deadline); the
// differences are in the report.
absl::StatusOr<VerifyReport> RunVerify(const VerifyOptions& options,
                                       std::ostream& log);

}  // namespace tradestore

#endif  // TRADESTORE_VERIFY_VERIFIER_H_
