// Where the migration phase lives in Postgres (migration_phase and its
// history) and the facts its gates are decided on: the backfill checkpoint,
// the verification runs, the quarantine and the archives of a store. The
// decisions are migration/phase.h's; this class only reads and records.
//
// Thread-safety: safe for concurrent use (each call takes its own pooled
// connection); two Moves at once are serialised by the phase row's lock.
#ifndef TRADESTORE_POSTGRES_PHASE_REPOSITORY_H_
#define TRADESTORE_POSTGRES_PHASE_REPOSITORY_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tradestore/phase.h"

namespace tradestore {

class PgPool;

// What the gates of a forward move look at, read in the move's transaction.
struct GateFacts {
  struct Backfill {
    bool completed = false;
    int64_t last_id = 0, high_water_id = 0;
  };
  struct Verification {
    int64_t run_id = 0;
    bool clean = false;
    int64_t age_s = 0;
    int64_t differences = 0;
  };
  struct Archive {
    std::string path;
    bool verified = false;
    bool after_phase_change = false;  // taken since the phase last moved
    int64_t rows = 0;
  };
  std::optional<Backfill> backfill;         // of this store
  std::optional<Verification> latest;       // its latest run of any kind
  std::optional<Verification> latest_full;  // its latest full run
  std::optional<Archive> archive;           // its latest archive
  int64_t soak_s = 0;                       // time in the current phase
  int64_t unresolved_quarantine = 0;
};

// A move decided on: recorded as the next version.
struct PhaseDecision {
  Phase to = Phase::kSqliteOnly;
  std::string changed_by;
  std::string reason;
  bool forced = false;
  std::string gates_json;  // the gate report, kept with the history entry
};

class PhaseRepository {
 public:
  // `pool` must outlive the repository.
  explicit PhaseRepository(PgPool* pool) : pool_(pool) {}

  absl::StatusOr<PhaseState> Current();
  absl::StatusOr<std::vector<PhaseChange>> History();

  // In one transaction holding the phase row: reads the phase and the gate
  // facts of store `store_id`, calls `decide`, and records what it decides
  // (nullopt: nothing). Returns the state after the move, or nullopt when
  // nothing moved. `decide` may run more than once (a retried
  // transaction), so it must not act outside its result.
  using Decide = std::function<absl::StatusOr<std::optional<PhaseDecision>>(
      const PhaseState& before, const GateFacts& facts)>;
  absl::StatusOr<std::optional<PhaseState>> Move(const std::string& store_id,
                                                 const Decide& decide);

 private:
  PgPool* pool_;
};

}  // namespace tradestore

#endif  // TRADESTORE_POSTGRES_PHASE_REPOSITORY_H_
