#include "tradestore/sqlite/store_facts.h"

#include <sqlite3.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/sqlite/phase_mirror.h"
#include "tradestore/sqlite/relay_progress.h"
#include "tradestore/sqlite/sqlite_handle.h"

namespace tradestore {
namespace {

absl::StatusOr<bool> HasTable(sqlite::SqliteDb& db, const char* table) {
  TS_ASSIGN_OR_RETURN(sqlite::Statement s,
                      db.Prepare("SELECT count(*) FROM sqlite_master WHERE "
                                 "type = 'table' AND name = ?"));
  s.Bind(1, std::string(table));
  TS_ASSIGN_OR_RETURN(bool row, s.Step());
  return row && s.ColumnInt(0) > 0;
}

}  // namespace

absl::StatusOr<SqliteStoreFacts> ReadSqliteStoreFacts(const std::string& path) {
  if (!std::filesystem::exists(path)) {
    return absl::NotFoundError(
        absl::StrCat("SQLite store ", path, " does not exist"));
  }
  TS_ASSIGN_OR_RETURN(auto db, sqlite::SqliteDb::OpenReadOnly(path, 5000));
  SqliteStoreFacts facts;
  TS_ASSIGN_OR_RETURN(const bool has_meta, HasTable(*db, "tradestore_meta"));
  if (has_meta) {
    TS_ASSIGN_OR_RETURN(sqlite::Statement id,
                        db->Prepare("SELECT value FROM tradestore_meta WHERE "
                                    "key = 'store_id'"));
    TS_ASSIGN_OR_RETURN(bool row, id.Step());
    if (row) facts.store_id = id.ColumnText(0);
    TS_ASSIGN_OR_RETURN(sqlite::Statement version,
                        db->Prepare("PRAGMA user_version"));
    TS_ASSIGN_OR_RETURN(row, version.Step());
    if (row) facts.schema_version = version.ColumnInt(0);
    TS_ASSIGN_OR_RETURN(facts.mirrored_phase, ReadSqlitePhase(path));
    TS_ASSIGN_OR_RETURN(facts.relay, sqlite::ReadRelayProgress(*db));
  }
  TS_ASSIGN_OR_RETURN(const bool has_outbox,
                      HasTable(*db, "tradestore_outbox"));
  if (has_outbox) {
    TS_ASSIGN_OR_RETURN(
        sqlite::Statement s,
        db->Prepare("SELECT (SELECT count(*) FROM tradestore_outbox), "
                    "(SELECT enqueued_at FROM tradestore_outbox ORDER BY seq "
                    "LIMIT 1)"));
    TS_ASSIGN_OR_RETURN(bool row, s.Step());
    OutboxStatus outbox;
    if (row) {
      outbox.entries = s.ColumnInt(0);
      if (!s.ColumnIsNull(1)) {
        auto oldest = Timestamp::Parse(s.ColumnText(1));
        if (oldest.ok()) outbox.oldest = *oldest;
      }
    }
    facts.outbox = outbox;
  }
  TS_RETURN_IF_ERROR(db->CheckUnchanged());
  return facts;
}

}  // namespace tradestore
