#include "tradestore/postgres/phase_repository.h"

#include "absl/strings/str_cat.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/postgres/pg_transact.h"

namespace tradestore {
namespace {

Timestamp FromMicros(const pqxx::field& f) {
  return Timestamp::FromUnixMicros(f.as<int64_t>()).value_or(Timestamp());
}

absl::StatusOr<PhaseState> ReadState(pqxx::work& txn, bool for_update) {
  const pqxx::result r = txn.exec(absl::StrCat(
      "SELECT phase, version, changed_by, (extract(epoch FROM changed_at) * "
      "1000000)::int8, reason FROM migration_phase",
      for_update ? " FOR UPDATE" : ""));
  if (r.empty()) {
    return absl::FailedPreconditionError("migration_phase is empty");
  }
  PhaseState s;
  TS_ASSIGN_OR_RETURN(s.phase, ParsePhase(r[0][0].as<std::string>()));
  s.version = r[0][1].as<int64_t>();
  s.changed_by = r[0][2].as<std::string>();
  s.changed_at = FromMicros(r[0][3]);
  s.reason = r[0][4].as<std::string>();
  return s;
}

std::optional<GateFacts::Verification> ReadVerification(const pqxx::result& r) {
  if (r.empty()) return std::nullopt;
  return GateFacts::Verification{r[0][0].as<int64_t>(), r[0][1].as<bool>(),
                                 r[0][2].as<int64_t>(), r[0][3].as<int64_t>()};
}

GateFacts ReadFacts(pqxx::work& txn, const std::string& store_id) {
  GateFacts facts;
  if (const pqxx::result r = txn.exec_params(
          "SELECT completed_at IS NOT NULL, last_id, high_water_id FROM "
          "backfill_checkpoints WHERE source_store_id = $1",
          store_id);
      !r.empty()) {
    facts.backfill = GateFacts::Backfill{
        r[0][0].as<bool>(), r[0][1].as<int64_t>(), r[0][2].as<int64_t>()};
  }
  constexpr const char* kRun =
      "SELECT id, clean, extract(epoch FROM now() - finished_at)::int8, "
      "mismatched + missing_in_postgres + missing_in_sqlite FROM "
      "verification_runs WHERE source_store_id = $1 ";
  facts.latest = ReadVerification(txn.exec_params(
      absl::StrCat(kRun, "ORDER BY finished_at DESC, id DESC LIMIT 1"),
      store_id));
  facts.latest_full = ReadVerification(txn.exec_params(
      absl::StrCat(kRun,
                   "AND covers_all_rows ORDER BY finished_at DESC, id DESC "
                   "LIMIT 1"),
      store_id));
  if (const pqxx::result r = txn.exec_params(
          "SELECT a.path, a.verified, a.created_at >= p.changed_at, "
          "a.row_count FROM archives a, migration_phase p WHERE "
          "a.source_store_id = $1 ORDER BY a.created_at DESC, a.id DESC "
          "LIMIT 1",
          store_id);
      !r.empty()) {
    facts.archive =
        GateFacts::Archive{r[0][0].as<std::string>(), r[0][1].as<bool>(),
                           r[0][2].as<bool>(), r[0][3].as<int64_t>()};
  }
  facts.soak_s = txn.exec(
                        "SELECT extract(epoch FROM now() - changed_at)::int8 "
                        "FROM migration_phase")[0][0]
                     .as<int64_t>();
  facts.unresolved_quarantine =
      txn.exec(
             "SELECT count(*) FROM trades_quarantine WHERE resolution IS "
             "NULL")[0][0]
          .as<int64_t>();
  return facts;
}

}  // namespace

absl::StatusOr<PhaseState> PhaseRepository::Current() {
  PhaseState state;
  TS_RETURN_IF_ERROR(pg::Transact(
      *pool_,
      [&](pqxx::work& txn) -> absl::Status {
        TS_ASSIGN_OR_RETURN(state, ReadState(txn, false));
        return absl::OkStatus();
      },
      PgPool::Kind::kRead));
  return state;
}

absl::StatusOr<std::vector<PhaseChange>> PhaseRepository::History() {
  std::vector<PhaseChange> history;
  TS_RETURN_IF_ERROR(pg::Transact(
      *pool_,
      [&](pqxx::work& txn) -> absl::Status {
        history.clear();
        for (const auto& row : txn.exec(
                 "SELECT version, from_phase, to_phase, changed_by, "
                 "(extract(epoch FROM changed_at) * 1000000)::int8, reason, "
                 "forced FROM migration_phase_history ORDER BY version")) {
          PhaseChange c;
          c.version = row[0].as<int64_t>();
          if (!row[1].is_null()) {
            TS_ASSIGN_OR_RETURN(c.from, ParsePhase(row[1].as<std::string>()));
          }
          TS_ASSIGN_OR_RETURN(c.to, ParsePhase(row[2].as<std::string>()));
          c.changed_by = row[3].as<std::string>();
          c.changed_at = FromMicros(row[4]);
          c.reason = row[5].as<std::string>();
          c.forced = row[6].as<bool>();
          history.push_back(std::move(c));
        }
        return absl::OkStatus();
      },
      PgPool::Kind::kRead));
  return history;
}

absl::StatusOr<std::optional<PhaseState>> PhaseRepository::Move(
    const std::string& store_id, const Decide& decide) {
  std::optional<PhaseState> after;
  TS_RETURN_IF_ERROR(pg::Transact(*pool_, [&](pqxx::work& txn) -> absl::Status {
    after.reset();
    // FOR UPDATE: two operators moving at once are serialised, and the
    // second sees the first one's phase.
    TS_ASSIGN_OR_RETURN(const PhaseState before, ReadState(txn, true));
    TS_ASSIGN_OR_RETURN(const std::optional<PhaseDecision> decision,
                        decide(before, ReadFacts(txn, store_id)));
    if (!decision) return absl::OkStatus();
    const int64_t version = before.version + 1;
    txn.exec_params(
        "UPDATE migration_phase SET phase = $1, version = $2, changed_by = "
        "$3, changed_at = now(), reason = $4",
        std::string(PhaseName(decision->to)), version, decision->changed_by,
        decision->reason);
    txn.exec_params(
        "INSERT INTO migration_phase_history (version, from_phase, to_phase, "
        "changed_by, reason, forced, gates) VALUES ($1, $2, $3, $4, $5, $6, "
        "$7::jsonb)",
        version, std::string(PhaseName(before.phase)),
        std::string(PhaseName(decision->to)), decision->changed_by,
        decision->reason, decision->forced, decision->gates_json);
    TS_ASSIGN_OR_RETURN(after, ReadState(txn, false));
    return absl::OkStatus();
  }));
  return after;
}

}  // namespace tradestore
