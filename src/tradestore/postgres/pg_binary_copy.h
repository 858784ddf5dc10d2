// Binary COPY out of Postgres, on a libpq connection of its own: libpqxx 6.4
// has only text COPY, and printing numerics and timestamps as text costs the
// server about half again as much CPU as sending them in binary. Internal.
//
// Thread-safety: one BinaryCopyReader per thread.
#ifndef TRADESTORE_POSTGRES_PG_BINARY_COPY_H_
#define TRADESTORE_POSTGRES_PG_BINARY_COPY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tradestore/timestamp.h"

struct pg_conn;

namespace pqxx {
class transaction_base;
}

namespace tradestore {
class PgPool;
}

namespace tradestore::pg {

// One row of a binary COPY: its fields' bytes in Postgres's binary send
// format. Valid only during the callback that receives it.
class BinaryRow {
 public:
  int size() const { return static_cast<int>(fields_.size()); }
  bool null(int i) const { return fields_[i].data() == nullptr; }
  absl::string_view field(int i) const { return fields_[i]; }
  // The whole row as sent: its field count, then each field's length and
  // bytes.
  absl::string_view raw() const { return raw_; }

 private:
  friend class BinaryRowFiller;
  std::vector<absl::string_view> fields_;
  absl::string_view raw_;
};

// Splits one whole row (BinaryRow::raw()'s bytes) into `row`'s fields, which
// point into `raw`. kDataLoss when the bytes are not exactly one row.
absl::Status ParseBinaryRow(absl::string_view raw, BinaryRow* row);

// Postgres's epoch for timestamps is 2000-01-01 UTC.
inline constexpr int64_t kPgEpochUnixMicros = 946'684'800'000'000;

// What every binary COPY stream tradestore writes starts with: the
// signature "PGCOPY\n\377\r\n\0", int32 flags 0, a header extension of
// length 0. Streams read may carry an extension.
inline constexpr absl::string_view kBinaryCopyHeader(
    "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0", 19);

// Decoders for the binary send formats tradestore reads. Each checks the
// length and fails with kDataLoss naming what it found.
absl::StatusOr<int64_t> ReadInt8(absl::string_view field);
// A numeric as an integer count of 10^-scale: exact, or an error when the
// value has more fraction digits, is NaN or infinite, or leaves int64.
absl::StatusOr<int64_t> ReadNumericUnits(absl::string_view field, int scale);
// A timestamptz (microseconds since 2000-01-01 UTC); infinity is an error.
absl::StatusOr<Timestamp> ReadTimestamptz(absl::string_view field);

class BinaryCopyReader {
 public:
  // Connects with the pool's DSN and settings, retrying to its deadline.
  static absl::StatusOr<std::unique_ptr<BinaryCopyReader>> Open(
      const PgPool& pool);
  ~BinaryCopyReader();

  // Runs COPY (`select`) TO STDOUT (FORMAT binary), without parallel
  // workers, and calls `on_row` for each row; an error from it ends the copy
  // and is returned. When the connection breaks, reconnects with backoff and
  // runs the copy again from the start, calling `restart` first so the caller
  // drops what it got. `select` must hold no caller text.
  absl::Status Run(const std::string& select,
                   const std::function<void()>& restart,
                   const std::function<absl::Status(const BinaryRow&)>& on_row);

 private:
  explicit BinaryCopyReader(const PgPool& pool) : pool_(pool) {}
  absl::Status Connect();
  // One attempt; kUnavailable when the connection broke.
  absl::Status RunOnce(
      const std::string& select,
      const std::function<absl::Status(const BinaryRow&)>& on_row);
  absl::Status ConnectionError(absl::string_view what) const;

  const PgPool& pool_;
  pg_conn* conn_ = nullptr;
};

// How one COPY on a libpq connection ended: the status (kInternal with the
// server's message for a failed statement, on_row's own error, kDataLoss
// for a malformed stream) and whether the connection was lost. Whatever
// happened, a connection that is not lost is left ready for its next
// statement.
struct CopyOutcome {
  absl::Status status;
  bool lost_connection = false;
  bool statement_failed = false;  // the COPY itself failed: status says why
  std::string sqlstate;           // its SQLSTATE, "" when libpq's own error
};
// `settings`, statements sent in the same query message before the COPY,
// may hold SET LOCAL: the message is one transaction.
CopyOutcome CopyOutOn(
    pg_conn* conn, const std::string& select,
    const std::function<absl::Status(const BinaryRow&)>& on_row,
    absl::string_view settings = "");

// The same COPY on the connection of a PgPool call (Transact or ReadEach),
// for short reads that need no connection of their own. Throws like libpqxx
// (so PgPool retries a lost connection; the body starts over) for a lost
// connection or a failed statement; returns on_row's error or kDataLoss.
absl::Status CopyOutInTransaction(
    pqxx::transaction_base& txn, const std::string& select,
    const std::function<absl::Status(const BinaryRow&)>& on_row);

}  // namespace tradestore::pg

#endif  // TRADESTORE_POSTGRES_PG_BINARY_COPY_H_
