// The migration phase: where it lives (Postgres, mirrored into the SQLite
// file), which moves are allowed, and the gates a forward move must pass.
//
//   sqlite_only -> dual_write -> read_postgres -> postgres_only -> archived
//
// One step at a time. Forward moves into read_postgres and postgres_only are
// gated (backfill completed, a clean full verification younger than
// max_verify_age, a soak in the previous phase of at least min_soak, the
// outbox drained, no unresolved quarantined row); into archived the archive
// must be written and verified. A refusal names every condition that failed.
// `force` with a reason overrides the gates and is recorded. Rolling back
// read_postgres -> dual_write is immediate; postgres_only -> read_postgres
// needs the reverse catch-up first.
#ifndef TRADESTORE_MIGRATION_PHASE_H_
#define TRADESTORE_MIGRATION_PHASE_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tradestore/phase.h"
#include "tradestore/postgres/pg_options.h"
#include "tradestore/timestamp.h"

namespace tradestore {

class SqliteTradeStore;
struct GateFacts;
struct OutboxStatus;

struct GateCheck {
  std::string name;
  bool passed = false;
  std::string detail;  // what was found, and what is needed when it failed
};

struct PhaseMoveOptions {
  std::string sqlite_path;  // the store the gates are about; mirrored into
  Phase target = Phase::kSqliteOnly;
  std::chrono::seconds min_soak = std::chrono::hours(48);
  std::chrono::seconds max_verify_age = std::chrono::hours(24);
  // The outbox gate passes when no entry has waited longer than this.
  std::chrono::milliseconds max_outbox_lag{5000};
  bool dry_run = false;
  bool force = false;
  std::string reason;      // required with force
  std::string changed_by;  // e.g. user@host
};

struct PhaseMoveResult {
  PhaseState before;
  std::optional<PhaseState> after;  // set when the phase moved
  std::vector<GateCheck> gates;
  bool refused = false;
  std::string refusal;         // why, when refused
  std::string mirror_warning;  // set when the SQLite mirror failed
};

class PhaseStore {
 public:
  // Connects and applies missing migrations.
  static absl::StatusOr<std::unique_ptr<PhaseStore>> Open(
      const PgOptions& options);
  ~PhaseStore();

  absl::StatusOr<PhaseState> Current();
  absl::StatusOr<std::vector<PhaseChange>> History();
  // Checks the move and, unless refused or a dry run, makes it (and mirrors
  // it into the SQLite file). A refusal is a result, not an error.
  absl::StatusOr<PhaseMoveResult> Move(const PhaseMoveOptions& options);

 private:
  struct Impl;
  explicit PhaseStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The gates of a forward move into `target` (read_postgres and later),
// decided on what Postgres and the outbox hold: pure, so every rule is
// tested without a database.
std::vector<GateCheck> CheckGates(Phase target, const GateFacts& facts,
                                  const OutboxStatus& outbox, Timestamp now,
                                  const PhaseMoveOptions& options);

}  // namespace tradestore

#endif  // TRADESTORE_MIGRATION_PHASE_H_
