#include "tradestore/postgres/quarantine_log.h"

#include "tradestore/internal/status_macros.h"
#include "tradestore/postgres/pg_transact.h"

namespace tradestore {
namespace {

std::optional<std::string> Nullable(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<std::string>();
}

}  // namespace

absl::Status QuarantineLog::Put(const std::vector<QuarantineRow>& rows) {
  return pg::Transact(
      *pool_,
      [&](pqxx::work& txn) {
        for (const QuarantineRow& q : rows) pg::PutQuarantine(txn, q);
        return absl::OkStatus();
      },
      PgPool::Kind::kIdempotent);
}

absl::StatusOr<std::vector<QuarantineEntry>> QuarantineLog::List(bool all) {
  std::vector<QuarantineEntry> entries;
  TS_RETURN_IF_ERROR(pg::Transact(
      *pool_,
      [&](pqxx::work& txn) {
        entries.clear();
        const pqxx::result r = txn.exec_params(
            "SELECT source_id, reason, raw::text, first_seen_at::text, "
            "last_seen_at::text, resolution, resolution_reason FROM "
            "trades_quarantine WHERE $1 OR resolution IS NULL "
            "ORDER BY resolution IS NOT NULL, source_id",
            all);
        for (const auto& row : r) {
          entries.push_back({row[0].as<int64_t>(), row[1].as<std::string>(),
                             row[2].as<std::string>(), row[3].as<std::string>(),
                             row[4].as<std::string>(), Nullable(row[5]),
                             Nullable(row[6])});
        }
        return absl::OkStatus();
      },
      PgPool::Kind::kRead));
  return entries;
}

absl::StatusOr<std::optional<std::optional<std::string>>>
QuarantineLog::Resolution(int64_t id) {
  std::optional<std::optional<std::string>> found;
  TS_RETURN_IF_ERROR(pg::Transact(
      *pool_,
      [&](pqxx::work& txn) {
        const pqxx::result r = txn.exec_params(
            "SELECT resolution FROM trades_quarantine WHERE source_id = $1",
            id);
        found.reset();
        if (!r.empty()) found = Nullable(r[0][0]);
        return absl::OkStatus();
      },
      PgPool::Kind::kRead));
  return found;
}

absl::Status QuarantineLog::MarkRetried(int64_t id) {
  return pg::Transact(
      *pool_,
      [&](pqxx::work& txn) {
        txn.exec_params(
            "UPDATE trades_quarantine SET resolution = 'retried', "
            "resolution_reason = 'converts exactly now', resolved_at = now() "
            "WHERE source_id = $1",
            id);
        return absl::OkStatus();
      },
      PgPool::Kind::kIdempotent);
}

absl::StatusOr<bool> QuarantineLog::Accept(int64_t id,
                                           const std::string& reason) {
  bool accepted = false;
  TS_RETURN_IF_ERROR(pg::Transact(*pool_, [&](pqxx::work& txn) {
    accepted = !txn.exec_params(
                       "UPDATE trades_quarantine SET resolution = 'accepted', "
                       "resolution_reason = $2, resolved_at = now() WHERE "
                       "source_id = $1 AND resolution IS NULL RETURNING 1",
                       id, reason)
                    .empty();
    return absl::OkStatus();
  }));
  return accepted;
}

absl::StatusOr<std::vector<int64_t>> QuarantineLog::KeptOut() {
  std::vector<int64_t> ids;
  TS_RETURN_IF_ERROR(pg::ReadEach(*pool_, [&](pqxx::transaction_base& txn) {
    ids.clear();
    for (const auto& row :
         txn.exec("SELECT source_id FROM trades_quarantine "
                  "WHERE resolution IS DISTINCT FROM 'retried'")) {
      ids.push_back(row[0].as<int64_t>());
    }
    return absl::OkStatus();
  }));
  return ids;
}

absl::StatusOr<bool> QuarantineLog::MoveFromTrades(int64_t id,
                                                   const std::string& reason) {
  bool moved = false;
  TS_RETURN_IF_ERROR(pg::Transact(
      *pool_,
      [&](pqxx::work& txn) {
        moved = !txn.exec_params(
                        "WITH moved AS (DELETE FROM trades WHERE id = $1 "
                        "RETURNING *) INSERT INTO trades_quarantine "
                        "(source_id, reason, raw) SELECT id, $2, "
                        "to_jsonb(moved) FROM moved ON CONFLICT (source_id) "
                        "DO UPDATE SET reason = EXCLUDED.reason, "
                        "raw = EXCLUDED.raw, last_seen_at = now(), "
                        "resolution = NULL RETURNING source_id",
                        id, reason)
                     .empty();
        return absl::OkStatus();
      },
      PgPool::Kind::kWrite));
  return moved;
}

absl::Status QuarantineLog::ReplaceTrade(int64_t id, const std::string& reason,
                                         const std::string& raw_json) {
  return pg::Transact(*pool_, [&](pqxx::work& txn) {
    txn.exec_params(
        "INSERT INTO trades_quarantine (source_id, reason, raw) "
        "SELECT $1, $2, CASE WHEN t.id IS NULL THEN $3::jsonb ELSE "
        "$3::jsonb || jsonb_build_object('postgres_row', to_jsonb(t)) END "
        "FROM (SELECT 1) one LEFT JOIN trades t ON t.id = $1 "
        "ON CONFLICT (source_id) DO UPDATE SET reason = EXCLUDED.reason, "
        "raw = EXCLUDED.raw, last_seen_at = now(), resolution = NULL",
        id, reason, raw_json);
    txn.exec_params("DELETE FROM trades WHERE id = $1", id);
    return absl::OkStatus();
  });
}

}  // namespace tradestore
