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

class VerificationLog {
 public:
  // `pool` must outlive the log.
  explicit VerificationLog(PgPool* pool) : pool_(pool) {}

  // Records the run; returns its id.
  absl::StatusOr<int64_t> Record(const VerificationRun& run);

  // When the store's latest clean run started; nullopt when none was clean.
  absl::StatusOr<std::optional<Timestamp>> LastCleanStart(
      const std::string& store_id);

 private:
  PgPool* pool_;
};

}  // namespace tradestore

#endif  // TRADESTORE_POSTGRES_VERIFICATION_LOG_H_
