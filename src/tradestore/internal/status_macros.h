// Small stand-ins for the status macros Abseil 20220623 does not ship.
// Header-only, no state: safe from any thread.
#ifndef TRADESTORE_INTERNAL_STATUS_MACROS_H_
#define TRADESTORE_INTERNAL_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define TS_INTERNAL_CONCAT_(a, b) a##b
#define TS_INTERNAL_CONCAT(a, b) TS_INTERNAL_CONCAT_(a, b)

// Returns from the enclosing function when `expr` (an absl::Status) is not ok.
#define TS_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::absl::Status ts_status_ = (expr);      \
    if (!ts_status_.ok()) return ts_status_; \
  } while (0)

// `TS_ASSIGN_OR_RETURN(auto x, StatusOrExpr());` assigns the value or returns
// the error from the enclosing function.
#define TS_ASSIGN_OR_RETURN(lhs, expr)                                      \
  TS_INTERNAL_ASSIGN_OR_RETURN_(TS_INTERNAL_CONCAT(ts_statusor_, __LINE__), \
                                lhs, expr)
#define TS_INTERNAL_ASSIGN_OR_RETURN_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return std::move(tmp).status();      \
  lhs = std::move(tmp).value()

#endif  // TRADESTORE_INTERNAL_STATUS_MACROS_H_
