#include "tradestore/sqlite/sqlite_handle.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "tradestore/internal/status_macros.h"

namespace tradestore::sqlite {

absl::Status SqliteStatus(int rc, sqlite3* db, absl::string_view what) {
  const std::string message =
      absl::StrCat("sqlite: ", what, ": ",
                   db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
      return absl::OkStatus();
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(message);
    case SQLITE_CONSTRAINT:
      return absl::AlreadyExistsError(message);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(message);
    case SQLITE_CANTOPEN:
      return absl::NotFoundError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::StatusOr<std::unique_ptr<SqliteDb>> SqliteDb::Open(
    const std::string& path, int flags, int busy_timeout_ms) {
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = SqliteStatus(rc, db, absl::StrCat("open ", path));
    sqlite3_close_v2(db);
    return status;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, busy_timeout_ms);
  return std::unique_ptr<SqliteDb>(new SqliteDb(db));
}

absl::StatusOr<SqliteDb::FileIdentity> SqliteDb::Identify(
    const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("sqlite: cannot stat ", path));
  }
  const auto ns = [](const timespec& t) {
    return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
  };
  return FileIdentity{.dev = static_cast<int64_t>(st.st_dev),
                      .ino = static_cast<int64_t>(st.st_ino),
                      .size = st.st_size,
                      .mtime_ns = ns(st.st_mtim),
                      .ctime_ns = ns(st.st_ctim)};
}

