// The relay's progress as tradestore_meta keeps it: written in each ack's
// own transaction, read back read-only by `tradestore status`. The keys
// live here alone, so the writer and the reader cannot drift apart.
#ifndef TRADESTORE_SQLITE_RELAY_PROGRESS_H_
#define TRADESTORE_SQLITE_RELAY_PROGRESS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tradestore/sqlite/outbox_status.h"
#include "tradestore/sqlite/sqlite_handle.h"

namespace tradestore::sqlite {

// Records `ack` of `acked` entries, the last through `through_seq`; the
// total adds up across processes and restarts, the seq only grows. Inside
// the ack's write transaction.
absl::Status RecordRelayAck(SqliteDb& db, const RelayAck& ack, int64_t acked,
                            int64_t through_seq);

// An SQL expression: the highest outbox seq given out so far, in a file
// whose outbox has no AUTOINCREMENT. Its entries are deleted once acked, so
// the acked seq the ack records is the floor when the outbox is empty.
const std::string& LastOutboxSeqSql();

// Nullopt when no relay has acked; kDataLoss naming the key when a value
// does not parse.
absl::StatusOr<std::optional<RelayProgress>> ReadRelayProgress(SqliteDb& db);

}  // namespace tradestore::sqlite

#endif  // TRADESTORE_SQLITE_RELAY_PROGRESS_H_
