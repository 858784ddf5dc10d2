#include "tradestore/trade.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "tradestore/internal/quote.h"

namespace tradestore {
namespace {

constexpr absl::string_view kStatusNames[] = {
    "NEW", "PARTIALLY_FILLED", "FILLED", "CANCELLED", "REJECTED", "EXPIRED"};

absl::Status CheckText(absl::string_view field, absl::string_view value,
                       size_t max_chars) {
  size_t chars = 0;
  if (!IsValidUtf8(value, &chars)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", internal::Quote(value), " is not valid UTF-8"));
  }
  if (chars == 0 || chars > max_chars) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", internal::Quote(value), " must be 1 to ",
                     max_chars, " characters, has ", chars));
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": ", internal::Quote(value),
                       " contains a control character"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::string_view SideName(Side side) {
  return side == Side::kBuy ? "BUY" : "SELL";
}

absl::string_view StatusName(TradeStatus status) {
  return kStatusNames[static_cast<int>(status)];
}

absl::StatusOr<Side> ParseSide(absl::string_view text) {
  if (text == "BUY") return Side::kBuy;
  if (text == "SELL") return Side::kSell;
  return absl::InvalidArgumentError(
      absl::StrCat("side: ", internal::Quote(text), " is not BUY or SELL"));
}

absl::StatusOr<TradeStatus> ParseStatus(absl::string_view text) {
  for (int i = 0; i < 6; ++i) {
    if (text == kStatusNames[i]) return static_cast<TradeStatus>(i);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("status: ", internal::Quote(text),
                   " is not one of NEW, PARTIALLY_FILLED, FILLED, "
                   "CANCELLED, REJECTED, EXPIRED"));
}

bool IsTerminal(TradeStatus status) {
  return status != TradeStatus::kNew && status != TradeStatus::kPartiallyFilled;
}

absl::Status CheckExpectedVersion(const Trade& trade,
                                  std::optional<int64_t> expected_version) {
  if (!expected_version || *expected_version == trade.version) {
    return absl::OkStatus();
  }
  return absl::AbortedError(
      absl::StrCat("trade ", trade.id, " is at version ", trade.version,
                   ", not ", *expected_version,
                   ": another writer changed it; read it and decide "
                   "again"));
}

absl::Status CheckTransition(TradeStatus from, TradeStatus to) {
  if (from == to) return absl::OkStatus();
  const bool allowed =
      from == TradeStatus::kNew ||
      (from == TradeStatus::kPartiallyFilled &&
       (to == TradeStatus::kFilled || to == TradeStatus::kCancelled ||
        to == TradeStatus::kExpired));
  if (allowed) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "status: ", StatusName(from), " -> ", StatusName(to), " is not allowed",
      IsTerminal(from) ? " (terminal status)" : ""));
}

absl::Status ValidateTrade(const Trade& trade) {
  if (auto s = CheckText("symbol", trade.symbol, kMaxSymbolChars); !s.ok()) {
    return s;
  }
  if (!trade.quantity.IsPositive()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "quantity: ", trade.quantity.ToShortString(), " must be > 0"));
  }
  if (!trade.price.IsPositive()) {
    return absl::InvalidArgumentError(
        absl::StrCat("price: ", trade.price.ToShortString(), " must be > 0"));
  }
  if (trade.client_order_id.has_value()) {
    if (auto s = CheckText("client_order_id", *trade.client_order_id,
                           kMaxClientOrderIdChars);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

bool IsValidUtf8(absl::string_view text, size_t* chars) {
  size_t count = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    // Most text is ASCII: eight bytes at a time while none has its top bit.
    uint64_t eight;
    if (end - p >= 8 &&
        (std::memcpy(&eight, p, 8), (eight & 0x8080808080808080ULL) == 0)) {
      p += 8;
      count += 8;
      continue;
    }
    const unsigned char c = *p;
    int len;
    uint32_t cp;
    if (c < 0x80) {
      len = 1;
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p < len) return false;
    for (int k = 1; k < len; ++k) {
      if ((p[k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[k] & 0x3F);
    }
    static constexpr uint32_t kMinForLen[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLen[len] || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    p += len;
    ++count;
  }
  if (chars != nullptr) *chars = count;
  return true;
}

std::ostream& operator<<(std::ostream& os, Side side) {
  return os << SideName(side);
}

std::ostream& operator<<(std::ostream& os, TradeStatus status) {
  return os << StatusName(status);
}

std::ostream& operator<<(std::ostream& os, const Trade& t) {
  os << "Trade{id=" << t.id << " " << t.symbol << " " << t.side << " "
     << t.quantity << "@" << t.price << " " << t.timestamp << " " << t.status
     << " v" << t.version;
  if (t.client_order_id) os << " key=" << *t.client_order_id;
  if (t.fee) os << " fee=" << *t.fee;
  return os << "}";
}

}  // namespace tradestore
