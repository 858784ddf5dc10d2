#include "tradestore/sqlite/legacy_row.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace tradestore {
namespace {

absl::Status Bad(absl::string_view column, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(column, ": ", problem));
}

// Prefixes a value-level error with the column name.
absl::Status InColumn(absl::string_view column, const absl::Status& s) {
  return absl::InvalidArgumentError(absl::StrCat(column, ": ", s.message()));
}

// Significant digits needed for `v` to round-trip through text.
int RoundTripDigits(double v) {
  char buf[64];
  for (int digits = 1; digits < 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v) return digits;
  }
  return 17;
}

absl::StatusOr<std::string> RequireText(absl::string_view column,
                                        const SqlValue& v) {
  if (v.type == SqlValue::Type::kNull) return Bad(column, "is NULL");
  if (v.type != SqlValue::Type::kText) {
    return Bad(column, absl::StrCat(DescribeValue(v), " is not text"));
  }
  return v.text;
}

}  // namespace

std::string DescribeValue(const SqlValue& v) {
  switch (v.type) {
    case SqlValue::Type::kNull:
      return "NULL";
    case SqlValue::Type::kInteger:
      return absl::StrCat("INTEGER ", v.integer);
    case SqlValue::Type::kReal: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "REAL %.17g", v.real);
      return buf;
    }
    case SqlValue::Type::kText:
      return absl::StrCat("TEXT \"", absl::CHexEscape(v.text), "\"");
    case SqlValue::Type::kBlob:
      return absl::StrCat("BLOB \"", absl::CHexEscape(v.text), "\"");
  }
  return "?";
}

absl::StatusOr<Decimal> DecimalFromStored(absl::string_view column,
                                          const SqlValue& v,
                                          ConversionNotes* notes) {
  switch (v.type) {
    case SqlValue::Type::kNull:
      return Bad(column, "is NULL");
    case SqlValue::Type::kText:
    case SqlValue::Type::kBlob: {
      auto d = Decimal::Parse(v.text);
      if (!d.ok()) return InColumn(column, d.status());
      return d;
    }
    case SqlValue::Type::kInteger: {
      if (v.integer > Decimal::kMaxUnits / Decimal::kUnitsPerOne ||
          v.integer < -Decimal::kMaxUnits / Decimal::kUnitsPerOne) {
        return Bad(column,
                   absl::StrCat(v.integer, " is outside DECIMAL(18,8)"));
      }
      return *Decimal::FromUnits(v.integer * Decimal::kUnitsPerOne);
    }
    case SqlValue::Type::kReal: {
      if (std::isnan(v.real)) return Bad(column, "REAL NaN is not a number");
      if (std::isinf(v.real)) return Bad(column, "REAL Inf is not a number");
      if (std::fabs(v.real) >= 1e10) {
        return Bad(column, absl::StrCat(DescribeValue(v),
                                        " is outside DECIMAL(18,8)"));
      }
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.8f", v.real);
      auto d = Decimal::Parse(buf);
      if (!d.ok()) return InColumn(column, d.status());
      if (notes != nullptr) {
        ++notes->converted_from_float;
        if (RoundTripDigits(v.real) > 15) {
          notes->possibly_lossy.emplace_back(column);
        }
      }
      return d;
    }
  }
  return Bad(column, "unknown storage class");
}

absl::StatusOr<Timestamp> TimestampFromStored(absl::string_view column,
                                              const SqlValue& v,
                                              ConversionNotes* notes) {
  switch (v.type) {
    case SqlValue::Type::kNull:
      return Bad(column, "is NULL");
    case SqlValue::Type::kText: {
      auto t = Timestamp::Parse(v.text);
      if (!t.ok()) return InColumn(column, t.status());
      return t;
    }
    case SqlValue::Type::kBlob:
      return Bad(column, absl::StrCat(DescribeValue(v), " is not a timestamp"));
    case SqlValue::Type::kInteger: {
      const bool millis = v.integer >= kEpochMillisThreshold ||
                          v.integer <= -kEpochMillisThreshold;
      const int64_t factor = millis ? 1000 : Timestamp::kMicrosPerSecond;
      if (v.integer > INT64_MAX / factor || v.integer < INT64_MIN / factor) {
        return Bad(column, absl::StrCat(DescribeValue(v), " is out of range"));
      }
      auto t = Timestamp::FromUnixMicros(v.integer * factor);
      if (!t.ok()) return InColumn(column, t.status());
      return t;
    }
    case SqlValue::Type::kReal: {
      if (!std::isfinite(v.real) || std::fabs(v.real) >= 3e11) {
        return Bad(column, absl::StrCat(DescribeValue(v),
                                        " is not a usable epoch"));
      }
      // "%.6f" rounds the binary value correctly to the microsecond.
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.6f", v.real);
      absl::string_view text(buf);
      const bool negative = text.front() == '-';
      if (negative) text.remove_prefix(1);
      const size_t dot = text.find('.');
      const int64_t secs = std::strtoll(std::string(text.substr(0, dot)).c_str(),
                                        nullptr, 10);
      const int64_t frac =
          std::strtoll(std::string(text.substr(dot + 1)).c_str(), nullptr, 10);
      int64_t micros = secs * Timestamp::kMicrosPerSecond + frac;
      if (negative) micros = -micros;
      auto t = Timestamp::FromUnixMicros(micros);
      if (!t.ok()) return InColumn(column, t.status());
      if (notes != nullptr) ++notes->converted_from_float;
      return t;
    }
  }
  return Bad(column, "unknown storage class");
}

