// One canonical text form of a trade, for comparing the two stores fast:
// the exact bytes PostgreSQL's COPY TO prints for the trades columns (with
// TimeZone UTC and DateStyle ISO), so a Postgres row is compared as it
// arrives and a SQLite row is formatted once. Equal lines mean equal trades
// in every column: decimals as fixed-point values with 8 places, times to
// the microsecond, strings byte for byte.
#ifndef TRADESTORE_POSTGRES_ROW_TEXT_H_
#define TRADESTORE_POSTGRES_ROW_TEXT_H_

#include <array>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "tradestore/trade.h"

namespace tradestore::pg {

// The compared columns, in line order.
inline constexpr std::array<const char*, 12> kColumns = {
    "id",    "symbol",    "side",       "quantity",
    "price", "timestamp", "status",     "client_order_id",
    "fee",   "version",   "created_at", "updated_at"};

// The SELECT list that makes Postgres print the same columns.
extern const char kPgSelectColumns[];

// The verifier's: kPgSelectColumns, then extra (the legacy columns), with
// version NULL where it is 1, created_at NULL where it equals timestamp and
// updated_at NULL where it equals created_at (pg::AppendTradeRow writes
// rows the same way; pg::DecodeRawTrade restores the values).
extern const char kPgVerifyColumns[];

// Appends the trade's line (no trailing newline).
void AppendRowText(std::string* out, const Trade& t);

// PostgreSQL's ISO output of a timestamptz in UTC: "2023-01-01
// 00:00:18.51373+00" (fraction without trailing zeros, none when whole
// seconds).
void AppendPgTimestamp(std::string* out, Timestamp t);

// The line's fields, still escaped.
std::vector<absl::string_view> SplitFields(absl::string_view line);

}  // namespace tradestore::pg

#endif  // TRADESTORE_POSTGRES_ROW_TEXT_H_
