// The values that cross between Python and C++. A tradestore.Trade is read
// and built here, in C, from its Decimal, datetime and enum attributes:
// money crosses as the Decimal's text, never a float, and times as UTC
// microseconds. Anything unusual (a float, a naive or non-UTC datetime, a
// string with a lone surrogate) goes through the package's own Python
// helpers in tradestore/values.py, so the errors are theirs. A failed
// status becomes a C++ exception that the module turns into
// tradestore.Error.
//
// All functions here need the GIL.
#ifndef TRADESTORE_PYTHON_NATIVE_CONVERT_H_
#define TRADESTORE_PYTHON_NATIVE_CONVERT_H_

#include <pybind11/pybind11.h>

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tradestore/timestamp.h"
#include "tradestore/trade.h"
#include "tradestore/trade_store.h"

namespace tradestore::python {

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

// Sets the tradestore.Error subclass of the status's code as the Python
// error.
void SetPythonError(const absl::Status& status);

// Takes the classes and helpers of tradestore.values; called once when the
// package is imported, before any other function here.
void BindValues(pybind11::module_ values);

// A tradestore.Trade as a C++ Trade. Raises the helpers' TypeError for a
// value of the wrong type; kInvalidArgument names the field otherwise.
absl::StatusOr<Trade> TradeFromPython(pybind11::handle trade);

// UTC microseconds of an aware datetime (the helpers' errors otherwise).
int64_t MicrosFromPython(const char* field, pybind11::handle time);

pybind11::object TradeToPython(const Trade& trade);
pybind11::list TradesToPython(const std::vector<Trade>& trades);
pybind11::object InsertResultToPython(InsertResult result);
pybind11::object TimeToPython(Timestamp time);

}  // namespace tradestore::python

#endif  // TRADESTORE_PYTHON_NATIVE_CONVERT_H_
