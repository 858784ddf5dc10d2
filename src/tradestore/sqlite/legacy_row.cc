#include "tradestore/sqlite/legacy_row.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tradestore/internal/quote.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/sqlite/legacy_json.h"

namespace tradestore {
namespace {

absl::Status Bad(absl::string_view column, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(column, ": ", problem));
}

// Prefixes a value-level error with the column name.
absl::Status InColumn(absl::string_view column, const absl::Status& s) {
  return absl::InvalidArgumentError(absl::StrCat(column, ": ", s.message()));
}

// Whether the 8-place value `units` / 10^8 reads back as `v` exactly.
bool ReadsBackAs(double v, int64_t units) {
  constexpr int64_t kExact = int64_t{1} << 53;  // converts to double exactly
  // Both operands exact, so the quotient is correctly rounded: the double
  // nearest to units / 10^8, as reading its text would give.
  return units > -kExact && units < kExact &&
         static_cast<double>(units) / 1e8 == v;
}

// Whether `units` has at most 15 significant digits, trailing zeros left
// out.
bool AtMost15Digits(int64_t units) {
  constexpr uint64_t k15Digits = 1'000'000'000'000'000;
  uint64_t u = units < 0 ? 0 - static_cast<uint64_t>(units)
                         : static_cast<uint64_t>(units);
  while (u >= k15Digits && u % 10 == 0) u /= 10;
  return u < k15Digits;
}

// Whether `v` needs more than 15 significant digits to round-trip. When
// its 8-place value reads back as `v` (`exact`), that value's digits bound
// those of the shortest text that does, so the costly to_chars is only
// needed past 15 of them.
bool NeedsMoreThan15Digits(double v, int64_t units, bool exact) {
  if (exact && AtMost15Digits(units)) return false;
  return RoundTripDigits(v) > 15;
}

// Whether the REAL `v`, whose nearest 8-place value does not read back as
// `v` exactly, still stands for a decimal of at most 8 places: its 15
// significant digits (all a double holds for sure, so float noise such as
// 0.1 + 0.2 drops out) must need no more than 8 places. 1.123456789 does
// not, and rounding it would change a value someone wrote.
bool HoldsAtMost8DecimalsIn15Digits(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.14e", v);  // d.dddddddddddddde[+-]x
  const char* e = std::strchr(buf, 'e');
  if (e == nullptr) return false;
  const int exponent = std::atoi(e + 1);
  const char* last = e - 1;
  while (*last == '0') --last;
  const int fraction_digits =
      *last == '.' ? 0 : static_cast<int>(last - std::strchr(buf, '.'));
  return fraction_digits - exponent <= 8;
}

}  // namespace

