// Streaming trades rows out of Postgres with COPY TO: in the canonical text
// of verify/row_text.h (the archive hashes it), or in binary, decoded into
// Trades (the verifier compares them). Internal to the library.
#ifndef TRADESTORE_POSTGRES_COPY_OUT_H_
#define TRADESTORE_POSTGRES_COPY_OUT_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tradestore/trade.h"

namespace tradestore {
class PgPool;
namespace pg {
class BinaryCopyReader;
}
}  // namespace tradestore

namespace tradestore::pg {

// Streams the trades with first_id <= id <= last_id, in id order, in the
// canonical text of row_text.h, as CopyOut.
absl::Status CopyOutTradeLines(
    PgPool& pool, int64_t first_id, int64_t last_id,
    const std::function<bool(absl::string_view)>& on_line);

// Where CopyOutTrades puts the rows it reads.
class TradeSink {
 public:
  // Where a row goes: its trade, and its extra column's text ("" for NULL).
  struct Slot {
    Trade* trade;
    std::string* extra;
  };
  virtual ~TradeSink() = default;
  // Where to decode row `id` into, in place (a scan reads millions).
  virtual Slot Next(int64_t id) = 0;
  // The row Next was last called for is not a valid trade, for `why`.
  virtual void Unreadable(int64_t id, const absl::Status& why) = 0;
  // The copy starts again after a reconnect: drop what came so far.
  virtual void Restart() = 0;
};

// Which trades rows a read takes: ranges of ids (inclusive) and single ids;
// the rows come in id order.
struct IdSelection {
  std::vector<std::pair<int64_t, int64_t>> ranges;  // first, last
  std::vector<int64_t> ids;
};

// Streams the selected rows (of kPgVerifyColumns) with binary COPY on a
// connection of the pool into `sink`: each row decoded into a Trade and its
// extra, or reported unreadable with the reason. For short reads, which
// then need no connection (no server process) of their own.
absl::Status CopyOutTrades(PgPool& pool, const IdSelection& selection,
                           TradeSink& sink);

// Row i of rows packed end to end in `bytes`, row i ending at ends[i].
inline absl::string_view RowAt(absl::string_view bytes,
                               const std::vector<size_t>& ends, size_t i) {
  const size_t begin = i == 0 ? 0 : ends[i - 1];
  return bytes.substr(begin, ends[i] - begin);
}

// Rows of a binary COPY kept as Postgres sent them (BinaryRow::raw), for
// comparing with pg::AppendTradeRow's bytes; decoded only where they differ.
struct RawRows {
  std::vector<int64_t> ids;
  std::vector<size_t> ends;  // row i is bytes[ends[i - 1], ends[i])
  std::string bytes;

  size_t size() const { return ids.size(); }
  absl::string_view row(size_t i) const { return RowAt(bytes, ends, i); }
};

// Streams the rows with after_id < id <= last_id (of kPgVerifyColumns,
// as above) with binary COPY on `reader` into `rows`.
absl::Status CopyOutRawRows(pg::BinaryCopyReader& reader, int64_t after_id,
                            int64_t last_id, RawRows& rows);

// Decodes a row RawRows holds (of kPgVerifyColumns) into `t`, and its
// extra into `extra` (jsonb text, "" for NULL); when it is not a valid
// trade, the status says why (as CopyOutTrades reports it).
absl::Status DecodeRawTrade(absl::string_view raw, Trade& t,
                            std::string& extra);

}  // namespace tradestore::pg

#endif  // TRADESTORE_POSTGRES_COPY_OUT_H_
