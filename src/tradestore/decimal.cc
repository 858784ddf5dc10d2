#include "tradestore/decimal.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "tradestore/internal/quote.h"

namespace tradestore {
namespace {

absl::Status NotADecimal(absl::string_view text) {
  return absl::InvalidArgumentError(
      absl::StrCat(internal::Quote(text), " is not a decimal number"));
}

}  // namespace

absl::StatusOr<Decimal> Decimal::FromUnits(int64_t units) {
  if (units > kMaxUnits || units < -kMaxUnits) {
    return absl::OutOfRangeError(
        absl::StrCat(units, " units of 1e-8 is outside DECIMAL(18,8)"));
  }
  return Decimal(units);
}

absl::StatusOr<Decimal> Decimal::Parse(absl::string_view text) {
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    negative = text[i] == '-';
    ++i;
  }
  // Integer digits: leading zeros do not count against the 10-digit limit.
  int64_t integer = 0;
  int integer_digits = 0;
  bool any_digit = false;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    any_digit = true;
    if (integer_digits == 0 && text[i] == '0') continue;
    if (++integer_digits > 10) {
      return absl::OutOfRangeError(
          absl::StrCat(internal::Quote(text), " is outside DECIMAL(18,8)"));
    }
    integer = integer * 10 + (text[i] - '0');
  }
  int64_t fraction = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    int fraction_digits = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      any_digit = true;
      if (fraction_digits < kScale) {
        fraction = fraction * 10 + (text[i] - '0');
        ++fraction_digits;
      } else if (text[i] != '0') {
        return absl::InvalidArgumentError(
            absl::StrCat(internal::Quote(text),
                         " has more than 8 decimal places (would round)"));
      }
    }
    for (; fraction_digits < kScale; ++fraction_digits) fraction *= 10;
  } else {
    fraction = 0;
  }
  if (!any_digit || i != text.size()) return NotADecimal(text);
  // 10 integer digits * 1e8 + 8 fraction digits stays below 1e18: no overflow.
  const int64_t units = integer * kUnitsPerOne + fraction;
  if (units > kMaxUnits) {
    return absl::OutOfRangeError(
        absl::StrCat(internal::Quote(text), " is outside DECIMAL(18,8)"));
  }
  return Decimal(negative ? -units : units);
}

std::string Decimal::ToString() const {
  // |units_| <= kMaxUnits, so negation cannot overflow.
  const int64_t magnitude = units_ < 0 ? -units_ : units_;
  std::string fraction = std::to_string(magnitude % kUnitsPerOne);
  fraction.insert(0, kScale - fraction.size(), '0');
  return absl::StrCat(units_ < 0 ? "-" : "", magnitude / kUnitsPerOne, ".",
                      fraction);
}

std::string Decimal::ToShortString() const {
  std::string text = ToString();
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

absl::StatusOr<Decimal> Decimal::Add(Decimal other) const {
  // Both operands are within kMaxUnits (< 2^60), so the sum cannot overflow
  // int64 before the range check.
  return FromUnits(units_ + other.units_);
}

absl::StatusOr<Decimal> Decimal::Subtract(Decimal other) const {
  return FromUnits(units_ - other.units_);
}

std::ostream& operator<<(std::ostream& os, Decimal d) {
  return os << d.ToShortString();
}

}  // namespace tradestore
