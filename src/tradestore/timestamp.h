// Timestamp: a UTC instant with microsecond precision (int64 microseconds
// since 1970-01-01T00:00:00Z), the precision of Postgres TIMESTAMPTZ.
//
// Parsing is strict and exact: an impossible date (2023-02-29, 24:00:00) or a
// seventh non-zero fractional digit is refused, never normalised or rounded.
// Years 0001-9999 only.
//
// Thread-safety: an immutable value type; safe to share between threads.
#ifndef TRADESTORE_TIMESTAMP_H_
#define TRADESTORE_TIMESTAMP_H_

#include <compare>
#include <cstdint>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tradestore {

class Timestamp {
 public:
  static constexpr int64_t kMicrosPerSecond = 1'000'000;

  constexpr Timestamp() = default;

  // Returns kOutOfRange outside years 0001-9999.
  static absl::StatusOr<Timestamp> FromUnixMicros(int64_t micros);

  // Returns kInvalidArgument for an impossible date or time.
  static absl::StatusOr<Timestamp> FromCivil(int year, int month, int day,
                                             int hour, int minute, int second,
                                             int micros);

  // Parses "YYYY-MM-DD HH:MM:SS[.ffffff]" or the same with 'T', followed by
  // nothing (UTC), 'Z', or an offset "+HH:MM" / "-HH:MM" / "+HHMM" / "+HH".
  // Up to 6 fractional digits, more only when the extra digits are zeros.
  // Returns kInvalidArgument naming the text when it does not parse.
  static absl::StatusOr<Timestamp> Parse(absl::string_view text);

  // "2023-11-14T22:13:21.471325Z": always 6 fractional digits, always UTC.
  std::string ToIso8601() const;

  // The UTC calendar fields, for formats other than ToIso8601.
  struct Civil {
    int year, month, day, hour, minute, second, micros;
  };
  Civil ToCivil() const;

  constexpr int64_t unix_micros() const { return micros_; }

  friend constexpr auto operator<=>(Timestamp a, Timestamp b) = default;

 private:
  constexpr explicit Timestamp(int64_t micros) : micros_(micros) {}
  int64_t micros_ = 0;
};

std::ostream& operator<<(std::ostream& os, Timestamp t);

}  // namespace tradestore

#endif  // TRADESTORE_TIMESTAMP_H_
