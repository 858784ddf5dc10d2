#include "tradestore/postgres/status_facts.h"

#include "absl/strings/str_cat.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/postgres/pg_transact.h"

namespace tradestore {
namespace {

Timestamp At(const pqxx::field& f) {
  return Timestamp::FromUnixMicros(f.as<int64_t>()).value_or(Timestamp());
}

// A timestamptz column as microseconds since the epoch.
std::string Micros(absl::string_view column) {
  return absl::StrCat("(extract(epoch FROM ", column, ") * 1000000)::int8");
}

bool Has(pqxx::transaction_base& txn, const char* table) {
  return txn.exec_params("SELECT to_regclass($1) IS NOT NULL", table)[0][0]
      .as<bool>();
}

// "AND source_store_id = $1" when a store is asked about.
std::string ForStore(const std::string& store_id) {
  return store_id.empty() ? " WHERE $1 = $1" : " WHERE source_store_id = $1";
}

void ReadMigrationFacts(pqxx::transaction_base& txn, const std::string& store,
                        StatusFacts& f) {
  if (Has(txn, "migration_phase")) {
    const pqxx::result r = txn.exec(
        absl::StrCat("SELECT phase, version, changed_by, ",
                     Micros("changed_at"), ", reason FROM migration_phase"));
    if (!r.empty()) {
      if (auto phase = ParsePhase(r[0][0].as<std::string>()); phase.ok()) {
        f.phase =
            PhaseState{*phase, r[0][1].as<int64_t>(), r[0][2].as<std::string>(),
                       At(r[0][3]), r[0][4].as<std::string>()};
      }
    }
  }
  if (Has(txn, "backfill_checkpoints")) {
    const pqxx::result r = txn.exec_params(
        absl::StrCat("SELECT last_id, high_water_id, completed_at IS NOT "
                     "NULL, ",
                     Micros("updated_at"), " FROM backfill_checkpoints",
                     ForStore(store), " ORDER BY updated_at DESC LIMIT 1"),
        store);
    if (!r.empty()) {
      f.backfill =
          StatusFacts::Backfill{r[0][0].as<int64_t>(), r[0][1].as<int64_t>(),
                                r[0][2].as<bool>(), At(r[0][3])};
    }
  }
  if (Has(txn, "deferred_indexes")) {
    const pqxx::result r = txn.exec(
        "SELECT deferred_by FROM deferred_indexes WHERE "
        "constraint_name IS NOT NULL LIMIT 1");
    if (!r.empty()) f.fence_by = r[0][0].as<std::string>();
  }
}

void ReadRunFacts(pqxx::transaction_base& txn, const std::string& store,
                  StatusFacts& f) {
  if (Has(txn, "verification_runs")) {
    for (const bool full : {true, false}) {
      const pqxx::result r = txn.exec_params(
          absl::StrCat("SELECT clean, ", Micros("finished_at"),
                       ", mismatched + missing_in_postgres + "
                       "missing_in_sqlite FROM verification_runs",
                       ForStore(store),
                       " AND covers_all_rows = ", full ? "true" : "false",
                       " ORDER BY finished_at DESC LIMIT 1"),
          store);
      if (r.empty()) continue;
      (full ? f.last_full : f.last_incremental) = StatusFacts::Run{
          r[0][0].as<bool>(), At(r[0][1]), r[0][2].as<int64_t>()};
    }
  }
  if (Has(txn, "trades_quarantine")) {
    f.unresolved_quarantine =
        txn.exec(
               "SELECT count(*) FROM trades_quarantine WHERE resolution "
               "IS NULL")[0][0]
            .as<int64_t>();
  }
  if (Has(txn, "archives")) {
    const pqxx::result r = txn.exec_params(
        absl::StrCat("SELECT path, verified, ", Micros("created_at"),
                     " FROM archives", ForStore(store),
                     " ORDER BY created_at DESC LIMIT 1"),
        store);
    if (!r.empty()) {
      f.archive = StatusFacts::Archive{r[0][0].as<std::string>(),
                                       r[0][1].as<bool>(), At(r[0][2])};
    }
  }
  if (Has(txn, "backup_runs")) {
    for (const char* kind : {"logical", "drill"}) {
      const pqxx::result r = txn.exec_params(
          absl::StrCat("SELECT name, ", Micros("finished_at"),
                       ", rto_seconds FROM backup_runs WHERE kind = $1 AND "
                       "ok ORDER BY finished_at DESC LIMIT 1"),
          kind);
      if (r.empty()) continue;
      StatusFacts::Backup b{r[0][0].as<std::string>(), At(r[0][1]), {}};
      if (!r[0][2].is_null()) b.rto_seconds = r[0][2].as<double>();
      (std::string(kind) == "logical" ? f.last_backup : f.last_drill) = b;
    }
  }
}

}  // namespace

absl::StatusOr<StatusFacts> ReadStatusFacts(PgPool& pool,
                                            const std::string& store_id) {
  StatusFacts facts;
  TS_RETURN_IF_ERROR(pg::ReadEach(pool, [&](pqxx::transaction_base& txn) {
    facts = StatusFacts();
    facts.now = At(txn.exec(absl::StrCat("SELECT ", Micros("now()")))[0][0]);
    if (Has(txn, "schema_migrations")) {
      facts.schema_version =
          txn
              .exec(
                  "SELECT coalesce(max(version), 0) FROM schema_migrations")[0]
                                                                            [0]
              .as<int>();
    }
    ReadMigrationFacts(txn, store_id, facts);
    ReadRunFacts(txn, store_id, facts);
    facts.replication = ReadReplicationFacts(txn);
    return absl::OkStatus();
  }));
  return facts;
}

}  // namespace tradestore
