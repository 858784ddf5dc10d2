// The migration phase mirrored into the SQLite file (tradestore_meta:
// phase, phase_version, phase_changed_at), so a service restarted while
// Postgres is down still knows the phase.
//
// Thread-safety: functions; each opens what it needs.
#ifndef TRADESTORE_SQLITE_PHASE_MIRROR_H_
#define TRADESTORE_SQLITE_PHASE_MIRROR_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "tradestore/phase.h"

namespace tradestore {

class SqliteTradeStore;

// Writes `state` into the store's tradestore_meta.
absl::Status MirrorPhaseIntoSqlite(SqliteTradeStore& store,
                                   const PhaseState& state);
absl::Status MirrorPhaseIntoSqlite(const std::string& sqlite_path,
                                   const PhaseState& state);

// The phase as mirrored in the file, if it was ever mirrored; read-only.
// kDataLoss when a mirrored value is not what was written there.
absl::StatusOr<std::optional<PhaseState>> ReadSqlitePhase(
    const std::string& sqlite_path);

}  // namespace tradestore

#endif  // TRADESTORE_SQLITE_PHASE_MIRROR_H_
