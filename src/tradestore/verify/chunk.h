// The rows of one store a verify run holds at a time, in id order: as
// Trades (Chunk) or, for a full scan's SQLite side, already encoded as
// Postgres would send them (EncodedChunk), so most rows are compared as
// bytes. Internal to the verifier.
//
// Thread-safety: a chunk belongs to one thread at a time.
#ifndef TRADESTORE_VERIFY_CHUNK_H_
#define TRADESTORE_VERIFY_CHUNK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "tradestore/postgres/copy_out.h"
#include "tradestore/postgres/trade_copy.h"
#include "tradestore/sqlite/legacy_row.h"
#include "tradestore/trade.h"
#include "tradestore/verify/extra_text.h"
#include "tradestore/verify/money_tally.h"

namespace tradestore::verify {

// One store's side of a row in a comparison: absent, a trade and its
// legacy extra columns (as jsonb prints them, "" for NULL), or a row that
// is not a valid trade (then `reason` says why).
struct Seen {
  bool present = false;
  const Trade* trade = nullptr;
  const std::string* extra = nullptr;  // set with trade
  absl::string_view reason;
};

// Rows of one store, in id order: each a trade with its extra, or why it
// is not one.
struct Chunk : pg::TradeSink {
  struct Row {
    int64_t id;
    int32_t trade;   // index into trades and extras, or -1
    int32_t reason;  // index into reasons when the row is unreadable, or -1
  };
  std::vector<Row> rows;
  std::vector<Trade> trades;
  std::vector<std::string> extras;
  std::vector<std::string> reasons;
  // A SQLite row, read by the backfill's rules.
  void Add(const StoredRow& row) {
    const Slot slot = Next(row.id);
    if (absl::Status s = ConvertStoredRowInto(row, nullptr, *slot.trade);
        !s.ok()) {
      Unreadable(row.id, s);
      return;
    }
    // Most stores have no legacy columns: extra stays NULL ("").
    if (!row.extra.empty()) *slot.extra = verify::ExtraJsonbText(row);
  }
  void AddUnreadable(int64_t id, std::string why) {
    rows.push_back({id, -1, static_cast<int32_t>(reasons.size())});
    reasons.push_back(std::move(why));
  }
  Slot Next(int64_t id) override {
    rows.push_back({id, static_cast<int32_t>(trades.size()), -1});
    return {&trades.emplace_back(), &extras.emplace_back()};
  }
  void Unreadable(int64_t id, const absl::Status& why) override {
    trades.pop_back();
    extras.pop_back();
    rows.back() = {id, -1, static_cast<int32_t>(reasons.size())};
    reasons.emplace_back(why.message());
  }
  // Empties the chunk, keeping its capacity.
  void Restart() override {
    rows.clear();
    trades.clear();
    extras.clear();
    reasons.clear();
  }
  void Append(Chunk&& other) {
    for (const Row& row : other.rows) {
      if (row.trade >= 0) {
        const Slot slot = Next(row.id);
        *slot.trade = std::move(other.trades[row.trade]);
        *slot.extra = std::move(other.extras[row.trade]);
      } else {
        AddUnreadable(row.id, std::move(other.reasons[row.reason]));
      }
    }
  }
  Seen At(const Row& row) const {
    if (row.trade < 0) return {true, nullptr, nullptr, reasons[row.reason]};
    return {true, &trades[row.trade], &extras[row.trade], {}};
  }
};

// A full scan's SQLite rows with each trade kept only as Postgres would
// send it (pg::AppendTradeRow), never as a Trade of its own: the merge
// compares bytes, and decodes a row back where it differs.
struct EncodedChunk {
  std::vector<Chunk::Row> rows;  // `trade` indexes ends
  std::vector<std::string> reasons;
  std::string encoded;
  std::vector<size_t> ends;  // trade i is encoded[ends[i - 1], ends[i])

  // A SQLite row, read by the backfill's rules into `scratch` (reused from
  // row to row, so its strings keep their room), tallied in `money` and
  // encoded.
  void Add(const StoredRow& row, Trade& scratch, MoneyTally* money);
  void AddUnreadable(int64_t id, absl::string_view why) {
    rows.push_back({id, -1, static_cast<int32_t>(reasons.size())});
    reasons.emplace_back(why);
  }
  // A trade already converted, its extra as jsonb prints it ("" for NULL).
  void AddTrade(int64_t id, const Trade& trade, absl::string_view extra) {
    rows.push_back({id, static_cast<int32_t>(ends.size()), -1});
    pg::AppendTradeRow(&encoded, trade, extra);
    ends.push_back(encoded.size());
  }
  // Empties the chunk, keeping its capacity.
  void Restart() {
    rows.clear();
    reasons.clear();
    encoded.clear();
    ends.clear();
  }
  // Room for `count` rows of `row_bytes` each.
  void Reserve(size_t count, size_t row_bytes) {
    rows.reserve(count);
    ends.reserve(count);
    encoded.reserve(count * row_bytes);
  }
  absl::string_view EncodedOf(const Chunk::Row& row) const {
    return pg::RowAt(encoded, ends, static_cast<size_t>(row.trade));
  }
};

inline void TallyTrade(const Trade& t, MoneyTally* tally) {
  tally->Add(t.symbol, SideName(t.side), t.quantity.units(), t.price.units());
}

inline void TallyTrades(const Chunk& chunk, MoneyTally* tally) {
  for (const Trade& t : chunk.trades) TallyTrade(t, tally);
}

inline void EncodedChunk::Add(const StoredRow& row, Trade& scratch,
                              MoneyTally* money) {
  if (absl::Status s = ConvertStoredRowInto(row, nullptr, scratch); !s.ok()) {
    AddUnreadable(row.id, s.message());
    return;
  }
  TallyTrade(scratch, money);
  std::string extra;  // NULL ("") in most stores
  if (!row.extra.empty()) extra = ExtraJsonbText(row);
  AddTrade(row.id, scratch, extra);
}

}  // namespace tradestore::verify

#endif  // TRADESTORE_VERIFY_CHUNK_H_
