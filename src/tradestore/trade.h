// Trade: one execution record, the unit the trade store keeps.
//
// The seven columns of the platform plan (id, symbol, side, quantity, price,
// timestamp, status) plus what an execution store needs: an idempotency key,
// an optional fee, a version that increases on every change, and created and
// updated times. Validation and the status state machine live here, with no
// I/O, so every backend refuses the same things with the same words.
//
// Thread-safety: plain values and pure functions.
#ifndef TRADESTORE_TRADE_H_
#define TRADESTORE_TRADE_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tradestore/decimal.h"
#include "tradestore/timestamp.h"

namespace tradestore {

enum class Side { kBuy, kSell };

// The documented status set. NEW and PARTIALLY_FILLED are open; the other
// four are terminal.
enum class TradeStatus {
  kNew,
  kPartiallyFilled,
  kFilled,
  kCancelled,
  kRejected,
  kExpired,
};

constexpr size_t kMaxSymbolChars = 20;
constexpr size_t kMaxClientOrderIdChars = 64;

struct Trade {
  int64_t id = 0;  // 0 = not yet assigned (Insert assigns one)
  std::string symbol;
  Side side = Side::kBuy;
  Decimal quantity;
  Decimal price;
  Timestamp timestamp;  // when the trade happened, UTC
  TradeStatus status = TradeStatus::kNew;
  // Idempotency key: unique when present. A repeated Insert with the same key
  // returns the trade already stored.
  std::optional<std::string> client_order_id;
  std::optional<Decimal> fee;  // may be negative (a rebate)
  int64_t version = 1;         // set by the store; +1 on every change
  Timestamp created_at;        // set by the store
  Timestamp updated_at;        // set by the store

  friend bool operator==(const Trade&, const Trade&) = default;
};

absl::string_view SideName(Side side);             // "BUY" / "SELL"
absl::string_view StatusName(TradeStatus status);  // "PARTIALLY_FILLED", ...

// Exact, upper-case names only. kInvalidArgument names the value.
absl::StatusOr<Side> ParseSide(absl::string_view text);
absl::StatusOr<TradeStatus> ParseStatus(absl::string_view text);

bool IsTerminal(TradeStatus status);

// OK when `to` may follow `from`: NEW -> any other status; PARTIALLY_FILLED ->
// FILLED, CANCELLED or EXPIRED (or another partial fill); terminal statuses
// never change. The same status is accepted (an idempotent repeat).
// Returns kFailedPrecondition naming both statuses otherwise.
absl::Status CheckTransition(TradeStatus from, TradeStatus to);

// OK without an expected version or when `trade` is at it; kAborted naming
// both versions otherwise (another writer changed it first).
absl::Status CheckExpectedVersion(const Trade& trade,
                                  std::optional<int64_t> expected_version);

// Checks what a caller supplies on Insert; returns kInvalidArgument naming the
// field and the value: symbol 1-20 characters of valid UTF-8 without control
// characters; quantity > 0; price > 0; client_order_id, when present, 1-64
// characters of valid UTF-8. Decimal ranges hold by construction.
absl::Status ValidateTrade(const Trade& trade);

// True when `text` is well-formed UTF-8 (no overlong forms, no surrogates).
// Sets *chars to the number of code points when not null.
bool IsValidUtf8(absl::string_view text, size_t* chars = nullptr);

std::ostream& operator<<(std::ostream& os, Side side);
std::ostream& operator<<(std::ostream& os, TradeStatus status);
std::ostream& operator<<(std::ostream& os, const Trade& trade);

}  // namespace tradestore

#endif  // TRADESTORE_TRADE_H_
