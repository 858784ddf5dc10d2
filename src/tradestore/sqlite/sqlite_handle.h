// Thin RAII wrappers over the SQLite C API for this backend only; never
// included from a public header, so <sqlite3.h> stays out of them.
//
// Thread-safety: a SqliteDb and its statements belong to one thread at a time
// (the store guards each connection with its own mutex).
#ifndef TRADESTORE_SQLITE_SQLITE_HANDLE_H_
#define TRADESTORE_SQLITE_SQLITE_HANDLE_H_

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tradestore/sqlite/legacy_row.h"

namespace tradestore::sqlite {

// Maps an SQLite result code to a status that says whether a retry is safe:
// BUSY/LOCKED -> kUnavailable (nothing happened), CONSTRAINT ->
// kAlreadyExists, CORRUPT/NOTADB -> kDataLoss, CANTOPEN -> kNotFound,
// anything else -> kInternal.
absl::Status SqliteStatus(int rc, sqlite3* db, absl::string_view what);

class Statement;

class SqliteDb {
 public:
  // Opens `path` with SQLITE_OPEN_* `flags` and a busy timeout.
  static absl::StatusOr<std::unique_ptr<SqliteDb>> Open(const std::string& path,
                                                        int flags,
                                                        int busy_timeout_ms);
  // Opens `path` read-only, creating nothing beside it. A WAL store is read
  // through its -shm file, which a reader would have to create on an idle
  // store (no -wal) and leave behind, owned by the reader, or could not
  // create in a directory it cannot write. So an idle WAL store is opened
  // immutable (no locks, no -shm): its state at open is all there is, as
  // long as no writer changes the file, which CheckUnchanged() confirms
  // after the reading.
  static absl::StatusOr<std::unique_ptr<SqliteDb>> OpenReadOnly(
      const std::string& path, int busy_timeout_ms);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  absl::Status Exec(const std::string& sql);

  // A cached prepared statement, reset and unbound, ready to bind.
  absl::StatusOr<Statement> Prepare(const std::string& sql);

  sqlite3* get() const { return db_; }

  // OK unless the file was opened immutable and has been written since
  // (kAborted: what was read may mix two states; read again).
  absl::Status CheckUnchanged() const;

 private:
  // What a write to the file changes: its inode's times and size.
  struct FileIdentity {
    int64_t dev = 0, ino = 0, size = 0, mtime_ns = 0, ctime_ns = 0;
    bool operator==(const FileIdentity&) const = default;
  };
  static absl::StatusOr<FileIdentity> Identify(const std::string& path);

  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::string path_;
  std::optional<FileIdentity> immutable_as_;  // set when opened immutable
  std::map<std::string, sqlite3_stmt*> cache_;
};

// A borrowed cached statement; resets itself when it goes out of scope.
class Statement {
 public:
  Statement(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
  Statement(Statement&& other) noexcept : stmt_(other.stmt_), db_(other.db_) {
    other.stmt_ = nullptr;
  }
  ~Statement();

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, absl::string_view text);
  // Text bytes stored as a BLOB: kept exact even in a NUMERIC-affinity column,
  // where SQLite would turn decimal-looking TEXT into a REAL.
  Statement& BindBlobText(int index, absl::string_view text);
  Statement& BindNull(int index);
  // The value in its own storage class.
  Statement& Bind(int index, const SqlValue& value);

  // True when a row is ready, false when done.
  absl::StatusOr<bool> Step();
  // Steps to completion (for statements that return no rows).
  absl::Status Run();
  // Makes the statement ready to bind and run again.
  void Reset();

  int64_t ColumnInt(int i) const;
  std::string ColumnText(int i) const;
  bool ColumnIsNull(int i) const;
  // The value exactly as SQLite stored it, with its storage class.
  SqlValue ColumnValue(int i) const;
  // The same into `v`, reusing its text buffer (scans read millions).
  void ReadValue(int i, SqlValue* v) const;

 private:
  sqlite3_stmt* stmt_;
  sqlite3* db_;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back in the destructor unless committed
// (never throws).
class WriteTransaction {
 public:
  static absl::StatusOr<std::unique_ptr<WriteTransaction>> Begin(SqliteDb* db);
  ~WriteTransaction();
  // kUnknown when an I/O error hit the commit (its outcome after a crash
  // is not known), else SqliteStatus's mapping.
  absl::Status Commit();

 private:
  explicit WriteTransaction(SqliteDb* db) : db_(db) {}
  SqliteDb* db_;
  bool done_ = false;
};

}  // namespace tradestore::sqlite

#endif  // TRADESTORE_SQLITE_SQLITE_HANDLE_H_