int64_t RoundToScale(double v, int scale) {
  static constexpr uint64_t kPow10[] = {
      1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
  // |v| = mant * 2^exp exactly; mant < 2^53 and 10^8 < 2^27, so
  // mant * 10^scale is exact in 128 bits and the rounding below is of the
  // binary value itself, half to even, as glibc's printf("%.*f") does.
  // Read from the IEEE 754 fields: frexp and ldexp are calls into libm.
  const auto bits = std::bit_cast<uint64_t>(v);
  const auto biased = static_cast<int>((bits >> 52) & 0x7ff);
  const uint64_t fraction = bits & ((uint64_t{1} << 52) - 1);
  // Subnormals (and zero) have no implicit leading 1.
  const uint64_t mant = biased == 0 ? fraction : fraction | (uint64_t{1} << 52);
  const int exp = (biased == 0 ? 1 : biased) - 1075;
  const unsigned __int128 n =
      static_cast<unsigned __int128>(mant) * kPow10[scale];
  unsigned __int128 q;
  if (exp >= 0) {
    q = n << exp;  // callers bound |v| well below 2^53
  } else if (-exp >= 127) {
    q = 0;  // n < 2^81, less than half a unit
  } else {
    const int shift = -exp;
    q = n >> shift;
    const unsigned __int128 rest = n - (q << shift);
    const unsigned __int128 half = static_cast<unsigned __int128>(1)
                                   << (shift - 1);
    if (rest > half || (rest == half && (q & 1) != 0)) ++q;
  }
  const auto units = static_cast<int64_t>(q);
  return (bits >> 63) != 0 ? -units : units;
}

int RoundTripDigits(double v) {
  char buf[64];
  const auto r =
      std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  int digits = 0;
  for (const char* p = buf; p != r.ptr && *p != 'e'; ++p) {
    if (*p >= '0' && *p <= '9') ++digits;
  }
  return digits;
}

namespace {

// A view of the value's text (valid while `v` is).
absl::StatusOr<absl::string_view> RequireText(absl::string_view column,
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
      return absl::StrCat("TEXT ", internal::Quote(v.text));
    case SqlValue::Type::kBlob:
      return absl::StrCat("BLOB ", internal::Quote(v.text));
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
        return Bad(column,
                   absl::StrCat(DescribeValue(v), " is outside DECIMAL(18,8)"));
      }
      const int64_t units = RoundToScale(v.real, 8);
      const bool exact = ReadsBackAs(v.real, units);
      if (!exact && !HoldsAtMost8DecimalsIn15Digits(v.real)) {
        return Bad(column, absl::StrCat(DescribeValue(v),
                                        " has more than 8 decimal places "
                                        "(would round)"));
      }
      auto d = Decimal::FromUnits(units);
      if (!d.ok()) return InColumn(column, d.status());
      if (notes != nullptr) {
        ++notes->converted_from_float;
        if (NeedsMoreThan15Digits(v.real, units, exact)) {
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
        return Bad(column,
                   absl::StrCat(DescribeValue(v), " is not a usable epoch"));
      }
      // The binary value rounded correctly to the microsecond.
      const int64_t micros = RoundToScale(v.real, 6);
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
      // jsonb refuses \u0000: such text is kept as its bytes.
      if (IsValidUtf8(v.text) && v.text.find('\0') == std::string::npos) {
        return v.text;
      }
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
  for (const auto& [name, value] : row.extra) {
    j[ExtraColumnKey(name)] = ValueJson(value);
  }
  return j.dump();
}

std::string ExtraColumnKey(const std::string& name) {
  if (IsValidUtf8(name) && name.find('\0') == std::string::npos) {
    return name;
  }
  return absl::StrCat("$hex:", absl::BytesToHexString(name));
}

nlohmann::json ExtraColumnsObject(const StoredRow& row) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, value] : row.extra) {
    j[ExtraColumnKey(name)] = ValueJson(value);
  }
  return j;
}

