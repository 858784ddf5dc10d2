// OutboxStatus: the dual-write outbox's depth and age, as the embedded
// store reports it (PhasedTradeStore::GetOutboxStatus).
#ifndef TRADESTORE_SQLITE_OUTBOX_STATUS_H_
#define TRADESTORE_SQLITE_OUTBOX_STATUS_H_

#include <cstdint>
#include <optional>

#include "tradestore/timestamp.h"

namespace tradestore {

struct OutboxStatus {
  int64_t entries = 0;
  std::optional<Timestamp> oldest;  // enqueued_at of the oldest entry
  int64_t oldest_seq = 0;           // its seq, 0 when empty
  int64_t last_seq = 0;             // the highest seq ever given, 0 if none
};

// What the relay records with each ack, in the ack's own transaction, so
// that `tradestore status` can show the relay of any process.
struct RelayAck {
  Timestamp at;
  double rate_per_s = 0;  // entries applied per second, over the last minute
  int64_t lag_ms = 0;     // the batch's longest enqueue-to-applied delay
};

// The latest ack as recorded, with the entries acked in all.
struct RelayProgress {
  RelayAck last;
  int64_t acked_total = 0;
};

}  // namespace tradestore

#endif  // TRADESTORE_SQLITE_OUTBOX_STATUS_H_
