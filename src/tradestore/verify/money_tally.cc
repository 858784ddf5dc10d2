#include "tradestore/verify/money_tally.h"

#include <algorithm>

namespace tradestore::verify {

void MoneyTally::Add(absl::string_view symbol, absl::string_view side,
                     int64_t quantity_units, int64_t price_units) {
  MoneySum* slot = nullptr;
  for (const Recent& r : recent_) {
    if (r.symbol == symbol && r.side == side) {
      slot = r.sum;
      break;
    }
  }
  if (slot == nullptr) {
    auto it = sums_.try_emplace({std::string(symbol), std::string(side)}).first;
    slot = &it->second;
    if (recent_.size() < 64) {
      recent_.push_back({it->first.first, it->first.second, slot});
    }
  }
  MoneySum& sum = *slot;
  ++sum.count;
  const __int128 notional =
      static_cast<__int128>(quantity_units) * static_cast<__int128>(price_units);
  sum.overflow |= __builtin_add_overflow(sum.quantity, quantity_units,
                                         &sum.quantity);
  sum.overflow |= __builtin_add_overflow(sum.notional, notional, &sum.notional);
}

void MoneyTally::Merge(const MoneyTally& other) {
  for (const auto& [key, theirs] : other.sums_) {
    MoneySum& sum = sums_[key];
    sum.count += theirs.count;
    sum.overflow |= theirs.overflow;
    sum.overflow |= __builtin_add_overflow(sum.quantity, theirs.quantity,
                                           &sum.quantity);
    sum.overflow |= __builtin_add_overflow(sum.notional, theirs.notional,
                                           &sum.notional);
  }
}

std::string ScaledToString(__int128 value, int scale) {
  const bool negative = value < 0;
  unsigned __int128 magnitude =
      negative ? -static_cast<unsigned __int128>(value) : value;
  std::string digits;
  do {
    digits.push_back(static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  } while (magnitude != 0);
  while (digits.size() < static_cast<size_t>(scale) + 1) digits.push_back('0');
  std::reverse(digits.begin(), digits.end());
  digits.insert(digits.size() - scale, ".");
  return negative ? "-" + digits : digits;
}

}  // namespace tradestore::verify
