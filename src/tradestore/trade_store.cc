#include "tradestore/trade_store.h"

namespace tradestore {

bool SameContent(const Trade& a, const Trade& b) {
  return a.symbol == b.symbol && a.side == b.side && a.quantity == b.quantity &&
         a.price == b.price && a.timestamp == b.timestamp &&
         a.status == b.status && a.client_order_id == b.client_order_id &&
         a.fee == b.fee;
}

}  // namespace tradestore
