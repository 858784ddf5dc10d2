// IdRanges: cuts the rows after_id < id <= up_to_id of a SQLite store into
// consecutive id ranges of `rows` rows each, numbered 0, 1, 2, ..., so that
// several threads can read one scan side by side (each range on its own
// reader connection) while the consumers take the ranges in order (see
// internal::OrderedQueue). Each cut steps over rowids only.
//
// Thread-safety: Next may be called from any number of threads.
#ifndef TRADESTORE_SQLITE_ID_RANGES_H_
#define TRADESTORE_SQLITE_ID_RANGES_H_

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>

#include "absl/status/statusor.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore {

class IdRanges {
 public:
  struct Range {
    int64_t seq = 0;
    int64_t after_id = 0;  // the range is after_id < id <= last_id
    int64_t last_id = 0;
  };

  // With `reach_end`, one last range runs from the store's last row to
  // up_to_id, for a caller comparing with another store that may hold rows
  // beyond this one's.
  IdRanges(SqliteTradeStore& store, int64_t after_id, int64_t up_to_id,
           int rows, bool reach_end);

  // The next range, or nullopt when there is none left. `claimed`, when
  // given, sees each range under the lock, so ranges reach it in order.
  absl::StatusOr<std::optional<Range>> Next(
      const std::function<void(const Range&)>& claimed = nullptr);

 private:
  SqliteTradeStore& store_;
  const int64_t up_to_;
  const int rows_;
  const bool reach_end_;
  std::mutex mu_;
  int64_t after_;
  int64_t seq_ = 0;
  bool done_ = false;
};

}  // namespace tradestore

#endif  // TRADESTORE_SQLITE_ID_RANGES_H_