absl::StatusOr<SqlValue> SqlValueFromJson(const nlohmann::json& v) {
  auto cannot = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat(v.dump(), " is no value a legacy column held"));
  };
  switch (v.type()) {
    case nlohmann::json::value_t::null:
      return SqlValue::Null();
    case nlohmann::json::value_t::number_integer:
      return SqlValue::Integer(v.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned:
      if (v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return cannot();
      return SqlValue::Integer(v.get<int64_t>());
    case nlohmann::json::value_t::number_float:
      return SqlValue::Real(v.get<double>());
    case nlohmann::json::value_t::string:
      return SqlValue::Text(v.get<std::string>());
    case nlohmann::json::value_t::object: {
      if (v.size() != 1 || !v.begin()->is_string()) return cannot();
      const std::string& text = v.begin()->get_ref<const std::string&>();
      if (v.begin().key() == "$hex") {
        if (text.size() % 2 != 0 ||
            text.find_first_not_of("0123456789abcdefABCDEF") !=
                std::string::npos) {
          return cannot();
        }
        return SqlValue::Blob(absl::HexStringToBytes(text));
      }
      // DescribeValue's "REAL inf" and "REAL -inf" (SQLite keeps no NaN).
      if (v.begin().key() == "$real" && absl::StartsWith(text, "REAL ")) {
        const double real = std::strtod(text.c_str() + 5, nullptr);
        if (std::isinf(real)) return SqlValue::Real(real);
      }
      return cannot();
    }
    default:
      return cannot();
  }
}

std::string ExtraColumnsJson(const StoredRow& row) {
  if (row.extra.empty()) return "";
  return ExtraColumnsObject(row).dump();
}

namespace {

absl::Status ConvertSymbolAndSide(const StoredRow& row, Trade& t) {
  TS_ASSIGN_OR_RETURN(const absl::string_view symbol,
                      RequireText("symbol", row.symbol));
  t.symbol.assign(symbol.data(), symbol.size());
  TS_ASSIGN_OR_RETURN(const absl::string_view side,
                      RequireText("side", row.side));
  auto parsed = ParseSide(absl::AsciiStrToUpper(side));
  if (!parsed.ok()) {
    return Bad("side",
               absl::StrCat(internal::Quote(side), " is not BUY or SELL"));
  }
  t.side = *parsed;
  return absl::OkStatus();
}

absl::Status ConvertStatusAndKey(const StoredRow& row, Trade& t) {
  TS_ASSIGN_OR_RETURN(const absl::string_view status,
                      RequireText("status", row.status));
  size_t chars = 0;
  if (IsValidUtf8(status, &chars) && chars > 20) {
    return Bad("status", absl::StrCat(internal::Quote(status), " is too long (",
                                      chars, " > 20 characters)"));
  }
  TS_ASSIGN_OR_RETURN(t.status, ParseStatus(status));
  if (row.client_order_id.type != SqlValue::Type::kNull) {
    TS_ASSIGN_OR_RETURN(const absl::string_view key,
                        RequireText("client_order_id", row.client_order_id));
    t.client_order_id = std::string(key);
  } else {
    t.client_order_id.reset();
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> VersionFromStored(const SqlValue& version) {
  switch (version.type) {
    case SqlValue::Type::kNull:
      return 1;
    case SqlValue::Type::kInteger:
      if (version.integer < 1) {
        return Bad("version", absl::StrCat(version.integer, " is < 1"));
      }
      return version.integer;
    default:
      return Bad("version",
                 absl::StrCat(DescribeValue(version), " is not an integer"));
  }
}

// created_at defaults to the trade's time, updated_at to created_at.
absl::Status ConvertCreatedUpdated(const StoredRow& row, ConversionNotes* notes,
                                   Trade& t) {
  t.created_at = t.timestamp;
  if (row.created_at.type != SqlValue::Type::kNull) {
    TS_ASSIGN_OR_RETURN(
        t.created_at, TimestampFromStored("created_at", row.created_at, notes));
  }
  t.updated_at = t.created_at;
  if (row.updated_at.type != SqlValue::Type::kNull) {
    TS_ASSIGN_OR_RETURN(
        t.updated_at, TimestampFromStored("updated_at", row.updated_at, notes));
  }
  return absl::OkStatus();
}

// Postgres text and jsonb hold no NUL character: such a legacy value cannot
// be kept in trades.extra as it is.
absl::Status RefuseNulInExtra(const StoredRow& row) {
  for (const auto& [name, value] : row.extra) {
    if (value.type == SqlValue::Type::kText &&
        value.text.find('\0') != std::string::npos) {
      return Bad(
          internal::Quote(name),
          absl::StrCat(DescribeValue(value),
                       " holds a NUL byte, which Postgres cannot store"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Trade> ConvertStoredRow(const StoredRow& row,
                                       ConversionNotes* notes) {
  Trade t;
  TS_RETURN_IF_ERROR(ConvertStoredRowInto(row, notes, t));
  return t;
}

absl::Status ConvertStoredRowInto(const StoredRow& row, ConversionNotes* notes,
                                  Trade& t) {
  // Ids come from SQLite's rowid, which may be zero or negative; a trade's
  // id is positive (0 means not yet assigned).
  if (row.id <= 0) {
    return Bad("id", absl::StrCat(row.id, " is not a positive id"));
  }
  t.id = row.id;
  // In the order of the columns, so a row with several faults is always
  // quarantined for the same one.
  TS_RETURN_IF_ERROR(ConvertSymbolAndSide(row, t));
  TS_ASSIGN_OR_RETURN(t.quantity,
                      DecimalFromStored("quantity", row.quantity, notes));
  TS_ASSIGN_OR_RETURN(t.price, DecimalFromStored("price", row.price, notes));
  TS_ASSIGN_OR_RETURN(t.timestamp,
                      TimestampFromStored("timestamp", row.timestamp, notes));
  TS_RETURN_IF_ERROR(ConvertStatusAndKey(row, t));
  if (row.fee.type != SqlValue::Type::kNull) {
    TS_ASSIGN_OR_RETURN(t.fee, DecimalFromStored("fee", row.fee, notes));
  } else {
    t.fee.reset();
  }
  TS_ASSIGN_OR_RETURN(t.version, VersionFromStored(row.version));
  TS_RETURN_IF_ERROR(ConvertCreatedUpdated(row, notes, t));
  TS_RETURN_IF_ERROR(ValidateTrade(t));
  return RefuseNulInExtra(row);
}

}  // namespace tradestore
