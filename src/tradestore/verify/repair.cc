// verify --repair: the store that is not the source of truth in the
// current phase is made to match the one that is. SQLite stays the source
// of truth while it is written first (through read_postgres); from
// postgres_only on Postgres is (repair_sqlite.h). A row is never deleted
// silently: a row only the other store holds is moved to the quarantine.
#include "absl/strings/str_cat.h"
#include "tradestore/internal/quote.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/postgres/pg_mirror.h"
#include "tradestore/postgres/phase_repository.h"
#include "tradestore/postgres/quarantine_log.h"
#include "tradestore/verify/repair_sqlite.h"
#include "tradestore/verify/verifier_impl.h"

namespace tradestore::verify {
namespace {

constexpr size_t kMaxRepairLog = 1000;

}  // namespace

void Verifier::NoteRepair(std::string line) {
  if (report_.repair_log.size() < kMaxRepairLog) {
    report_.repair_log.push_back(std::move(line));
  }
}

absl::Status Verifier::Repair() {
  TS_ASSIGN_OR_RETURN(const PhaseState phase,
                      PhaseRepository(pool_.get()).Current());
  if (phase.phase == Phase::kArchived) {
    return absl::FailedPreconditionError(
        "the phase is archived: the SQLite file is archived and is not "
        "repaired (nothing was changed)");
  }
  if (options_.repair_dry_run) return DescribeRepairs(phase.phase);
  if (phase.phase == Phase::kPostgresOnly) {
    std::vector<int64_t> ids;
    for (const auto& [kind, id] : comparer_->differences()) ids.push_back(id);
    std::vector<std::string> lines;
    TS_ASSIGN_OR_RETURN(
        const int64_t changed,
        RepairSqliteFromPostgres(*sqlite_, *pool_, ids, &lines));
    report_.repaired += changed;
    for (std::string& line : lines) NoteRepair(std::move(line));
    return absl::OkStatus();
  }
  for (const auto& [kind, id] : comparer_->differences()) {
    TS_RETURN_IF_ERROR(RepairPostgres(id, kind));
  }
  return absl::OkStatus();
}

absl::Status Verifier::DescribeRepairs(Phase phase) {
  for (const auto& [kind, id] : comparer_->differences()) {
    if (phase == Phase::kPostgresOnly) {
      NoteRepair(absl::StrCat("would make SQLite row ", id,
                              " match Postgres, the source of truth"));
      continue;
    }
    TS_ASSIGN_OR_RETURN(auto rows, sqlite_->ScanStoredRows(id - 1, 1, id));
    if (rows.empty()) {
      NoteRepair(absl::StrCat("would move Postgres row ", id,
                              " to trades_quarantine (not in SQLite)"));
    } else if (auto trade = ConvertStoredRow(rows[0], nullptr); !trade.ok()) {
      NoteRepair(absl::StrCat("would quarantine SQLite row ", id, ": ",
                              internal::Escape(trade.status().message())));
    } else {
      NoteRepair(absl::StrCat(
          "would ",
          kind == Comparer::Kind::kMissingInPostgres ? "copy" : "rewrite",
          " row ", id,
          " from SQLite into Postgres (unless Postgres holds a newer "
          "version)"));
    }
  }
  return absl::OkStatus();
}

absl::Status Verifier::RepairPostgres(int64_t id, Comparer::Kind kind) {
  TS_ASSIGN_OR_RETURN(auto rows, sqlite_->ScanStoredRows(id - 1, 1, id));
  QuarantineLog quarantine(pool_.get());
  if (rows.empty()) {
    TS_ASSIGN_OR_RETURN(
        const bool moved,
        quarantine.MoveFromTrades(
            id, "repair: in Postgres but not in SQLite, the source of truth"));
    if (moved) {
      ++report_.repaired;
      NoteRepair(absl::StrCat("moved Postgres row ", id,
                              " to trades_quarantine (not in SQLite)"));
    }
    return absl::OkStatus();
  }
  auto trade = ConvertStoredRow(rows[0], nullptr);
  if (!trade.ok()) {
    // Cannot be copied exactly: quarantined as the backfill would, with any
    // Postgres row of that id kept beside it.
    const std::string reason(trade.status().message());
    TS_RETURN_IF_ERROR(
        quarantine.ReplaceTrade(id, reason, StoredRowJson(rows[0])));
    ++report_.repaired;
    NoteRepair(absl::StrCat("quarantined SQLite row ", id, ": ", reason));
    return absl::OkStatus();
  }
  // The legacy columns as the backfill keeps them; version-guarded, so a
  // newer Postgres row is reported, not overwritten.
  TS_ASSIGN_OR_RETURN(
      const bool written,
      PgMirror(pool_.get()).Rewrite(*trade, ExtraColumnsJson(rows[0])));
  if (written) {
    ++report_.repaired;
    NoteRepair(absl::StrCat(
        kind == Comparer::Kind::kMissingInPostgres ? "copied" : "rewrote",
        " row ", id, " from SQLite into Postgres"));
  } else {
    NoteRepair(absl::StrCat("left row ", id,
                            ": Postgres holds a newer version than SQLite"));
  }
  return absl::OkStatus();
}

}  // namespace tradestore::verify
