#include "tradestore/sqlite/sqlite_backup.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/sqlite/sqlite_handle.h"

namespace tradestore::sqlite {

absl::Status BackupDatabase(const std::string& source,
                            const std::string& dest) {
  if (std::filesystem::exists(dest)) {
    return absl::AlreadyExistsError(absl::StrCat(dest, " already exists"));
  }
  TS_ASSIGN_OR_RETURN(auto from, SqliteDb::OpenReadOnly(source, 5000));
  TS_ASSIGN_OR_RETURN(
      auto to,
      SqliteDb::Open(dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, 5000));
  sqlite3_backup* backup =
      sqlite3_backup_init(to->get(), "main", from->get(), "main");
  if (backup == nullptr) {
    return SqliteStatus(sqlite3_errcode(to->get()), to->get(), "backup init");
  }
  // -1: every page in one step, so the copy is one snapshot of the source.
  int rc = sqlite3_backup_step(backup, -1);
  while (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    sqlite3_sleep(10);
    rc = sqlite3_backup_step(backup, -1);
  }
  const int finish = sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) return SqliteStatus(rc, to->get(), "backup");
  if (finish != SQLITE_OK) return SqliteStatus(finish, to->get(), "backup");
  TS_RETURN_IF_ERROR(from->CheckUnchanged());
  // A standalone file: no WAL beside it.
  return to->Exec("PRAGMA journal_mode = DELETE");
}

absl::Status UseRollbackJournal(const std::string& path) {
  TS_ASSIGN_OR_RETURN(auto db,
                      SqliteDb::Open(path, SQLITE_OPEN_READWRITE, 5000));
  return db->Exec("PRAGMA journal_mode = DELETE");
}

absl::Status CheckIntegrity(const std::string& path) {
  TS_ASSIGN_OR_RETURN(auto db, SqliteDb::OpenReadOnly(path, 5000));
  TS_ASSIGN_OR_RETURN(Statement check, db->Prepare("PRAGMA integrity_check"));
  std::string findings;
  for (;;) {
    TS_ASSIGN_OR_RETURN(bool row, check.Step());
    if (!row) break;
    const std::string line = check.ColumnText(0);
    if (line != "ok")
      absl::StrAppend(&findings, findings.empty() ? "" : "; ", line);
  }
  TS_RETURN_IF_ERROR(db->CheckUnchanged());
  if (!findings.empty()) {
    return absl::DataLossError(
        absl::StrCat(path, " fails its integrity check: ", findings));
  }
  return absl::OkStatus();
}

}  // namespace tradestore::sqlite
