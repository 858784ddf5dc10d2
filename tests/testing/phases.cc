#include "testing/phases.h"

#include <sstream>

#include "testing/pg_environment.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/migration/phase.h"

namespace tradestore::testing {

absl::StatusOr<BackfillReport> Backfill(const std::string& sqlite_path,
                                        const std::string& dsn,
                                        std::string* log) {
  BackfillOptions options;
  options.sqlite_path = sqlite_path;
  options.pg = TestPgOptions(dsn);
  std::ostringstream out;
  auto report = RunBackfill(options, out);
  if (log != nullptr) *log = out.str();
  return report;
}

absl::Status ForcePhaseUpTo(const PgOptions& pg, const std::string& sqlite_path,
                            Phase target, const std::string& reason) {
  TS_ASSIGN_OR_RETURN(auto phases, PhaseStore::Open(pg));
  for (Phase p :
       {Phase::kDualWrite, Phase::kReadPostgres, Phase::kPostgresOnly}) {
    if (static_cast<int>(p) > static_cast<int>(target)) break;
    PhaseMoveOptions move;
    move.sqlite_path = sqlite_path;
    move.target = p;
    move.force = true;
    move.reason = reason;
    TS_ASSIGN_OR_RETURN(auto moved, phases->Move(move));
    if (!moved.after.has_value()) {
      return absl::FailedPreconditionError(moved.refusal);
    }
  }
  return absl::OkStatus();
}

}  // namespace tradestore::testing
