// trades_quarantine: the rows the migration could not copy exactly, each
// with its reason and raw values, until an operator retries or accepts
// it. The decisions are migration/quarantine.h's; this class reads and
// records.
//
// Thread-safety: safe for concurrent use (each call takes its own pooled
// connection).
#ifndef TRADESTORE_POSTGRES_QUARANTINE_LOG_H_
#define TRADESTORE_POSTGRES_QUARANTINE_LOG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tradestore/postgres/trade_copy.h"

namespace tradestore {

class PgPool;

struct QuarantineEntry {
  int64_t source_id = 0;
  std::string reason;
  std::string raw_json;
  std::string first_seen_at, last_seen_at;
  std::optional<std::string> resolution;  // "retried" or "accepted"
  std::optional<std::string> resolution_reason;
};

class QuarantineLog {
 public:
  // `pool` must outlive the log.
  explicit QuarantineLog(PgPool* pool) : pool_(pool) {}

  // Records the rows (or refreshes their reason and raw values while they
  // are unresolved), in one transaction; repeating it changes nothing.
  absl::Status Put(const std::vector<QuarantineRow>& rows);

  // Unresolved entries first, by id; resolved ones too with `all`.
  absl::StatusOr<std::vector<QuarantineEntry>> List(bool all);

  // nullopt when row `id` has no entry; else its resolution (nullopt while
  // unresolved).
  absl::StatusOr<std::optional<std::optional<std::string>>> Resolution(
      int64_t id);

  // Marks row `id` retried (it is in trades now).
  absl::Status MarkRetried(int64_t id);

  // Marks row `id` accepted with `reason` if it is unresolved; returns
  // whether it was.
  absl::StatusOr<bool> Accept(int64_t id, const std::string& reason);

  // Moves trades row `id` into the quarantine with `reason` and the row as
  // raw values, in one transaction (verify --repair, for a row only
  // Postgres has while SQLite is the source of truth). Returns whether there
  // was a row.
  absl::StatusOr<bool> MoveFromTrades(int64_t id, const std::string& reason);

  // Records SQLite's row `id` (`raw_json`) that cannot be copied exactly,
  // with any trades row of that id kept beside it in the raw values, and
  // removes that trades row, in one transaction.
  absl::Status ReplaceTrade(int64_t id, const std::string& reason,
                            const std::string& raw_json);

  // The rows kept out of trades on purpose or still to resolve: every entry
  // but the retried ones.
  absl::StatusOr<std::vector<int64_t>> KeptOut();

 private:
  PgPool* pool_;
};

}  // namespace tradestore

#endif  // TRADESTORE_POSTGRES_QUARANTINE_LOG_H_
