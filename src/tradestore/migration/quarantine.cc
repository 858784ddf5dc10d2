#include "tradestore/migration/quarantine.h"

#include "absl/strings/str_cat.h"
#include "tradestore/internal/quote.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/postgres/migrator.h"
#include "tradestore/postgres/pg_mirror.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/postgres/quarantine_log.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore {
namespace {

absl::StatusOr<std::unique_ptr<PgPool>> Connect(const QuarantineOptions& o) {
  TS_ASSIGN_OR_RETURN(auto pool, PgPool::Create(o.pg));
  if (!o.dry_run) TS_RETURN_IF_ERROR(EnsureMigrated(*pool));
  return pool;
}

}  // namespace

absl::StatusOr<std::vector<QuarantineEntry>> ListQuarantine(
    const QuarantineOptions& options, bool all) {
  TS_ASSIGN_OR_RETURN(auto pool, Connect(options));
  return QuarantineLog(pool.get()).List(all);
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
  QuarantineLog log(pool.get());
  std::vector<ResolveOutcome> outcomes;
  for (int64_t id : ids) {
    ResolveOutcome o{id, false, ""};
    TS_ASSIGN_OR_RETURN(auto entry, log.Resolution(id));
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
      if (!options.dry_run) {
        TS_RETURN_IF_ERROR(
            mirror.Apply({}, {{id, why, StoredRowJson(rows[0])}}).status());
      }
    } else if (options.dry_run) {
      o.resolved = true;
      o.detail = "would be copied into Postgres (converts exactly now)";
    } else {
      // The row first, then the mark: a crash in between leaves a retry
      // that is safe to repeat.
      TS_RETURN_IF_ERROR(
          mirror.Apply({{*trade, ExtraColumnsJson(rows[0])}}, {}).status());
      TS_RETURN_IF_ERROR(log.MarkRetried(id));
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
  QuarantineLog log(pool.get());
  std::vector<ResolveOutcome> outcomes;
  for (int64_t id : ids) {
    ResolveOutcome o{id, false, ""};
    if (options.dry_run) {
      TS_ASSIGN_OR_RETURN(auto entry, log.Resolution(id));
      o.resolved = entry.has_value() && !entry->has_value();
    } else {
      TS_ASSIGN_OR_RETURN(o.resolved, log.Accept(id, reason));
    }
    if (o.resolved) {
      o.detail = (options.dry_run ? "would be accepted: " : "accepted: ") +
                 internal::Escape(reason);
    } else {
      TS_ASSIGN_OR_RETURN(auto entry, log.Resolution(id));
      o.detail = !entry ? "not in the quarantine"
                        : absl::StrCat("already ", entry->value_or("?"));
    }
    outcomes.push_back(std::move(o));
  }
  return outcomes;
}

}  // namespace tradestore
