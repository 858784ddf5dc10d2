// Exact money totals per symbol and side: count, sum(quantity) and
// sum(quantity x price), in 128-bit fixed point (scales 8 and 16), so a
// reader sees at a glance whether the money in the two stores adds up.
#ifndef TRADESTORE_VERIFY_MONEY_TALLY_H_
#define TRADESTORE_VERIFY_MONEY_TALLY_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace tradestore::verify {

struct MoneySum {
  int64_t count = 0;
  __int128 quantity = 0;  // units of 1e-8
  __int128 notional = 0;  // units of 1e-16
  bool overflow = false;
};

class MoneyTally {
 public:
  MoneyTally() = default;
  // A copy has the sums only: the shortcut to recent keys points into the
  // original's map.
  MoneyTally(const MoneyTally& other) : sums_(other.sums_) {}
  MoneyTally& operator=(const MoneyTally& other) {
    sums_ = other.sums_;
    recent_.clear();
    return *this;
  }
  MoneyTally(MoneyTally&&) = default;
  MoneyTally& operator=(MoneyTally&&) = default;

  void Add(absl::string_view symbol, absl::string_view side,
           int64_t quantity_units, int64_t price_units);
  // Adds another tally's sums into this one.
  void Merge(const MoneyTally& other);
  // Takes out another tally's sums, which this one holds; a key whose rows
  // are all taken out goes.
  void Subtract(const MoneyTally& other);

  const std::map<std::pair<std::string, std::string>, MoneySum>& sums() const {
    return sums_;
  }

 private:
  // A key's length and first 8 bytes: tells most keys apart without a
  // memcmp call (a scan adds a million rows over a dozen keys).
  struct Head {
    uint64_t bytes = 0;
    size_t size = 0;
    explicit Head(absl::string_view s);
    bool operator==(const Head&) const = default;
  };
  struct Recent {
    Head symbol_head, side_head;
    absl::string_view symbol, side;  // the key in sums_ (map nodes stay put)
    MoneySum* sum;
  };
  std::map<std::pair<std::string, std::string>, MoneySum> sums_;
  // The first keys seen, searched before the map: a store has few symbols,
  // and Add runs once per row.
  std::vector<Recent> recent_;
};

// `value` / 10^scale as decimal text with all `scale` places.
std::string ScaledToString(__int128 value, int scale);

// "12.34500000" -> "12.345", "5.00000000" -> "5": the same number, shorter.
std::string ShortDecimal(const std::string& decimal);

}  // namespace tradestore::verify

#endif  // TRADESTORE_VERIFY_MONEY_TALLY_H_
