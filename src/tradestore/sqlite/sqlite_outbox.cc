// SqliteTradeStore's dual-write outbox, the reverse catch-up write and the
// meta table.
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/sqlite/relay_progress.h"
#include "tradestore/sqlite/sqlite_store_impl.h"

namespace tradestore {

using sqlite::Statement;
using sqlite::WriteTransaction;

namespace {

// A column name of the file's own schema as an SQL identifier.
std::string QuotedName(absl::string_view name) {
  return absl::StrCat("\"", absl::StrReplaceAll(name, {{"\"", "\"\""}}), "\"");
}

}  // namespace

absl::StatusOr<int64_t> SqliteTradeStore::Impl::Enqueue(const Trade& t) {
  // The seq is given here rather than by AUTOINCREMENT, whose sqlite_sequence
  // write costs every trade's commit a page. Older files keep theirs.
  static const std::string* given = new std::string(absl::StrCat(
      "INSERT INTO tradestore_outbox (seq, trade_id, version, enqueued_at) "
      "VALUES (",
      sqlite::LastOutboxSeqSql(), " + 1, ?, ?, ?)"));
  static const std::string* autoincrement = new std::string(
      "INSERT INTO tradestore_outbox (trade_id, version, "
      "enqueued_at) VALUES (?, ?, ?)");
  TS_ASSIGN_OR_RETURN(
      Statement s,
      writer->Prepare(schema.outbox_autoincrement ? *autoincrement : *given));
  TS_RETURN_IF_ERROR(s.Bind(1, t.id)
                         .Bind(2, t.version)
                         .Bind(3, clock->Now().ToIso8601())
                         .Run());
  return static_cast<int64_t>(sqlite3_last_insert_rowid(writer->get()));
}

std::string SqliteTradeStore::Impl::StoredColumns(absl::string_view table) {
  std::string columns;
  for (absl::string_view name : absl::StrSplit(sqlite::kColumns, ", ")) {
    absl::StrAppend(&columns, columns.empty() ? "" : ", ", table, name);
  }
  for (const std::string& name : schema.extra_columns) {
    absl::StrAppend(&columns, ", ", table, QuotedName(name));
  }
  return columns;
}

absl::StatusOr<OutboxBatch> SqliteTradeStore::ReadOutbox(int limit,
                                                         int64_t after_seq) {
  Impl::ReaderLease db(impl_.get());
  // One statement is one snapshot: each entry comes with its trade's row as
  // it is now (the newest version, which is what Postgres must end up with).
  TS_ASSIGN_OR_RETURN(
      Statement s,
      db->Prepare(absl::StrCat(
          "SELECT o.seq, o.trade_id, o.version, o.enqueued_at, ",
          impl_->StoredColumns("t."),
          " FROM tradestore_outbox o LEFT JOIN trades t ON t.id = o.trade_id "
          "WHERE o.seq > ? ORDER BY o.seq LIMIT ?")));
  s.Bind(1, after_seq).Bind(2, int64_t{limit});
  OutboxBatch batch;
  std::map<int64_t, StoredRow> rows;
  for (;;) {
    TS_ASSIGN_OR_RETURN(bool more, s.Step());
    if (!more) break;
    OutboxEntry e;
    e.seq = s.ColumnInt(0);
    e.trade_id = s.ColumnInt(1);
    e.version = s.ColumnInt(2);
    auto when = Timestamp::Parse(s.ColumnText(3));
    if (when.ok()) e.enqueued_at = *when;
    if (!s.ColumnIsNull(4) && !rows.count(e.trade_id)) {
      rows.emplace(e.trade_id, sqlite::ReadRow(s, impl_->schema.extra_columns,
                                               /*first_column=*/4));
    }
    batch.last_seq = e.seq;
    batch.entries.push_back(e);
  }
  batch.rows.reserve(rows.size());
  for (auto& [id, row] : rows) batch.rows.push_back(std::move(row));
  return batch;
}

absl::Status SqliteTradeStore::AckOutbox(int64_t through_seq,
                                         const RelayAck& ack) {
  Impl& m = *impl_;
  internal::ScopedLock lock(m.writer_mu);
  // An ack lost to a power cut only replays entries, which is harmless: it
  // commits without its own fsync (WAL, synchronous=NORMAL), and the next
  // trade's commit makes it durable. Trade writes never wait for an ack's
  // fsync that way.
  const bool full = m.options.sync_full;
  if (full) TS_RETURN_IF_ERROR(m.writer->Exec("PRAGMA synchronous = NORMAL"));
  absl::Status acked =
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(m.writer_mu) -> absl::Status {
    TS_ASSIGN_OR_RETURN(auto txn, WriteTransaction::Begin(m.writer.get()));
    TS_ASSIGN_OR_RETURN(
        Statement s,
        m.writer->Prepare("DELETE FROM tradestore_outbox WHERE seq <= ?"));
    TS_RETURN_IF_ERROR(s.Bind(1, through_seq).Run());
    TS_RETURN_IF_ERROR(sqlite::RecordRelayAck(
        *m.writer, ack, sqlite3_changes(m.writer->get()), through_seq));
    return txn->Commit();
  }();
  if (full) {
    // Trade commits must not run without their fsync: until it is set back,
    // writes are refused.
    absl::Status restored = m.writer->Exec("PRAGMA synchronous = FULL");
    m.sync_lost = !restored.ok();
    if (!restored.ok()) return restored;
  }
  return acked;
}

absl::StatusOr<OutboxStatus> SqliteTradeStore::GetOutboxStatus() {
  static const std::string* sql = new std::string(absl::StrCat(
      "SELECT (SELECT count(*) FROM tradestore_outbox), (SELECT enqueued_at "
      "FROM tradestore_outbox ORDER BY seq LIMIT 1), ",
      sqlite::LastOutboxSeqSql(),
      ", (SELECT coalesce(min(seq), 0) FROM tradestore_outbox)"));
  static const std::string* autoincrement = new std::string(absl::StrReplaceAll(
      *sql, {{sqlite::LastOutboxSeqSql(),
              "(SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name "
              "= 'tradestore_outbox')"}}));
  Impl::ReaderLease db(impl_.get());
  TS_ASSIGN_OR_RETURN(
      Statement s,
      db->Prepare(impl_->schema.outbox_autoincrement ? *autoincrement : *sql));
  TS_ASSIGN_OR_RETURN(bool row, s.Step());
  OutboxStatus status;
  if (!row) return status;
  status.entries = s.ColumnInt(0);
  if (!s.ColumnIsNull(1)) {
    auto oldest = Timestamp::Parse(s.ColumnText(1));
    if (oldest.ok()) status.oldest = *oldest;
  }
  status.last_seq = s.ColumnInt(2);
  status.oldest_seq = s.ColumnInt(3);
  return status;
}

absl::StatusOr<bool> SqliteTradeStore::Impl::PutIfNewerLocked(
    const Trade& trade) {
  TS_RETURN_IF_ERROR(ValidateTrade(trade));
  if (trade.id <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("id: ", trade.id, " must be a stored trade's id"));
  }
  TS_ASSIGN_OR_RETURN(auto existing, FindForWrite("id = ?", [&](Statement& s) {
                        s.Bind(1, trade.id);
                      }));
  if (existing) {
    if (existing->version >= trade.version) return false;
    // Only the status may differ between versions of one trade.
    Trade same = trade;
    same.status = existing->status;
    if (!SameContent(*existing, same)) {
      return absl::AlreadyExistsError(
          absl::StrCat("id ", trade.id, " holds a different trade in SQLite"));
    }
    // An UPDATE keeps a legacy row's extra columns.
    TS_ASSIGN_OR_RETURN(
        Statement up,
        writer->Prepare("UPDATE trades SET status = ?, version = ?, "
                        "created_at = ?, updated_at = ? WHERE id = ?"));
    TS_RETURN_IF_ERROR(up.Bind(1, StatusName(trade.status))
                           .Bind(2, trade.version)
                           .Bind(3, trade.created_at.ToIso8601())
                           .Bind(4, trade.updated_at.ToIso8601())
                           .Bind(5, trade.id)
                           .Run());
    return true;
  }
  TS_RETURN_IF_ERROR(InsertRow(trade).status());
  return true;
}

