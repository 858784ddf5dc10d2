// What `tradestore status` reads of a SQLite store, read-only: the file is
// never upgraded or written, so the report job and the operator may look
// at a live store (or a read-only copy of it) safely.
//
// Thread-safety: a function.
#ifndef TRADESTORE_SQLITE_STORE_FACTS_H_
#define TRADESTORE_SQLITE_STORE_FACTS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "tradestore/phase.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore {

struct SqliteStoreFacts {
  std::string store_id;  // "" for a legacy file tradestore never opened
  // tradestore's schema version (kSqliteSchemaVersion once prepared); 0
  // for a legacy file.
  int64_t schema_version = 0;
  std::optional<PhaseState> mirrored_phase;
  std::optional<OutboxStatus> outbox;  // nullopt without tradestore's tables
  std::optional<RelayProgress> relay;  // nullopt until a relay acks
};

// kNotFound (no such file), kDataLoss (not a database).
absl::StatusOr<SqliteStoreFacts> ReadSqliteStoreFacts(const std::string& path);

}  // namespace tradestore

#endif  // TRADESTORE_SQLITE_STORE_FACTS_H_
