#include "tradestore/sqlite/sqlite_trade_store.h"

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "tradestore/internal/failpoint.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/sqlite/sqlite_handle.h"
#include "tradestore/sqlite/sqlite_schema.h"
#include "tradestore/sqlite/sqlite_store_impl.h"

namespace tradestore::sqlite {

void ReadRowInto(const Statement& s,
                 const std::vector<std::string>& extra_columns,
                 int first_column, StoredRow* row) {
  const int c = first_column;
  row->id = s.ColumnInt(c);
  SqlValue* const columns[] = {
      &row->symbol,    &row->side,       &row->quantity,        &row->price,
      &row->timestamp, &row->status,     &row->client_order_id, &row->fee,
      &row->version,   &row->created_at, &row->updated_at};
  for (int i = 0; i < 11; ++i) s.ReadValue(c + 1 + i, columns[i]);
  row->extra.resize(extra_columns.size());
  for (size_t i = 0; i < extra_columns.size(); ++i) {
    row->extra[i].first = extra_columns[i];
    s.ReadValue(c + 12 + static_cast<int>(i), &row->extra[i].second);
  }
}

absl::Status EnableWal(SqliteDb* db, Clock* clock, int busy_timeout_ms) {
  // The switch needs the exclusive lock. On a rollback-journal file whose
  // writer holds its lock SQLite answers SQLITE_BUSY at once, without the
  // busy handler (waiting there could deadlock), so the wait is here.
  const auto give_up =
      clock->Monotonic() + std::chrono::milliseconds(busy_timeout_ms);
  for (;;) {
    absl::Status status = db->Exec("PRAGMA journal_mode = WAL");
    if (!absl::IsUnavailable(status) || clock->Monotonic() >= give_up) {
      return status;
    }
    clock->SleepFor(std::chrono::milliseconds(10));
  }
}

namespace {}  // namespace

StoredRow ReadRow(const Statement& s,
                  const std::vector<std::string>& extra_columns,
                  int first_column) {
  StoredRow row;
  ReadRowInto(s, extra_columns, first_column, &row);
  return row;
}

absl::StatusOr<Trade> Convert(const StoredRow& row) {
  auto trade = ConvertStoredRow(row, nullptr);
  if (!trade.ok()) {
    return absl::DataLossError(
        absl::StrCat("trades row id ", row.id, ": ", trade.status().message()));
  }
  return trade;
}

absl::StatusOr<std::vector<Trade>> ReadTrades(Statement& stmt) {
  std::vector<Trade> trades;
  for (;;) {
    TS_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return trades;
    TS_ASSIGN_OR_RETURN(Trade t, Convert(ReadRow(stmt, {})));
    trades.push_back(std::move(t));
  }
}

absl::StatusOr<Trade> ReadOne(Statement& stmt, absl::string_view what) {
  TS_ASSIGN_OR_RETURN(auto trades, ReadTrades(stmt));
  if (trades.empty())
    return absl::NotFoundError(absl::StrCat(what, " not found"));
  return trades.front();
}

}  // namespace tradestore::sqlite

