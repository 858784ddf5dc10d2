#include "tradestore/verify/money_tally.h"

#include <algorithm>
#include <cstring>

namespace tradestore::verify {

MoneyTally::Head::Head(absl::string_view s) : size(s.size()) {
  if (!s.empty())
    std::memcpy(&bytes, s.data(), std::min(s.size(), sizeof bytes));
}

void MoneyTally::Add(absl::string_view symbol, absl::string_view side,
                     int64_t quantity_units, int64_t price_units) {
  const Head symbol_head(symbol), side_head(side);
  MoneySum* slot = nullptr;
  for (const Recent& r : recent_) {
    if (r.symbol_head == symbol_head && r.side_head == side_head &&
        (symbol.size() <= sizeof(uint64_t) || r.symbol == symbol) &&
        (side.size() <= sizeof(uint64_t) || r.side == side)) {
      slot = r.sum;
      break;
    }
  }
  if (slot == nullptr) {
    auto it = sums_.try_emplace({std::string(symbol), std::string(side)}).first;
    slot = &it->second;
    if (recent_.size() < 64) {
      recent_.push_back(
          {symbol_head, side_head, it->first.first, it->first.second, slot});
    }
  }
  MoneySum& sum = *slot;
  ++sum.count;
  const __int128 notional = static_cast<__int128>(quantity_units) *
                            static_cast<__int128>(price_units);
  sum.overflow |=
      __builtin_add_overflow(sum.quantity, quantity_units, &sum.quantity);
  sum.overflow |= __builtin_add_overflow(sum.notional, notional, &sum.notional);
}

void MoneyTally::Merge(const MoneyTally& other) {
  for (const auto& [key, theirs] : other.sums_) {
    MoneySum& sum = sums_[key];
    sum.count += theirs.count;
    sum.overflow |= theirs.overflow;
    sum.overflow |=
        __builtin_add_overflow(sum.quantity, theirs.quantity, &sum.quantity);
    sum.overflow |=
        __builtin_add_overflow(sum.notional, theirs.notional, &sum.notional);
  }
}

void MoneyTally::Subtract(const MoneyTally& other) {
  for (const auto& [key, theirs] : other.sums_) {
    MoneySum& sum = sums_[key];
    sum.count -= theirs.count;
    sum.overflow |= theirs.overflow;
    sum.overflow |=
        __builtin_sub_overflow(sum.quantity, theirs.quantity, &sum.quantity);
    sum.overflow |=
        __builtin_sub_overflow(sum.notional, theirs.notional, &sum.notional);
    if (sum.count == 0 && sum.quantity == 0 && sum.notional == 0 &&
        !sum.overflow) {
      sums_.erase(key);
    }
  }
  // Keys may have gone: the shortcut to them must not outlive them.
  recent_.clear();
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
  const size_t point = digits.size() - static_cast<size_t>(scale);
  std::string out = negative ? "-" : "";
  out.append(digits, 0, point);
  out += '.';
  out.append(digits, point, std::string::npos);
  return out;
}

std::string ShortDecimal(const std::string& decimal) {
  if (decimal.find('.') == std::string::npos) return decimal;
  size_t end = decimal.find_last_not_of('0');
  if (decimal[end] == '.') --end;
  return decimal.substr(0, end + 1);
}

}  // namespace tradestore::verify
