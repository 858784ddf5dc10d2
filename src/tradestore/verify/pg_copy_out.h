// Streaming trades rows out of Postgres with COPY TO: in the canonical text
// of verify/row_text.h (the archive hashes it), or in binary, decoded into
// Trades (the verifier compares them). Internal to the library.
#ifndef TRADESTORE_VERIFY_PG_COPY_OUT_H_
#define TRADESTORE_VERIFY_PG_COPY_OUT_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tradestore/trade.h"

namespace tradestore {
class PgPool;
namespace pg {
class BinaryCopyReader;
}
}

namespace tradestore::verify {

// Streams `select` (a SELECT of kPgSelectColumns ordered by id) with COPY,
// calling `on_line` per row (without its newline) until it returns false.
// TimeZone and DateStyle are pinned so the text is the canonical form
// whatever the server's settings. `select` must hold no caller text.
absl::Status CopyOut(PgPool& pool, const std::string& select,
                     const std::function<bool(absl::string_view)>& on_line);

// Streams `select` (as above) with binary COPY on `reader`, calling
// `on_trade` per row with the row's id and its trade, or the reason the row
// is not a valid trade. `restart` as in BinaryCopyReader::Run.
absl::Status CopyOutTrades(
    pg::BinaryCopyReader& reader, const std::string& select,
    const std::function<void()>& restart,
    const std::function<void(int64_t id, absl::StatusOr<Trade> trade)>&
        on_trade);

}  // namespace tradestore::verify

#endif  // TRADESTORE_VERIFY_PG_COPY_OUT_H_
