// The one reader of stored SQLite trade rows. Files written by older
// execution-service code keep values in whatever storage class SQLite gave
// them (a DECIMAL column has NUMERIC affinity, so most decimals are REAL);
// this file turns such a row into an exact Trade or says precisely why it
// cannot. Backfill, verify and the SQLite store all read rows through it, so
// every component reads legacy values the same way.
//
// Conversion rules:
//   decimals   TEXT/BLOB: parsed exactly (no rounding, no exponent).
//              INTEGER: exact whole units.
//              REAL: the binary value correctly rounded to 8 decimals (what
//              printf("%.8f") prints); counted as converted from float, and
//              flagged possibly lossy when the value needs more than 15
//              significant digits to round-trip. NaN and Inf are refused.
//   timestamps TEXT: "YYYY-MM-DD HH:MM:SS[.ffffff]" or ISO 8601 with 'T',
//              'Z' or an offset; no offset means UTC.
//              INTEGER: epoch seconds when |v| < 100,000,000,000 (before year
//              5138), epoch milliseconds otherwise (after 1973-03-03).
//              REAL: epoch seconds, rounded to the microsecond ("%.6f"),
//              counted as converted from float.
//   side       BUY/SELL in any letter case, normalised to upper case.
//   status     one of the documented set, exactly; over 20 characters is
//              reported as too long.
//   added columns (client_order_id, fee, version, created_at, updated_at)
//              may be NULL on legacy rows: version 1, times = timestamp.
//
// Thread-safety: plain values and pure functions.
#ifndef TRADESTORE_SQLITE_LEGACY_ROW_H_
#define TRADESTORE_SQLITE_LEGACY_ROW_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tradestore/decimal.h"
#include "tradestore/timestamp.h"
#include "tradestore/trade.h"

namespace tradestore {

// A value exactly as SQLite stored it.
struct SqlValue {
  enum class Type { kNull, kInteger, kReal, kText, kBlob };
  Type type = Type::kNull;
  int64_t integer = 0;
  // Legacy REALs only; converted at once by the rules above, never kept.
  double real = 0;
  std::string text;  // TEXT and BLOB bytes

  static SqlValue Null() { return {}; }
  static SqlValue Integer(int64_t v) { return {Type::kInteger, v, 0, {}}; }
  static SqlValue Real(double v) { return {Type::kReal, 0, v, {}}; }
  static SqlValue Text(std::string v) {
    return {Type::kText, 0, 0, std::move(v)};
  }
  static SqlValue Blob(std::string v) {
    return {Type::kBlob, 0, 0, std::move(v)};
  }
};

// A trades row as stored, column by column.
struct StoredRow {
  int64_t id = 0;
  SqlValue symbol, side, quantity, price, timestamp, status;
  SqlValue client_order_id, fee, version, created_at, updated_at;
  // Columns of the legacy table that tradestore does not know, in table
  // order: kept, never dropped silently.
  std::vector<std::pair<std::string, SqlValue>> extra;
};

// What a conversion had to do, for reports.
struct ConversionNotes {
  int converted_from_float = 0;             // REAL values converted
  std::vector<std::string> possibly_lossy;  // columns with > 15 digits
};

// Returns the trade, or kInvalidArgument whose message names the column, the
// problem and the value ("price: -1.5 must be > 0"). `notes` may be null.
absl::StatusOr<Trade> ConvertStoredRow(const StoredRow& row,
                                       ConversionNotes* notes);
// The same into `trade`, which a scan reuses from row to row so its strings
// keep their room; every field is set. On error `trade` holds a partial row.
absl::Status ConvertStoredRowInto(const StoredRow& row, ConversionNotes* notes,
                                  Trade& trade);

// `v` times 10^scale (scale 0..8), its exact binary value rounded to the
// nearest integer, ties to even: the digits printf("%.*f", scale, v) gives,
// without printf's cost. |v| * 10^scale must be below 2^62.
int64_t RoundToScale(double v, int scale);

// Significant digits of the shortest text that reads back as `v`
// (std::to_chars); a REAL past 15 is noted as possibly lossy at source.
int RoundTripDigits(double v);

// The column rules on their own, each naming `column` in its errors.
absl::StatusOr<Decimal> DecimalFromStored(absl::string_view column,
                                          const SqlValue& value,
                                          ConversionNotes* notes);
absl::StatusOr<Timestamp> TimestampFromStored(absl::string_view column,
                                              const SqlValue& value,
                                              ConversionNotes* notes);

// The boundary between epoch seconds and epoch milliseconds.
constexpr int64_t kEpochMillisThreshold = 100'000'000'000;

// A readable rendering of a stored value for error messages.
std::string DescribeValue(const SqlValue& value);

// The whole row as a JSON object, values as stored: integers and reals as
// numbers (reals with 17 significant digits, so the binary value survives),
// text as strings, BLOBs and non-UTF-8 text as {"$hex": "..."}, NULL as null.
// For the quarantine's raw column.
std::string StoredRowJson(const StoredRow& row);

// The JSON key of an unknown column: its name, or "$hex:" and its bytes in
// hex when the name is not valid UTF-8 or holds a NUL (SQLite does not check
// identifiers; JSON cannot hold such a key).
std::string ExtraColumnKey(const std::string& name);

// The unknown columns as a JSON object, or "" when there are none.
std::string ExtraColumnsJson(const StoredRow& row);

}  // namespace tradestore

#endif  // TRADESTORE_SQLITE_LEGACY_ROW_H_
