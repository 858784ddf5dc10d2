#include "tradestore/verify/repair_sqlite.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/postgres/pg_row.h"
#include "tradestore/postgres/trade_copy.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore::verify {

absl::StatusOr<int64_t> RepairSqliteFromPostgres(
    SqliteTradeStore& sqlite, PgPool& pool, const std::vector<int64_t>& ids,
    std::vector<std::string>* log) {
  int64_t changed = 0;
  for (int64_t id : ids) {
    absl::StatusOr<std::vector<Trade>> in_pg;
    TS_RETURN_IF_ERROR(pool.Transact(
        [&](pqxx::work& txn) {
          in_pg = pg::TradesFromResult(txn.exec_params(
              absl::StrCat("SELECT ", pg::kSelectColumns,
                           " FROM trades WHERE id = $1"),
              id));
          return absl::OkStatus();
        },
        PgPool::Kind::kRead));
    TS_RETURN_IF_ERROR(in_pg.status());
    if (!in_pg->empty()) {
      auto written = sqlite.PutIfNewer(*in_pg);
      if (!written.ok()) {
        log->push_back(absl::StrCat("could not repair SQLite row ", id, ": ",
                                    written.status().message()));
      } else if (*written == 0) {
        log->push_back(absl::StrCat("SQLite row ", id,
                                    " is at Postgres's version or newer; kept"));
      } else {
        ++changed;
        log->push_back(absl::StrCat("copied Postgres row ", id, " into SQLite"));
      }
      continue;
    }
    TS_ASSIGN_OR_RETURN(auto rows, sqlite.ScanStoredRows(id - 1, 1, id));
    if (rows.empty()) continue;  // gone from both since the scan
    // Recorded first, removed after: a crash in between leaves the row in
    // both places, never in neither.
    TS_RETURN_IF_ERROR(pool.Transact([&](pqxx::work& txn) {
      pg::PutQuarantine(txn, {id,
                              "repair: in SQLite but not in Postgres, the "
                              "source of truth",
                              StoredRowJson(rows[0])});
      return absl::OkStatus();
    }));
    TS_ASSIGN_OR_RETURN(bool deleted, sqlite.DeleteRow(id));
    if (deleted) {
      ++changed;
      log->push_back(absl::StrCat("moved SQLite row ", id,
                                  " to trades_quarantine (not in Postgres)"));
    }
  }
  return changed;
}

}  // namespace tradestore::verify
