#include "tradestore/migration/quarantine.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/postgres/migrator.h"
#include "tradestore/postgres/pg_mirror.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/postgres/pg_transact.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore {
namespace {

std::optional<std::string> Nullable(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<std::string>();
}

absl::StatusOr<std::unique_ptr<PgPool>> Connect(const QuarantineOptions& o) {
  TS_ASSIGN_OR_RETURN(auto pool, PgPool::Create(o.pg));
  TS_RETURN_IF_ERROR(EnsureMigrated(*pool));
  return pool;
}

// The entry's resolution, or nullopt when there is no entry.
absl::StatusOr<std::optional<std::optional<std::string>>> Resolution(
    PgPool& pool, int64_t id) {
  std::optional<std::optional<std::string>> found;
  TS_RETURN_IF_ERROR(pg::Transact(pool, 
      [&](pqxx::work& txn) {
        const pqxx::result r = txn.exec_params(
            "SELECT resolution FROM trades_quarantine WHERE source_id = $1", id);
        found.reset();
        if (!r.empty()) found = Nullable(r[0][0]);
        return absl::OkStatus();
      },
      PgPool::Kind::kRead));
  return found;
}

}  // namespace

absl::StatusOr<std::vector<QuarantineEntry>> ListQuarantine(
    const QuarantineOptions& options, bool all) {
  TS_ASSIGN_OR_RETURN(auto pool, Connect(options));
  std::vector<QuarantineEntry> entries;
  TS_RETURN_IF_ERROR(pg::Transact(*pool, 
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

absl::StatusOr<std::vector<ResolveOutcome>> RetryQuarantined(
    const QuarantineOptions& options, const std::vector<int64_t>& ids) {
  TS_ASSIGN_OR_RETURN(auto pool, Connect(options));
  TS_ASSIGN_OR_RETURN(auto sqlite,
                      SqliteTradeStore::Open({.path = options.sqlite_path,
                                              .create_if_missing = false,
                                              .require_trades_table = true,
                                              .reader_connections = 1}));
  PgMirror mirror(pool.get());
  std::vector<ResolveOutcome> outcomes;
  for (int64_t id : ids) {
    ResolveOutcome o{id, false, ""};
    TS_ASSIGN_OR_RETURN(auto entry, Resolution(*pool, id));
    TS_ASSIGN_OR_RETURN(auto rows, sqlite->ScanStoredRows(id - 1, 1, id));
    if (!entry) {
      o.detail = "not in the quarantine";
    } else if (entry->has_value()) {
      o.detail = absl::StrCat("already ", **entry);
    } else if (rows.empty()) {
      o.detail = "no such row in SQLite any more (accept it instead)";
    } else if (auto trade = ConvertStoredRow(rows[0], nullptr); !trade.ok()) {
      const std::string why(trade.status().message());
      o.detail = "still fails: " + why;
      TS_RETURN_IF_ERROR(
          mirror.Apply({}, {{id, why, StoredRowJson(rows[0])}}).status());
    } else {
      // The row first, then the mark: a crash in between leaves a retry
      // that is safe to repeat.
      TS_RETURN_IF_ERROR(
          mirror.Apply({{*trade, ExtraColumnsJson(rows[0])}}, {}).status());
      TS_RETURN_IF_ERROR(pg::Transact(*pool, [&](pqxx::work& txn) {
        txn.exec_params(
            "UPDATE trades_quarantine SET resolution = 'retried', "
            "resolution_reason = 'converts exactly now', resolved_at = now() "
            "WHERE source_id = $1",
            id);
        return absl::OkStatus();
      }));
      o.resolved = true;
      o.detail = "copied into Postgres";
    }
    outcomes.push_back(std::move(o));
  }
  return outcomes;
}

absl::StatusOr<std::vector<ResolveOutcome>> AcceptQuarantined(
    const QuarantineOptions& options, const std::vector<int64_t>& ids,
    const std::string& reason) {
  if (reason.empty()) {
    return absl::InvalidArgumentError("accept needs --reason TEXT");
  }
  TS_ASSIGN_OR_RETURN(auto pool, Connect(options));
  std::vector<ResolveOutcome> outcomes;
  for (int64_t id : ids) {
    ResolveOutcome o{id, false, ""};
    TS_RETURN_IF_ERROR(pg::Transact(*pool, [&](pqxx::work& txn) {
      const pqxx::result r = txn.exec_params(
          "UPDATE trades_quarantine SET resolution = 'accepted', "
          "resolution_reason = $2, resolved_at = now() WHERE source_id = $1 "
          "AND resolution IS NULL RETURNING 1",
          id, reason);
      o.resolved = !r.empty();
      return absl::OkStatus();
    }));
    if (o.resolved) {
      o.detail = "accepted: " + reason;
    } else {
      TS_ASSIGN_OR_RETURN(auto entry, Resolution(*pool, id));
      o.detail = !entry ? "not in the quarantine"
                        : absl::StrCat("already ", entry->value_or("?"));
    }
    outcomes.push_back(std::move(o));
  }
  return outcomes;
}

}  // namespace tradestore
