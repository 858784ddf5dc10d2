// Status assertions (Abseil 20220623 ships no status matchers).
#ifndef TRADESTORE_TESTS_TESTING_STATUS_MATCHERS_H_
#define TRADESTORE_TESTS_TESTING_STATUS_MATCHERS_H_

#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tradestore::testing {

inline const absl::Status& StatusOf(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}

}  // namespace tradestore::testing

#define TS_ASSERT_OK(expr)                                   \
  do {                                                       \
    const auto& ts_s_ = (expr);                              \
    ASSERT_TRUE(::tradestore::testing::StatusOf(ts_s_).ok()) \
        << ::tradestore::testing::StatusOf(ts_s_);           \
  } while (0)

#define TS_EXPECT_OK(expr)                                   \
  do {                                                       \
    const auto& ts_s_ = (expr);                              \
    EXPECT_TRUE(::tradestore::testing::StatusOf(ts_s_).ok()) \
        << ::tradestore::testing::StatusOf(ts_s_);           \
  } while (0)

// Expects a specific status code.
#define TS_EXPECT_CODE(expr, expected_code)                              \
  EXPECT_EQ(::tradestore::testing::StatusOf(expr).code(), expected_code) \
      << ::tradestore::testing::StatusOf(expr)

#endif  // TRADESTORE_TESTS_TESTING_STATUS_MATCHERS_H_
