// The inside of SqliteTradeStore, shared by its .cc files (the trade
// methods and the outbox methods). Internal to the SQLite backend.
#ifndef TRADESTORE_SQLITE_SQLITE_STORE_IMPL_H_
#define TRADESTORE_SQLITE_SQLITE_STORE_IMPL_H_

#include <atomic>
#include <condition_variable>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "tradestore/internal/fair_mutex.h"
#include "tradestore/internal/mutex.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/sqlite/sqlite_handle.h"
#include "tradestore/sqlite/sqlite_schema.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore::sqlite {

inline constexpr char kColumns[] =
    "id, symbol, side, quantity, price, timestamp, status, client_order_id, "
    "fee, version, created_at, updated_at";

// The row under `s` (selected with kColumns, then `extra_columns`).
StoredRow ReadRow(const Statement& s,
                  const std::vector<std::string>& extra_columns,
                  int first_column = 0);
// The same into `row`, reusing its buffers.
void ReadRowInto(const Statement& s,
                 const std::vector<std::string>& extra_columns,
                 int first_column, StoredRow* row);
// Puts the file in WAL mode, waiting up to `busy_timeout_ms` for another
// connection's lock. Returns kUnavailable when it is still held then.
absl::Status EnableWal(SqliteDb* db, Clock* clock, int busy_timeout_ms);
// A stored row that cannot be read exactly is kDataLoss naming the row.
absl::StatusOr<Trade> Convert(const StoredRow& row);
// Runs `stmt` (already bound) and converts every row.
absl::StatusOr<std::vector<Trade>> ReadTrades(Statement& stmt);
absl::StatusOr<Trade> ReadOne(Statement& stmt, absl::string_view what);

}  // namespace tradestore::sqlite

namespace tradestore {

struct SqliteTradeStore::Impl {
  using SqliteDb = sqlite::SqliteDb;
  using WriteTransaction = sqlite::WriteTransaction;
  using Statement = sqlite::Statement;

  SqliteStoreOptions options;
  sqlite::SchemaInfo schema;
  Clock* clock;

  // Fair: writers in a loop must not keep the relay out (its AckOutbox).
  internal::FairMutex writer_mu;
  std::unique_ptr<SqliteDb> writer ABSL_GUARDED_BY(writer_mu);
  // Set when an ack could not put synchronous=FULL back: no trade is
  // written without its fsync.
  bool sync_lost ABSL_GUARDED_BY(writer_mu) = false;

  // kInternal when sync_lost and it cannot be restored now.
  absl::Status CheckDurable() ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu) {
    if (!sync_lost) return absl::OkStatus();
    absl::Status s = writer->Exec("PRAGMA synchronous = FULL");
    sync_lost = !s.ok();
    return s.ok() ? s
                  : absl::InternalError(absl::StrCat(
                        "SQLite durability setting lost: ", s.message()));
  }

  // Reader connections are lent out one caller at a time.
  internal::Mutex readers_mu;
  std::condition_variable reader_free;
  std::vector<std::unique_ptr<SqliteDb>> idle_readers
      ABSL_GUARDED_BY(readers_mu);

  class ReaderLease {
   public:
    explicit ReaderLease(Impl* impl) : impl_(impl) {
      internal::ScopedLock lock(impl->readers_mu);
      impl->readers_mu.Await(
          impl->reader_free,
          [impl]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(impl->readers_mu) {
            return !impl->idle_readers.empty();
          });
      db_ = std::move(impl->idle_readers.back());
      impl->idle_readers.pop_back();
    }
    ~ReaderLease() {
      {
        internal::ScopedLock lock(impl_->readers_mu);
        impl_->idle_readers.push_back(std::move(db_));
      }
      impl_->reader_free.notify_one();
    }
    SqliteDb* operator->() { return db_.get(); }
    SqliteDb* get() { return db_.get(); }

   private:
    Impl* impl_;
    std::unique_ptr<SqliteDb> db_;
  };

  // Inserts every column of `t` (id NULL when 0, so SQLite assigns it) and
  // returns the row's id. Inside a WriteTransaction.
  absl::StatusOr<int64_t> InsertRow(const Trade& t)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu);

  // Adds an outbox entry for `t` in the open write transaction; returns its
  // seq. Inside a WriteTransaction.
  absl::StatusOr<int64_t> Enqueue(const Trade& t)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu);

  // Adds the outbox entry for `t` when `enqueue` (its seq to `outbox_seq`
  // when given), then commits `txn`, with a failpoint on either side.
  absl::Status CommitWrite(WriteTransaction& txn, const Trade& t, bool enqueue,
                           int64_t* outbox_seq)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu);

  // PutIfNewer for one trade. Inside a WriteTransaction.
  absl::StatusOr<bool> PutIfNewerLocked(const Trade& trade)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu);

  // kColumns and the legacy extra columns, each prefixed by `table` ("t.").
  std::string StoredColumns(absl::string_view table);

  void BindDecimal(Statement& s, int index, Decimal d, bool as_blob) {
    const std::string text = d.ToString();
    if (as_blob) {
      s.BindBlobText(index, text);
    } else {
      s.Bind(index, text);
    }
  }

  absl::StatusOr<std::optional<Trade>> FindForWrite(const std::string& where,
                                                    auto bind)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu) {
    TS_ASSIGN_OR_RETURN(Statement s, writer->Prepare(absl::StrCat(
                                         "SELECT ", sqlite::kColumns,
                                         " FROM trades WHERE ", where)));
    bind(s);
    TS_ASSIGN_OR_RETURN(auto trades, sqlite::ReadTrades(s));
    if (trades.empty()) return std::optional<Trade>();
    return std::optional<Trade>(trades.front());
  }
};

}  // namespace tradestore

#endif  // TRADESTORE_SQLITE_SQLITE_STORE_IMPL_H_
