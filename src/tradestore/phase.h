// The migration phase: which store takes the writes and serves the reads.
//
//   sqlite_only -> dual_write -> read_postgres -> postgres_only -> archived
//
// Plain values with no I/O; where the phase lives and how it moves is in
// migration/phase.h.
//
// Thread-safety: plain values and pure functions.
#ifndef TRADESTORE_PHASE_H_
#define TRADESTORE_PHASE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tradestore/timestamp.h"

namespace tradestore {

enum class Phase {
  kSqliteOnly,
  kDualWrite,
  kReadPostgres,
  kPostgresOnly,
  kArchived
};

const char* PhaseName(Phase phase);
// Returns kInvalidArgument naming the text and the phases.
absl::StatusOr<Phase> ParsePhase(absl::string_view text);

struct PhaseState {
  Phase phase = Phase::kSqliteOnly;
  int64_t version = 0;
  std::string changed_by;
  Timestamp changed_at;
  std::string reason;
};

struct PhaseChange {  // a history entry
  int64_t version = 0;
  std::optional<Phase> from;
  Phase to = Phase::kSqliteOnly;
  std::string changed_by;
  Timestamp changed_at;
  std::string reason;
  bool forced = false;
};

}  // namespace tradestore

#endif  // TRADESTORE_PHASE_H_