namespace {

nlohmann::json ValueJson(const SqlValue& v) {
  switch (v.type) {
    case SqlValue::Type::kNull:
      return nullptr;
    case SqlValue::Type::kInteger:
      return v.integer;
    case SqlValue::Type::kReal:
      if (std::isfinite(v.real)) return v.real;
      return {{"$real", DescribeValue(v)}};
    case SqlValue::Type::kText:
      if (IsValidUtf8(v.text)) return v.text;
      return {{"$hex", absl::BytesToHexString(v.text)}};
    case SqlValue::Type::kBlob:
      return {{"$hex", absl::BytesToHexString(v.text)}};
  }
  return nullptr;
}

}  // namespace

std::string StoredRowJson(const StoredRow& row) {
  nlohmann::json j = {{"id", row.id},
                      {"symbol", ValueJson(row.symbol)},
                      {"side", ValueJson(row.side)},
                      {"quantity", ValueJson(row.quantity)},
                      {"price", ValueJson(row.price)},
                      {"timestamp", ValueJson(row.timestamp)},
                      {"status", ValueJson(row.status)},
                      {"client_order_id", ValueJson(row.client_order_id)},
                      {"fee", ValueJson(row.fee)},
                      {"version", ValueJson(row.version)},
                      {"created_at", ValueJson(row.created_at)},
                      {"updated_at", ValueJson(row.updated_at)}};
  for (const auto& [name, value] : row.extra) j[name] = ValueJson(value);
  return j.dump();
}

std::string ExtraColumnsJson(const StoredRow& row) {
  if (row.extra.empty()) return "";
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, value] : row.extra) j[name] = ValueJson(value);
  return j.dump();
}

absl::StatusOr<Trade> ConvertStoredRow(const StoredRow& row,
                                       ConversionNotes* notes) {
  Trade t;
  t.id = row.id;
  {
    auto symbol = RequireText("symbol", row.symbol);
    if (!symbol.ok()) return symbol.status();
    t.symbol = *std::move(symbol);
  }
  {
    auto side = RequireText("side", row.side);
    if (!side.ok()) return side.status();
    auto parsed = ParseSide(absl::AsciiStrToUpper(*side));
    if (!parsed.ok()) {
      return Bad("side", absl::StrCat("\"", absl::CHexEscape(*side),
                                      "\" is not BUY or SELL"));
    }
    t.side = *parsed;
  }
  auto quantity = DecimalFromStored("quantity", row.quantity, notes);
  if (!quantity.ok()) return quantity.status();
  t.quantity = *quantity;
  auto price = DecimalFromStored("price", row.price, notes);
  if (!price.ok()) return price.status();
  t.price = *price;
  auto ts = TimestampFromStored("timestamp", row.timestamp, notes);
  if (!ts.ok()) return ts.status();
  t.timestamp = *ts;
  {
    auto status = RequireText("status", row.status);
    if (!status.ok()) return status.status();
    size_t chars = 0;
    if (IsValidUtf8(*status, &chars) && chars > 20) {
      return Bad("status", absl::StrCat("\"", *status, "\" is too long (",
                                        chars, " > 20 characters)"));
    }
    auto parsed = ParseStatus(*status);
    if (!parsed.ok()) return parsed.status();
    t.status = *parsed;
  }
  if (row.client_order_id.type != SqlValue::Type::kNull) {
    auto key = RequireText("client_order_id", row.client_order_id);
    if (!key.ok()) return key.status();
    t.client_order_id = *std::move(key);
  }
  if (row.fee.type != SqlValue::Type::kNull) {
    auto fee = DecimalFromStored("fee", row.fee, notes);
    if (!fee.ok()) return fee.status();
    t.fee = *fee;
  }
  switch (row.version.type) {
    case SqlValue::Type::kNull:
      t.version = 1;
      break;
    case SqlValue::Type::kInteger:
      if (row.version.integer < 1) {
        return Bad("version", absl::StrCat(row.version.integer, " is < 1"));
      }
      t.version = row.version.integer;
      break;
    default:
      return Bad("version",
                 absl::StrCat(DescribeValue(row.version), " is not an integer"));
  }
  t.created_at = t.timestamp;
  if (row.created_at.type != SqlValue::Type::kNull) {
    auto c = TimestampFromStored("created_at", row.created_at, notes);
    if (!c.ok()) return c.status();
    t.created_at = *c;
  }
  t.updated_at = t.created_at;
  if (row.updated_at.type != SqlValue::Type::kNull) {
    auto u = TimestampFromStored("updated_at", row.updated_at, notes);
    if (!u.ok()) return u.status();
    t.updated_at = *u;
  }
  if (auto s = ValidateTrade(t); !s.ok()) return s;
  return t;
}

}  // namespace tradestore
