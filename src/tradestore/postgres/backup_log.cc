#include "tradestore/postgres/backup_log.h"

#include "tradestore/internal/status_macros.h"
#include "tradestore/postgres/pg_transact.h"

namespace tradestore {

absl::Status RecordBackupRun(PgPool& pool, const BackupRun& r) {
  return pg::Transact(pool, [&](pqxx::work& txn) {
    txn.exec_params(
        "INSERT INTO backup_runs (kind, name, destination, ok, size_bytes, "
        "trades_rows, rto_seconds, detail) VALUES ($1, $2, $3, $4, $5, $6, "
        "$7, $8)",
        r.kind, r.name, r.destination, r.ok, r.size_bytes, r.trades_rows,
        r.rto_seconds, r.detail);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::optional<BackupRun>> LastGoodBackupRun(
    PgPool& pool, const std::string& kind) {
  std::optional<BackupRun> run;
  TS_RETURN_IF_ERROR(pg::ReadEach(pool, [&](pqxx::transaction_base& txn) {
    run.reset();
    const pqxx::result r = txn.exec_params(
        "SELECT name, destination, size_bytes, trades_rows, rto_seconds, "
        "detail, (extract(epoch FROM finished_at) * 1000000)::int8 FROM "
        "backup_runs WHERE kind = $1 AND ok ORDER BY finished_at DESC LIMIT 1",
        kind);
    if (r.empty()) return absl::OkStatus();
    BackupRun b;
    b.kind = kind;
    b.ok = true;
    b.name = r[0][0].as<std::string>();
    b.destination = r[0][1].as<std::string>();
    if (!r[0][2].is_null()) b.size_bytes = r[0][2].as<int64_t>();
    if (!r[0][3].is_null()) b.trades_rows = r[0][3].as<int64_t>();
    if (!r[0][4].is_null()) b.rto_seconds = r[0][4].as<double>();
    b.detail = r[0][5].as<std::string>();
    b.finished_at =
        Timestamp::FromUnixMicros(r[0][6].as<int64_t>()).value_or(Timestamp());
    run = std::move(b);
    return absl::OkStatus();
  }));
  return run;
}

}  // namespace tradestore
