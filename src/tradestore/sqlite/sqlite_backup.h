// Whole-file operations on a SQLite store for the archive: an online backup
// and an integrity check. Internal to the library.
#ifndef TRADESTORE_SQLITE_SQLITE_BACKUP_H_
#define TRADESTORE_SQLITE_SQLITE_BACKUP_H_

#include <string>

#include "absl/status/status.h"

namespace tradestore::sqlite {

// Copies the database at `source` into a new file `dest` with SQLite's
// online backup API, in one step: a consistent snapshot, taken while
// writers go on (WAL). Returns kAlreadyExists when dest exists, kNotFound
// when source cannot be opened.
absl::Status BackupDatabase(const std::string& source, const std::string& dest);

// Sets the file back to a rollback journal (opening it as a store turns WAL
// on): an archive is one file, with no -wal or -shm beside it.
absl::Status UseRollbackJournal(const std::string& path);

// PRAGMA integrity_check; kDataLoss with SQLite's findings when not "ok".
absl::Status CheckIntegrity(const std::string& path);

}  // namespace tradestore::sqlite

#endif  // TRADESTORE_SQLITE_SQLITE_BACKUP_H_
