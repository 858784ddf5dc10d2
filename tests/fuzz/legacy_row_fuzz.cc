// The legacy row converter on rows of every storage class: a converted
// trade is a valid one with the row's id, and the quarantine's JSON of any
// row (bad UTF-8, NUL, NaN, +-2^63 included) parses.
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "fuzz_targets.h"
#include "tradestore/sqlite/legacy_row.h"
#include "tradestore/trade.h"

namespace tradestore::fuzz {
namespace {

constexpr const char* kName = "legacy_row";

SqlValue Value(Bytes& in) {
  switch (in.Byte() % 5) {
    case 0:
      return SqlValue::Null();
    case 1:
      return SqlValue::Integer(static_cast<int64_t>(in.U64()));
    case 2:
      return SqlValue::Real(in.Double());
    case 3:
      return SqlValue::Text(in.Text(40));
    default:
      return SqlValue::Blob(in.Text(40));
  }
}

bool ParsesAsJson(const std::string& text) {
  return !nlohmann::json::parse(text, nullptr, false).is_discarded();
}

}  // namespace

void LegacyRow(const uint8_t* data, size_t size) {
  Bytes in(data, size);
  StoredRow row;
  row.id = static_cast<int64_t>(in.U64());
  for (SqlValue* v :
       {&row.symbol, &row.side, &row.quantity, &row.price, &row.timestamp,
        &row.status, &row.client_order_id, &row.fee, &row.version,
        &row.created_at, &row.updated_at}) {
    *v = Value(in);
    (void)DescribeValue(*v);
  }
  for (int n = in.Byte() % 3; n > 0; --n) {
    std::string name = in.Text(10);
    row.extra.emplace_back(std::move(name), Value(in));
  }
  ConversionNotes notes;
  auto trade = ConvertStoredRow(row, &notes);
  if (trade.ok()) {
    FUZZ_CHECK(kName, trade->id == row.id, "the id changed");
    const absl::Status valid = ValidateTrade(*trade);
    FUZZ_CHECK(kName, valid.ok(),
               absl::StrCat("converted but invalid: ", valid.ToString()));
  }
  FUZZ_CHECK(kName, ParsesAsJson(StoredRowJson(row)),
             absl::StrCat("StoredRowJson is not JSON: ", StoredRowJson(row)));
  const std::string extra = ExtraColumnsJson(row);
  FUZZ_CHECK(kName, extra.empty() == row.extra.empty(),
             "ExtraColumnsJson disagrees with the row's extra columns");
  FUZZ_CHECK(kName, extra.empty() || ParsesAsJson(extra),
             absl::StrCat("ExtraColumnsJson is not JSON: ", extra));
}

}  // namespace tradestore::fuzz
