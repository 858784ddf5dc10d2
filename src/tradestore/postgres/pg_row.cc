#include "tradestore/postgres/pg_row.h"

#include "absl/strings/str_cat.h"
#include "tradestore/internal/status_macros.h"

namespace tradestore::pg {
namespace {

absl::Status Bad(const pqxx::row& row, absl::string_view column,
                 const absl::Status& why) {
  return absl::DataLossError(absl::StrCat("postgres trades row id ",
                                          row[0].c_str(), ": ", column, ": ",
                                          why.message()));
}

absl::StatusOr<Decimal> DecimalField(const pqxx::row& row, int i,
                                     absl::string_view column) {
  auto d = Decimal::Parse(row[i].c_str());
  if (!d.ok()) return Bad(row, column, d.status());
  return d;
}

absl::StatusOr<Timestamp> TimeField(const pqxx::row& row, int i,
                                    absl::string_view column) {
  auto t = Timestamp::FromUnixMicros(row[i].as<int64_t>());
  if (!t.ok()) return Bad(row, column, t.status());
  return t;
}

}  // namespace

pqxx::result Exec(pqxx::work& txn, const std::string& sql,
                  const Params& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return txn.exec_params(sql, pqxx::prepare::make_dynamic_params(values));
}

absl::StatusOr<Trade> TradeFromRow(const pqxx::row& row) {
  Trade t;
  t.id = row[0].as<int64_t>();
  t.symbol = row[1].as<std::string>();
  auto side = ParseSide(row[2].c_str());
  if (!side.ok()) return Bad(row, "side", side.status());
  t.side = *side;
  TS_ASSIGN_OR_RETURN(t.quantity, DecimalField(row, 3, "quantity"));
  TS_ASSIGN_OR_RETURN(t.price, DecimalField(row, 4, "price"));
  TS_ASSIGN_OR_RETURN(t.timestamp, TimeField(row, 5, "timestamp"));
  auto status = ParseStatus(row[6].c_str());
  if (!status.ok()) return Bad(row, "status", status.status());
  t.status = *status;
  if (!row[7].is_null()) t.client_order_id = row[7].as<std::string>();
  if (!row[8].is_null()) {
    TS_ASSIGN_OR_RETURN(t.fee, DecimalField(row, 8, "fee"));
  }
  t.version = row[9].as<int64_t>();
  TS_ASSIGN_OR_RETURN(t.created_at, TimeField(row, 10, "created_at"));
  TS_ASSIGN_OR_RETURN(t.updated_at, TimeField(row, 11, "updated_at"));
  return t;
}

absl::StatusOr<std::vector<Trade>> TradesFromResult(const pqxx::result& r) {
  std::vector<Trade> trades;
  trades.reserve(r.size());
  for (const auto& row : r) {
    TS_ASSIGN_OR_RETURN(Trade t, TradeFromRow(row));
    trades.push_back(std::move(t));
  }
  return trades;
}

Params InsertParams(const Trade& t) {
  return {std::to_string(t.id),
          t.symbol,
          std::string(SideName(t.side)),
          t.quantity.ToString(),
          t.price.ToString(),
          t.timestamp.ToIso8601(),
          std::string(StatusName(t.status)),
          t.client_order_id,
          t.fee ? std::optional<std::string>(t.fee->ToString()) : std::nullopt,
          std::to_string(t.version),
          t.created_at.ToIso8601(),
          t.updated_at.ToIso8601()};
}

}  // namespace tradestore::pg
