#include "tradestore/migration/reverse_catch_up.h"

#include "tradestore/internal/failpoint.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/postgres/pg_mirror.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore {

Timestamp CatchUpSince(Timestamp switched_at) {
  constexpr int64_t kMarginMicros = int64_t{5} * 60 * 1000000;
  return Timestamp::FromUnixMicros(switched_at.unix_micros() - kMarginMicros)
      .value_or(Timestamp());
}

absl::StatusOr<CatchUpResult> ReverseCatchUp(PgMirror& pg,
                                             SqliteTradeStore& sqlite,
                                             Timestamp switched_at) {
  constexpr int kBatch = 5000;
  CatchUpResult result;
  result.since = CatchUpSince(switched_at);
  const Timestamp since = result.since;
  int64_t after_id = 0;
  for (;;) {
    TS_ASSIGN_OR_RETURN(auto trades, pg.ChangedSince(since, after_id, kBatch));
    if (trades.empty()) return result;
    TS_ASSIGN_OR_RETURN(int64_t written, sqlite.PutIfNewer(trades));
    result.written += written;
    result.read += static_cast<int64_t>(trades.size());
    after_id = trades.back().id;
    internal::Failpoint("reverse_catch_up.after_batch");
  }
}

}  // namespace tradestore
