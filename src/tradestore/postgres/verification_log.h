// verification_runs: every verify run of a store, which the phase gates and
// `verify --incremental` read. The report itself is verify/'s; this class
// records and reads runs.
//
// Thread-safety: safe for concurrent use (each call takes its own pooled
// connection).
#ifndef TRADESTORE_POSTGRES_VERIFICATION_LOG_H_
#define TRADESTORE_POSTGRES_VERIFICATION_LOG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tradestore/timestamp.h"

namespace tradestore {

class PgPool;

struct VerificationRun {
  std::string source_store_id;
  std::string mode;  // full, ids, since, incremental
  Timestamp started_at;
  bool covers_all_rows = false;
  int64_t id_from = 0, id_to = 0;
  std::optional<Timestamp> changed_since;
  int64_t rows_sqlite = 0, rows_postgres = 0;
  int64_t missing_in_postgres = 0, missing_in_sqlite = 0, mismatched = 0;
  int64_t quarantined = 0;
  bool clean = false;
  int64_t repaired = 0;
  std::string summary_json;  // the report's summary object
};

// One recorded run as the reports chart it.
struct VerificationRunPoint {
  int64_t id = 0;
  std::string mode;
  Timestamp started_at, finished_at;
  bool clean = false;
  int64_t rows_sqlite = 0, differences = 0, quarantined = 0, repaired = 0;
  double duration_s = 0;
  // The dual-write outbox when the run started (runs recorded before the
  // summary carried it have none).
  std::optional<int64_t> outbox_entries;
  std::optional<double> outbox_oldest_age_s;
};

class VerificationLog {
 public:
  // `pool` must outlive the log.
  explicit VerificationLog(PgPool* pool) : pool_(pool) {}

  // Records the run; returns its id.
  absl::StatusOr<int64_t> Record(const VerificationRun& run);

  // When the store's latest clean run started; nullopt when none was clean.
  absl::StatusOr<std::optional<Timestamp>> LastCleanStart(
      const std::string& store_id);

  // The latest `limit` runs of the store ("" = of every store), oldest
  // first.
  absl::StatusOr<std::vector<VerificationRunPoint>> History(
      const std::string& store_id, int limit);

 private:
  PgPool* pool_;
};

}  // namespace tradestore

#endif  // TRADESTORE_POSTGRES_VERIFICATION_LOG_H_