absl::StatusOr<int64_t> SqliteTradeStore::PutIfNewer(
    const std::vector<Trade>& trades) {
  Impl& m = *impl_;
  internal::ScopedLock lock(m.writer_mu);
  TS_RETURN_IF_ERROR(m.CheckDurable());
  TS_ASSIGN_OR_RETURN(auto txn, WriteTransaction::Begin(m.writer.get()));
  int64_t written = 0;
  for (const Trade& t : trades) {
    TS_ASSIGN_OR_RETURN(bool w, m.PutIfNewerLocked(t));
    written += w ? 1 : 0;
  }
  TS_RETURN_IF_ERROR(txn->Commit());
  return written;
}

absl::StatusOr<bool> SqliteTradeStore::PutExtraColumns(
    int64_t id, const std::vector<SqlValue>& values) {
  Impl& m = *impl_;
  const std::vector<std::string>& columns = m.schema.extra_columns;
  if (values.size() != columns.size() || columns.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        values.size(), " values for ", columns.size(), " extra columns"));
  }
  std::string sql = "UPDATE trades SET ";
  for (size_t i = 0; i < columns.size(); ++i) {
    absl::StrAppend(&sql, i > 0 ? ", " : "", QuotedName(columns[i]), " = ?");
  }
  absl::StrAppend(&sql, " WHERE id = ?");
  internal::ScopedLock lock(m.writer_mu);
  TS_RETURN_IF_ERROR(m.CheckDurable());
  TS_ASSIGN_OR_RETURN(auto txn, WriteTransaction::Begin(m.writer.get()));
  TS_ASSIGN_OR_RETURN(Statement s, m.writer->Prepare(sql));
  for (size_t i = 0; i < values.size(); ++i) {
    s.Bind(static_cast<int>(i) + 1, values[i]);
  }
  TS_RETURN_IF_ERROR(s.Bind(static_cast<int>(values.size()) + 1, id).Run());
  const bool updated = sqlite3_changes(m.writer->get()) > 0;
  TS_RETURN_IF_ERROR(txn->Commit());
  return updated;
}