namespace {

// A WAL-mode file (header bytes 18 and 19 are 2) with no -wal and no
// -journal beside it: no writer has it open and none crashed mid-write.
bool IdleWalStore(const std::string& path) {
  std::error_code ec;
  for (const char* suffix : {"-wal", "-journal"}) {
    if (std::filesystem::exists(path + suffix, ec) || ec) return false;
  }
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  unsigned char header[20] = {};
  const bool read = pread(fd, header, sizeof header, 0) == sizeof header;
  close(fd);
  return read && header[18] == 2 && header[19] == 2;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteDb>> SqliteDb::OpenReadOnly(
    const std::string& path, int busy_timeout_ms) {
  // Taken before looking for a writer: any write after it shows in
  // CheckUnchanged.
  TS_ASSIGN_OR_RETURN(const FileIdentity before, Identify(path));
  if (!IdleWalStore(path)) {
    return Open(path, SQLITE_OPEN_READONLY, busy_timeout_ms);
  }
  const std::string uri = absl::StrCat(
      "file:",
      absl::StrReplaceAll(
          std::filesystem::absolute(path).lexically_normal().string(),
          {{"%", "%25"}, {"?", "%3f"}, {"#", "%23"}}),
      "?immutable=1");
  TS_ASSIGN_OR_RETURN(auto db, Open(uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
                                    busy_timeout_ms));
  db->path_ = path;
  db->immutable_as_ = before;
  return db;
}

absl::Status SqliteDb::CheckUnchanged() const {
  if (!immutable_as_) return absl::OkStatus();
  auto now = Identify(path_);
  if (now.ok() && *now == *immutable_as_) return absl::OkStatus();
  return absl::AbortedError(absl::StrCat(
      "sqlite: ", path_,
      " was written while it was read without locks (an idle store is "
      "read as immutable); what was read may mix two states: run again"));
}

SqliteDb::~SqliteDb() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

absl::Status SqliteDb::Exec(const std::string& sql) {
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  return SqliteStatus(rc, db_, sql.substr(0, 60));
}

absl::StatusOr<Statement> SqliteDb::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(
        db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return SqliteStatus(rc, db_, "prepare");
    it = cache_.emplace(sql, stmt).first;
  }
  return Statement(it->second, db_);
}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::Bind(int index, absl::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindBlobText(int index, absl::string_view text) {
  sqlite3_bind_blob(stmt_, index, text.data(), static_cast<int>(text.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Statement& Statement::Bind(int index, const SqlValue& v) {
  switch (v.type) {
    case SqlValue::Type::kNull:
      return BindNull(index);
    case SqlValue::Type::kInteger:
      return Bind(index, v.integer);
    case SqlValue::Type::kReal:
      sqlite3_bind_double(stmt_, index, v.real);
      return *this;
    case SqlValue::Type::kText:
      return Bind(index, absl::string_view(v.text));
    case SqlValue::Type::kBlob:
      return BindBlobText(index, v.text);
  }
  return *this;
}

absl::StatusOr<bool> Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteStatus(rc, db_, "step");
}

absl::Status Statement::Run() {
  for (;;) {
    auto row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
  }
}

int64_t Statement::ColumnInt(int i) const {
  return sqlite3_column_int64(stmt_, i);
}

std::string Statement::ColumnText(int i) const {
  const auto* p = sqlite3_column_text(stmt_, i);
  return p == nullptr ? std::string()
                      : std::string(reinterpret_cast<const char*>(p),
                                    sqlite3_column_bytes(stmt_, i));
}

bool Statement::ColumnIsNull(int i) const {
  return sqlite3_column_type(stmt_, i) == SQLITE_NULL;
}

SqlValue Statement::ColumnValue(int i) const {
  SqlValue v;
  ReadValue(i, &v);
  return v;
}

void Statement::ReadValue(int i, SqlValue* v) const {
  // One column call, then the value's own accessors: each sqlite3_column_*
  // call pays an API entry and exit, and a scan makes eleven per row. The
  // value is "unprotected", which matters only under a connection mutex;
  // tradestore opens every connection SQLITE_OPEN_NOMUTEX.
  sqlite3_value* value = sqlite3_column_value(stmt_, i);
  v->integer = 0;
  v->real = 0;
  const int type = sqlite3_value_type(value);
  switch (type) {
    case SQLITE_INTEGER:
      v->type = SqlValue::Type::kInteger;
      v->integer = sqlite3_value_int64(value);
      break;
    case SQLITE_FLOAT:
      v->type = SqlValue::Type::kReal;
      v->real = sqlite3_value_double(value);
      break;
    case SQLITE_TEXT:
    case SQLITE_BLOB: {
      const bool text = type == SQLITE_TEXT;
      v->type = text ? SqlValue::Type::kText : SqlValue::Type::kBlob;
      const auto* p = static_cast<const char*>(
          text ? static_cast<const void*>(sqlite3_value_text(value))
               : sqlite3_value_blob(value));
      if (p == nullptr) {
        v->text.clear();
      } else {
        v->text.assign(p, static_cast<size_t>(sqlite3_value_bytes(value)));
      }
      return;
    }
    default:
      v->type = SqlValue::Type::kNull;
      break;
  }
  v->text.clear();
}

absl::StatusOr<std::unique_ptr<WriteTransaction>> WriteTransaction::Begin(
    SqliteDb* db) {
  if (auto s = db->Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  return std::unique_ptr<WriteTransaction>(new WriteTransaction(db));
}

WriteTransaction::~WriteTransaction() {
  if (!done_) sqlite3_exec(db_->get(), "ROLLBACK", nullptr, nullptr, nullptr);
}

absl::Status WriteTransaction::Commit() {
  const int rc = sqlite3_exec(db_->get(), "COMMIT", nullptr, nullptr, nullptr);
  if ((rc & 0xff) == SQLITE_IOERR) {
    // The commit's WAL frames may be on disk, complete, with their sync
    // failed: a crash now and recovery may keep them. Not acknowledged,
    // and not "failed" either: the caller settles it by reading.
    return absl::UnknownError(
        absl::StrCat("commit outcome unknown: ",
                     SqliteStatus(rc, db_->get(), "COMMIT").message()));
  }
  absl::Status status = SqliteStatus(rc, db_->get(), "COMMIT");
  // A failed COMMIT leaves the transaction open; the destructor rolls back.
  if (status.ok()) done_ = true;
  return status;
}

}  // namespace tradestore::sqlite
