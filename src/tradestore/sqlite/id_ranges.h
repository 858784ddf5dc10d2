// IdRanges: cuts the ids after_id < id <= up_to_id of a SQLite store into
// consecutive ranges of at most `rows` rows each, numbered 0, 1, 2, ...,
// so that several threads can read one scan side by side (each range on its
// own reader connection) while the consumers take the ranges in order (see
// internal::OrderedQueue).
//
// Counting `rows` rowids reads every page of the table once more (a tenth
// of a backfill's or a full verify's client CPU). Where ids are dense, a
// range is instead `rows` ids wide from the next id (one b-tree seek): it
// holds at most `rows` rows, since ids are distinct integers. Every
// kProbeEvery-th cut counts, and says whether the ids there are dense (at
// least every second id a row); sparse ids are counted until a count finds
// them dense again, so ranges never shrink to a few rows each.
//
// Thread-safety: Next may be called from any number of threads.
#ifndef TRADESTORE_SQLITE_ID_RANGES_H_
#define TRADESTORE_SQLITE_ID_RANGES_H_

#include <cstdint>
#include <functional>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "tradestore/internal/mutex.h"
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
  static constexpr int kProbeEvery = 8;

  SqliteTradeStore& store_;
  const int64_t up_to_;
  const int rows_;
  const bool reach_end_;
  internal::Mutex mu_;
  int64_t after_ ABSL_GUARDED_BY(mu_);
  int64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  // What the last count found.
  bool dense_ ABSL_GUARDED_BY(mu_) = false;
  // Cuts by id arithmetic before the next count.
  int until_count_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tradestore

#endif  // TRADESTORE_SQLITE_ID_RANGES_H_
