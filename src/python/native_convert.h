// The values that cross between Python and C++: a trade as a tuple of
// plain values (decimals as their text, times as UTC microseconds), and a
// failed status as a C++ exception the module turns into tradestore.Error.
// The Python layer (tradestore/_values.py) builds Decimal and datetime from
// them, so no float ever carries money.
#ifndef TRADESTORE_PYTHON_NATIVE_CONVERT_H_
#define TRADESTORE_PYTHON_NATIVE_CONVERT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tradestore/trade.h"

namespace tradestore::python {

// id, symbol, side, quantity, price, timestamp_us, status, client_order_id,
// fee, version, created_at_us, updated_at_us.
using TradeTuple =
    std::tuple<int64_t, std::string, std::string, std::string, std::string,
               int64_t, std::string, std::optional<std::string>,
               std::optional<std::string>, int64_t, int64_t, int64_t>;

// A failed status on its way to Python.
struct StatusError {
  absl::Status status;
};

[[noreturn]] inline void Raise(absl::Status status) {
  throw StatusError{std::move(status)};
}

inline void Check(absl::Status status) {
  if (!status.ok()) Raise(std::move(status));
}

template <typename T>
T Unwrap(absl::StatusOr<T> value) {
  if (!value.ok()) Raise(value.status());
  return *std::move(value);
}

// kInvalidArgument naming the field and the value when one does not parse.
absl::StatusOr<Trade> ToTrade(const TradeTuple& t);
TradeTuple FromTrade(const Trade& trade);

}  // namespace tradestore::python

#endif  // TRADESTORE_PYTHON_NATIVE_CONVERT_H_