absl::StatusOr<bool> SqliteTradeStore::DeleteRow(int64_t id) {
  Impl& m = *impl_;
  internal::ScopedLock lock(m.writer_mu);
  TS_RETURN_IF_ERROR(m.CheckDurable());
  TS_ASSIGN_OR_RETURN(auto txn, WriteTransaction::Begin(m.writer.get()));
  TS_ASSIGN_OR_RETURN(Statement s,
                      m.writer->Prepare("DELETE FROM trades WHERE id = ?"));
  TS_RETURN_IF_ERROR(s.Bind(1, id).Run());
  const bool deleted = sqlite3_changes(m.writer->get()) > 0;
  TS_RETURN_IF_ERROR(txn->Commit());
  return deleted;
}

absl::Status SqliteTradeStore::SetMeta(
    const std::vector<std::pair<std::string, std::string>>& entries) {
  Impl& m = *impl_;
  internal::ScopedLock lock(m.writer_mu);
  TS_RETURN_IF_ERROR(m.CheckDurable());
  TS_ASSIGN_OR_RETURN(auto txn, WriteTransaction::Begin(m.writer.get()));
  for (const auto& [key, value] : entries) {
    TS_ASSIGN_OR_RETURN(
        Statement put,
        m.writer->Prepare(
            "INSERT OR REPLACE INTO tradestore_meta VALUES (?, ?)"));
    TS_RETURN_IF_ERROR(put.Bind(1, key).Bind(2, value).Run());
  }
  return txn->Commit();
}

}  // namespace tradestore
