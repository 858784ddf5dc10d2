#include "native_convert.h"

#include "absl/strings/str_cat.h"
#include "tradestore/decimal.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/timestamp.h"

namespace tradestore::python {
namespace {

// The field's name in front of the parser's own words.
absl::Status Named(const char* field, const absl::Status& status) {
  return absl::Status(status.code(),
                      absl::StrCat(field, ": ", status.message()));
}

absl::StatusOr<Decimal> DecimalField(const char* field,
                                     const std::string& text) {
  auto d = Decimal::Parse(text);
  if (!d.ok()) return Named(field, d.status());
  return *d;
}

absl::StatusOr<Timestamp> TimeField(const char* field, int64_t micros) {
  auto t = Timestamp::FromUnixMicros(micros);
  if (!t.ok()) return Named(field, t.status());
  return *t;
}

}  // namespace

absl::StatusOr<Trade> ToTrade(const TradeTuple& t) {
  Trade trade;
  trade.id = std::get<0>(t);
  trade.symbol = std::get<1>(t);
  TS_ASSIGN_OR_RETURN(trade.side, ParseSide(std::get<2>(t)));
  TS_ASSIGN_OR_RETURN(trade.quantity, DecimalField("quantity", std::get<3>(t)));
  TS_ASSIGN_OR_RETURN(trade.price, DecimalField("price", std::get<4>(t)));
  TS_ASSIGN_OR_RETURN(trade.timestamp, TimeField("timestamp", std::get<5>(t)));
  TS_ASSIGN_OR_RETURN(trade.status, ParseStatus(std::get<6>(t)));
  trade.client_order_id = std::get<7>(t);
  if (std::get<8>(t)) {
    TS_ASSIGN_OR_RETURN(trade.fee, DecimalField("fee", *std::get<8>(t)));
  }
  trade.version = std::get<9>(t);
  TS_ASSIGN_OR_RETURN(trade.created_at,
                      TimeField("created_at", std::get<10>(t)));
  TS_ASSIGN_OR_RETURN(trade.updated_at,
                      TimeField("updated_at", std::get<11>(t)));
  return trade;
}

TradeTuple FromTrade(const Trade& trade) {
  return {trade.id,
          trade.symbol,
          std::string(SideName(trade.side)),
          trade.quantity.ToString(),
          trade.price.ToString(),
          trade.timestamp.unix_micros(),
          std::string(StatusName(trade.status)),
          trade.client_order_id,
          trade.fee ? std::optional(trade.fee->ToString()) : std::nullopt,
          trade.version,
          trade.created_at.unix_micros(),
          trade.updated_at.unix_micros()};
}

}  // namespace tradestore::python
