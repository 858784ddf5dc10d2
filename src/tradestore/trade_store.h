// TradeStore: the interface execution-service writes and reads trades
// through. Every backend (SQLite, Postgres) and every composition (the
// dual-write store of the migration) implements it, and one contract test
// suite runs against all of them.
//
// Thread-safety: implementations are safe to call from many threads at once.
//
// Status codes, and what the caller should do:
//   kInvalidArgument     the input is bad (the message names field and value);
//                        nothing changed; do not retry.
//   kFailedPrecondition  refused in the current state (a status change that
//                        makes no sense, a schema that is missing); nothing
//                        changed; fix the state first.
//   kNotFound            no such trade.
//   kAlreadyExists       the id is taken by a different trade.
//   kUnavailable         the store could not be reached within the retry
//                        deadline; nothing changed; safe to retry.
//   kAborted             a conflict with a concurrent writer; nothing
//                        changed; safe to retry.
//   kUnknown             a write's commit outcome could not be established
//                        (connection lost during COMMIT and the lookup that
//                        resolves it failed too). Never retry blindly: look
//                        the trade up by id or client_order_id first. An
//                        Insert with a client_order_id is always safe to
//                        repeat.
//   kDataLoss            a stored row cannot be read exactly (legacy data);
//                        the message names the row and the column.
#ifndef TRADESTORE_TRADE_STORE_H_
#define TRADESTORE_TRADE_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tradestore/timestamp.h"
#include "tradestore/trade.h"

namespace tradestore {

struct InsertResult {
  Trade trade;   // as stored: id, version and times filled in
  bool created;  // false when an existing trade was returned (same key or id)
};

struct SymbolQuery {
  std::string symbol;
  Timestamp from;  // inclusive
  Timestamp to;    // exclusive
  int limit = 100;
};

class TradeStore {
 public:
  virtual ~TradeStore() = default;

  // Stores a new trade and returns it as stored. trade.id == 0 lets the store
  // assign the id; a non-zero id is used as given. version, created_at and
  // updated_at are set by the store. When trade.client_order_id matches a
  // stored trade, that trade is returned with created = false and nothing is
  // written; likewise when trade.id holds the same trade. Returns
  // kInvalidArgument (validation), kAlreadyExists (id holds a different
  // trade), kUnavailable, kUnknown.
  virtual absl::StatusOr<InsertResult> Insert(const Trade& trade) = 0;

  // Moves a trade to `status`, bumps its version and updated_at, and returns
  // it. Setting the status it already has changes nothing and returns it.
  // With `expected_version` the change is made only while the trade is at
  // that version (optimistic concurrency): kAborted otherwise, naming the
  // version it is at; read it and decide again. Returns kNotFound,
  // kFailedPrecondition (transition refused), kAborted, kUnavailable,
  // kUnknown.
  virtual absl::StatusOr<Trade> UpdateStatus(
      int64_t id, TradeStatus status,
      std::optional<int64_t> expected_version) = 0;
  absl::StatusOr<Trade> UpdateStatus(int64_t id, TradeStatus status) {
    return UpdateStatus(id, status, std::nullopt);
  }

  // Returns kNotFound when absent.
  virtual absl::StatusOr<Trade> Get(int64_t id) = 0;
  virtual absl::StatusOr<Trade> GetByClientOrderId(absl::string_view key) = 0;

  // Trades of one symbol with from <= timestamp < to, newest first (ties by
  // id, highest first), at most query.limit (1..10000, else
  // kInvalidArgument).
  virtual absl::StatusOr<std::vector<Trade>> QueryBySymbol(
      const SymbolQuery& query) = 0;

  virtual absl::StatusOr<int64_t> Count() = 0;

  // Up to `limit` trades with id > after_id, in id order: the chunked scan
  // that backfill and verify read. An empty result means the end.
  virtual absl::StatusOr<std::vector<Trade>> ScanById(int64_t after_id,
                                                      int limit) = 0;
};

// True when two trades carry the same business content: everything but the
// store-managed id, version and times.
bool SameContent(const Trade& a, const Trade& b);

}  // namespace tradestore

#endif  // TRADESTORE_TRADE_STORE_H_