namespace tradestore {

using sqlite::Convert;
using sqlite::kColumns;
using sqlite::ReadOne;
using sqlite::ReadRow;
using sqlite::ReadTrades;
using sqlite::SqliteDb;
using sqlite::Statement;
using sqlite::WriteTransaction;

SqliteTradeStore::SqliteTradeStore(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
SqliteTradeStore::~SqliteTradeStore() = default;

absl::StatusOr<std::unique_ptr<SqliteTradeStore>> SqliteTradeStore::Open(
    const SqliteStoreOptions& options) {
  if ((!options.create_if_missing || options.read_only) &&
      !std::filesystem::exists(options.path)) {
    return absl::NotFoundError(
        absl::StrCat("SQLite store ", options.path, " does not exist"));
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->clock = options.clock != nullptr ? options.clock : Clock::Real();
  const int flags = SQLITE_OPEN_READWRITE |
                    (options.create_if_missing ? SQLITE_OPEN_CREATE : 0);
  const auto open = [&](int flags) {
    return options.read_only
               ? SqliteDb::OpenReadOnly(options.path, options.busy_timeout_ms)
               : SqliteDb::Open(options.path, flags, options.busy_timeout_ms);
  };
  // No other thread sees impl yet; the locks keep its members' contract.
  internal::ScopedLock writing(impl->writer_mu);
  internal::ScopedLock reading(impl->readers_mu);
  TS_ASSIGN_OR_RETURN(impl->writer, open(flags));
  if (options.read_only) {
    auto schema = sqlite::ReadCurrentSchema(impl->writer.get());
    if (!schema.ok()) {
      return absl::Status(schema.status().code(),
                          absl::StrCat("SQLite store ", options.path, ": ",
                                       schema.status().message()));
    }
    impl->schema = *std::move(schema);
  } else {
    // WAL lets readers (and a running backfill) read while this one writes.
    TS_RETURN_IF_ERROR(sqlite::EnableWal(impl->writer.get(), impl->clock,
                                         options.busy_timeout_ms));
    TS_RETURN_IF_ERROR(impl->writer->Exec(absl::StrCat(
        "PRAGMA synchronous = ", options.sync_full ? "FULL" : "NORMAL",
        "; PRAGMA wal_autocheckpoint = ",
        std::max(0, options.wal_autocheckpoint_pages))));
    TS_ASSIGN_OR_RETURN(impl->schema,
                        sqlite::UpgradeSchema(impl->writer.get(),
                                              options.require_trades_table));
  }
  for (int i = 0; i < std::max(1, options.reader_connections); ++i) {
    TS_ASSIGN_OR_RETURN(auto reader, open(SQLITE_OPEN_READWRITE));
    TS_RETURN_IF_ERROR(reader->Exec("PRAGMA query_only = ON"));
    impl->idle_readers.push_back(std::move(reader));
  }
  return std::unique_ptr<SqliteTradeStore>(
      new SqliteTradeStore(std::move(impl)));
}

absl::StatusOr<int64_t> SqliteTradeStore::Impl::InsertRow(const Trade& t) {
  TS_ASSIGN_OR_RETURN(Statement s, writer->Prepare(absl::StrCat(
                                       "INSERT INTO trades (", kColumns,
                                       ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")));
  if (t.id != 0) {
    s.Bind(1, t.id);
  } else {
    s.BindNull(1);
  }
  s.Bind(2, t.symbol).Bind(3, SideName(t.side));
  BindDecimal(s, 4, t.quantity, schema.quantity_as_blob);
  BindDecimal(s, 5, t.price, schema.price_as_blob);
  s.Bind(6, t.timestamp.ToIso8601()).Bind(7, StatusName(t.status));
  if (t.client_order_id) {
    s.Bind(8, *t.client_order_id);
  } else {
    s.BindNull(8);
  }
  if (t.fee) {
    BindDecimal(s, 9, *t.fee, schema.fee_as_blob);
  } else {
    s.BindNull(9);
  }
  s.Bind(10, t.version)
      .Bind(11, t.created_at.ToIso8601())
      .Bind(12, t.updated_at.ToIso8601());
  TS_RETURN_IF_ERROR(s.Run());
  return static_cast<int64_t>(sqlite3_last_insert_rowid(writer->get()));
}

absl::StatusOr<InsertResult> SqliteTradeStore::Insert(const Trade& input) {
  return InsertEnqueued(input, /*enqueue=*/false, nullptr);
}

absl::StatusOr<InsertResult> SqliteTradeStore::InsertEnqueued(
    const Trade& input, bool enqueue, int64_t* outbox_seq) {
  if (outbox_seq != nullptr) *outbox_seq = 0;
  TS_RETURN_IF_ERROR(ValidateTrade(input));
  Impl& m = *impl_;
  internal::ScopedLock lock(m.writer_mu);
  TS_RETURN_IF_ERROR(m.CheckDurable());
  TS_ASSIGN_OR_RETURN(auto txn, WriteTransaction::Begin(m.writer.get()));
  if (input.client_order_id) {
    TS_ASSIGN_OR_RETURN(
        auto existing, m.FindForWrite("client_order_id = ?", [&](Statement& s) {
          s.Bind(1, *input.client_order_id);
        }));
    if (existing) return InsertResult{*existing, false};
  }
  if (input.id != 0) {
    TS_ASSIGN_OR_RETURN(
        auto existing,
        m.FindForWrite("id = ?", [&](Statement& s) { s.Bind(1, input.id); }));
    if (existing) {
      if (SameContent(*existing, input)) return InsertResult{*existing, false};
      return absl::AlreadyExistsError(
          absl::StrCat("id ", input.id, " already holds a different trade"));
    }
  }
  Trade t = input;
  t.version = 1;
  t.created_at = t.updated_at = m.clock->Now();
  TS_ASSIGN_OR_RETURN(t.id, m.InsertRow(t));
  TS_RETURN_IF_ERROR(m.CommitWrite(*txn, t, enqueue, outbox_seq));
  return InsertResult{t, true};
}

absl::StatusOr<Trade> SqliteTradeStore::UpdateStatus(
    int64_t id, TradeStatus status, std::optional<int64_t> expected_version) {
  return UpdateStatusEnqueued(id, status, expected_version, /*enqueue=*/false,
                              nullptr);
}

absl::StatusOr<Trade> SqliteTradeStore::UpdateStatusEnqueued(
    int64_t id, TradeStatus status, std::optional<int64_t> expected_version,
    bool enqueue, int64_t* outbox_seq) {
  if (outbox_seq != nullptr) *outbox_seq = 0;
  Impl& m = *impl_;
  internal::ScopedLock lock(m.writer_mu);
  TS_RETURN_IF_ERROR(m.CheckDurable());
  TS_ASSIGN_OR_RETURN(auto txn, WriteTransaction::Begin(m.writer.get()));
  TS_ASSIGN_OR_RETURN(auto found, m.FindForWrite("id = ?", [&](Statement& s) {
    s.Bind(1, id);
  }));
  if (!found)
    return absl::NotFoundError(absl::StrCat("trade ", id, " not found"));
  Trade t = *found;
  TS_RETURN_IF_ERROR(CheckExpectedVersion(t, expected_version));
  TS_RETURN_IF_ERROR(CheckTransition(t.status, status));
  if (t.status == status) return t;
  t.status = status;
  t.version += 1;
  t.updated_at = std::max(m.clock->Now(), t.updated_at);
  TS_ASSIGN_OR_RETURN(
      Statement s,
      m.writer->Prepare("UPDATE trades SET status = ?, version = ?, "
                        "updated_at = ? WHERE id = ?"));
  TS_RETURN_IF_ERROR(s.Bind(1, StatusName(status))
                         .Bind(2, t.version)
                         .Bind(3, t.updated_at.ToIso8601())
                         .Bind(4, id)
                         .Run());
  TS_RETURN_IF_ERROR(m.CommitWrite(*txn, t, enqueue, outbox_seq));
  return t;
}

absl::StatusOr<Trade> SqliteTradeStore::Get(int64_t id) {
  Impl::ReaderLease db(impl_.get());
  TS_ASSIGN_OR_RETURN(Statement s,
                      db->Prepare(absl::StrCat("SELECT ", kColumns,
                                               " FROM trades WHERE id = ?")));
  s.Bind(1, id);
  return ReadOne(s, absl::StrCat("trade ", id));
}

absl::StatusOr<Trade> SqliteTradeStore::GetByClientOrderId(
    absl::string_view key) {
  Impl::ReaderLease db(impl_.get());
  TS_ASSIGN_OR_RETURN(Statement s,
                      db->Prepare(absl::StrCat("SELECT ", kColumns,
                                               " FROM trades WHERE "
                                               "client_order_id = ?")));
  s.Bind(1, key);
  return ReadOne(s, absl::StrCat("trade with client_order_id \"", key, "\""));
}

absl::StatusOr<std::vector<Trade>> SqliteTradeStore::QueryBySymbol(
    const SymbolQuery& q) {
  if (q.limit < 1 || q.limit > 10000) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit: ", q.limit, " is not in 1..10000"));
  }
  std::vector<Trade> trades;
  {
    Impl::ReaderLease db(impl_.get());
    TS_ASSIGN_OR_RETURN(Statement s,
                        db->Prepare(absl::StrCat("SELECT ", kColumns,
                                                 " FROM trades WHERE "
                                                 "symbol = ?")));
    s.Bind(1, q.symbol);
    // Legacy timestamps mix text and epoch numbers, so SQL cannot compare
    // them; filter and order after the exact conversion.
    TS_ASSIGN_OR_RETURN(trades, ReadTrades(s));
  }
  std::erase_if(trades, [&](const Trade& t) {
    return t.timestamp < q.from || t.timestamp >= q.to;
  });
  std::sort(trades.begin(), trades.end(), [](const Trade& a, const Trade& b) {
    return a.timestamp != b.timestamp ? a.timestamp > b.timestamp : a.id > b.id;
  });
  if (trades.size() > static_cast<size_t>(q.limit)) trades.resize(q.limit);
  return trades;
}

absl::StatusOr<int64_t> SqliteTradeStore::Count() {
  Impl::ReaderLease db(impl_.get());
  TS_ASSIGN_OR_RETURN(Statement s, db->Prepare("SELECT count(*) FROM trades"));
  TS_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.ColumnInt(0) : 0;
}

absl::StatusOr<std::vector<Trade>> SqliteTradeStore::ScanById(int64_t after_id,
                                                              int limit) {
  TS_ASSIGN_OR_RETURN(auto rows, ScanStoredRows(after_id, limit));
  std::vector<Trade> trades;
  trades.reserve(rows.size());
  for (const StoredRow& row : rows) {
    TS_ASSIGN_OR_RETURN(Trade t, Convert(row));
    trades.push_back(std::move(t));
  }
  return trades;
}

absl::StatusOr<int64_t> SqliteTradeStore::MaxId() {
  Impl::ReaderLease db(impl_.get());
  TS_ASSIGN_OR_RETURN(Statement s,
                      db->Prepare("SELECT coalesce(max(id), 0) FROM trades"));
  TS_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.ColumnInt(0) : 0;
}

absl::Status SqliteTradeStore::CheckUnchanged() const {
  internal::ScopedLock lock(impl_->writer_mu);
  return impl_->writer->CheckUnchanged();
}

const std::string& SqliteTradeStore::store_id() const {
  return impl_->schema.store_id;
}

const std::string& SqliteTradeStore::path() const {
  return impl_->options.path;
}

const std::vector<std::string>& SqliteTradeStore::extra_columns() const {
  return impl_->schema.extra_columns;
}

absl::StatusOr<int> SqliteTradeStore::SchemaVersion() {
  Impl::ReaderLease db(impl_.get());
  TS_ASSIGN_OR_RETURN(Statement s, db->Prepare("PRAGMA user_version"));
  TS_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? static_cast<int>(s.ColumnInt(0)) : 0;
}

absl::Status SqliteTradeStore::Impl::CommitWrite(WriteTransaction& txn,
                                                 const Trade& t, bool enqueue,
                                                 int64_t* outbox_seq) {
  if (enqueue) {
    TS_ASSIGN_OR_RETURN(int64_t seq, Enqueue(t));
    if (outbox_seq != nullptr) *outbox_seq = seq;
  }
  internal::Failpoint("sqlite.write.before_commit");
  TS_RETURN_IF_ERROR(txn.Commit());
  internal::Failpoint("sqlite.write.after_commit");
  return absl::OkStatus();
}

}  // namespace tradestore
