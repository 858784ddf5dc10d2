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

}  // namespace tradestore

#endif  // TRADESTORE_SQLITE_OUTBOX_STATUS_H_
