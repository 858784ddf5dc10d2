// Reading and writing trades rows with libpqxx: the column list, the
// parameters of an insert and the exact conversion of a result row. Internal
// to the Postgres backend.
#ifndef TRADESTORE_POSTGRES_PG_ROW_H_
#define TRADESTORE_POSTGRES_PG_ROW_H_

#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tradestore/trade.h"

namespace tradestore::pg {

// Decimals come back as NUMERIC text and times as exact epoch microseconds,
// so nothing depends on the session's TimeZone or DateStyle.
inline constexpr char kSelectColumns[] =
    "id, symbol, side, quantity::text, price::text, "
    "(extract(epoch FROM \"timestamp\") * 1000000)::int8, status, "
    "client_order_id, fee::text, version, "
    "(extract(epoch FROM created_at) * 1000000)::int8, "
    "(extract(epoch FROM updated_at) * 1000000)::int8";

// A parameter list where std::nullopt is SQL NULL.
using Params = std::vector<std::optional<std::string>>;

pqxx::result Exec(pqxx::work& txn, const std::string& sql,
                  const Params& params);

// Returns kDataLoss naming the row and column when a stored value does not
// fit the Trade model.
absl::StatusOr<Trade> TradeFromRow(const pqxx::row& row);
absl::StatusOr<std::vector<Trade>> TradesFromResult(const pqxx::result& r);

// $1..$12 for INSERT INTO trades (id, symbol, ... updated_at).
Params InsertParams(const Trade& t);

}  // namespace tradestore::pg

#endif  // TRADESTORE_POSTGRES_PG_ROW_H_
