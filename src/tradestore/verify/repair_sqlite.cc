#include "tradestore/verify/repair_sqlite.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tradestore/internal/status_macros.h"
#include "tradestore/postgres/pg_mirror.h"
#include "tradestore/postgres/quarantine_log.h"
#include "tradestore/sqlite/legacy_json.h"
#include "tradestore/sqlite/sqlite_trade_store.h"
#include "tradestore/verify/extra_text.h"

namespace tradestore::verify {
namespace {

// Sets the legacy columns of SQLite's row `id` to Postgres's extra
// (`pg_extra`, jsonb text, "" for NULL) where they differ. Returns whether
// it wrote; what it cannot store goes to the log, unchanged.
absl::StatusOr<bool> RepairExtra(SqliteTradeStore& sqlite, int64_t id,
                                 const std::string& pg_extra,
                                 std::vector<std::string>* log) {
  TS_ASSIGN_OR_RETURN(auto rows, sqlite.ScanStoredRows(id - 1, 1, id));
  if (rows.empty() || ExtrasMatch(ExtraJsonbText(rows[0]), pg_extra)) {
    return false;
  }
  auto refuse = [&](absl::string_view why) {
    log->push_back(
        absl::StrCat("could not repair the legacy columns of "
                     "SQLite row ",
                     id, ": ", why));
    return false;
  };
  const nlohmann::json extra =
      pg_extra.empty() ? nlohmann::json::object()
                       : nlohmann::json::parse(pg_extra, nullptr, false);
  if (!extra.is_object()) return refuse("Postgres's extra is no JSON object");
  const std::vector<std::string>& columns = sqlite.extra_columns();
  for (const auto& [key, value] : extra.items()) {
    if (!value.is_null() &&
        std::find(columns.begin(), columns.end(), key) == columns.end()) {
      return refuse(absl::StrCat("the SQLite table has no column \"", key,
                                 "\" for Postgres's value"));
    }
  }
  std::vector<SqlValue> values;
  for (const std::string& column : columns) {
    const auto it = extra.find(column);
    if (it == extra.end()) {
      values.push_back(SqlValue::Null());
      continue;
    }
    auto value = SqlValueFromJson(*it);
    if (!value.ok()) return refuse(value.status().message());
    values.push_back(*std::move(value));
  }
  TS_ASSIGN_OR_RETURN(const bool updated, sqlite.PutExtraColumns(id, values));
  if (updated) {
    log->push_back(absl::StrCat("set the legacy columns of SQLite row ", id,
                                " from Postgres's extra"));
  }
  return updated;
}

}  // namespace

absl::StatusOr<int64_t> RepairSqliteFromPostgres(
    SqliteTradeStore& sqlite, PgPool& pool, const std::vector<int64_t>& ids,
    std::vector<std::string>* log) {
  PgMirror mirror(&pool);
  int64_t changed = 0;
  for (int64_t id : ids) {
    TS_ASSIGN_OR_RETURN(const std::optional<BackfillRow> in_pg,
                        mirror.Read(id));
    if (in_pg) {
      auto written = sqlite.PutIfNewer({in_pg->trade});
      if (written.ok()) {
        // The trade's columns first, then the legacy ones, in their own
        // transaction: a crash between leaves a difference the next
        // verify reports and repairs.
        TS_ASSIGN_OR_RETURN(const bool extra_written,
                            RepairExtra(sqlite, id, in_pg->extra_json, log));
        if (extra_written && *written == 0) {
          ++changed;
          continue;
        }
      }
      if (!written.ok()) {
        log->push_back(absl::StrCat("could not repair SQLite row ", id, ": ",
                                    written.status().message()));
      } else if (*written == 0) {
        log->push_back(absl::StrCat(
            "SQLite row ", id, " is at Postgres's version or newer; kept"));
      } else {
        ++changed;
        log->push_back(
            absl::StrCat("copied Postgres row ", id, " into SQLite"));
      }
      continue;
    }
    TS_ASSIGN_OR_RETURN(auto rows, sqlite.ScanStoredRows(id - 1, 1, id));
    if (rows.empty()) continue;  // gone from both since the scan
    // Recorded first, removed after: a crash in between leaves the row in
    // both places, never in neither.
    TS_RETURN_IF_ERROR(QuarantineLog(&pool).Put(
        {{id, "repair: in SQLite but not in Postgres, the source of truth",
          StoredRowJson(rows[0])}}));
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
