#include "tradestore/sqlite/id_ranges.h"

#include "tradestore/internal/status_macros.h"

namespace tradestore {

IdRanges::IdRanges(SqliteTradeStore& store, int64_t after_id, int64_t up_to_id,
                   int rows, bool reach_end)
    : store_(store),
      up_to_(up_to_id),
      rows_(rows < 1 ? 1 : rows),
      reach_end_(reach_end),
      after_(after_id) {}

absl::StatusOr<std::optional<IdRanges::Range>> IdRanges::Next(
    const std::function<void(const Range&)>& claimed) {
  internal::ScopedLock lock(mu_);
  if (done_ || after_ >= up_to_) return std::nullopt;
  int64_t last = 0;
  if (dense_ && until_count_ > 0) {
    --until_count_;
    TS_ASSIGN_OR_RETURN(const int64_t first, store_.NextId(after_, up_to_));
    if (first != 0) {
      last = first > up_to_ - rows_ + 1 ? up_to_ : first - 1 + rows_;
    }
  } else {
    TS_ASSIGN_OR_RETURN(last, store_.BatchEnd(after_, rows_, up_to_));
    dense_ = last > after_ && last - after_ <= 2 * int64_t{rows_};
    until_count_ = kProbeEvery - 1;
  }
  if (last <= after_) {  // no row left in the store
    done_ = true;
    if (!reach_end_) return std::nullopt;
    last = up_to_;
  }
  const Range range{seq_++, after_, last};
  after_ = last;
  if (claimed) claimed(range);
  return range;
}

}  // namespace tradestore
