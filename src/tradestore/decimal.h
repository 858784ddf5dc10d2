// Decimal: an exact DECIMAL(18,8) value, stored as int64 units of 1e-8.
//
// Every value the trade store keeps for money (quantity, price, fee) is a
// Decimal. There is no floating point anywhere in this type: text goes in and
// comes out exactly, and anything that cannot be represented exactly (a ninth
// significant decimal, an eleventh integer digit) is refused, never rounded.
//
// Thread-safety: an immutable value type; safe to share between threads.
#ifndef TRADESTORE_DECIMAL_H_
#define TRADESTORE_DECIMAL_H_

#include <compare>
#include <cstdint>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tradestore {

class Decimal {
 public:
  static constexpr int kScale = 8;
  static constexpr int64_t kUnitsPerOne = 100'000'000;
  // DECIMAL(18,8) leaves 10 integer digits: |value| < 1e10.
  static constexpr int64_t kMaxUnits = 999'999'999'999'999'999;

  constexpr Decimal() = default;

  // Returns kOutOfRange when |units| > kMaxUnits.
  static absl::StatusOr<Decimal> FromUnits(int64_t units);

  // Parses plain decimal text: an optional sign, digits, an optional point
  // and up to 8 significant decimals ("1", "-0.5", "+12.34000000", ".5").
  // Extra decimals are accepted only when they are zeros. Returns
  // kInvalidArgument for text that is not a decimal or that would need
  // rounding, kOutOfRange for values outside DECIMAL(18,8). "-0" is zero.
  static absl::StatusOr<Decimal> Parse(absl::string_view text);

  // Canonical text with exactly 8 decimals, as Postgres prints NUMERIC(18,8):
  // "1.50000000", "-0.00000001", "0.00000000".
  std::string ToString() const;

  // Shortest exact text: "1.5", "-0.00000001", "0".
  std::string ToShortString() const;

  constexpr int64_t units() const { return units_; }
  constexpr bool IsPositive() const { return units_ > 0; }
  constexpr bool IsZero() const { return units_ == 0; }

  // Returns kOutOfRange when the result leaves DECIMAL(18,8).
  absl::StatusOr<Decimal> Add(Decimal other) const;
  absl::StatusOr<Decimal> Subtract(Decimal other) const;

  friend constexpr auto operator<=>(Decimal a, Decimal b) = default;

 private:
  constexpr explicit Decimal(int64_t units) : units_(units) {}
  int64_t units_ = 0;
};

std::ostream& operator<<(std::ostream& os, Decimal d);

}  // namespace tradestore

#endif  // TRADESTORE_DECIMAL_H_
