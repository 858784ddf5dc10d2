#include "tradestore/postgres/copy_out.h"

#include <pqxx/pqxx>
#include <pqxx/tablereader>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/postgres/pg_binary_copy.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/postgres/pg_transact.h"
#include "tradestore/postgres/row_text.h"

namespace tradestore::pg {
namespace {

// The column's value as a Decimal; NULL only where the column allows it.
absl::StatusOr<Decimal> DecimalField(const pg::BinaryRow& row, int i) {
  TS_ASSIGN_OR_RETURN(int64_t units,
                      pg::ReadNumericUnits(row.field(i), Decimal::kScale));
  return Decimal::FromUnits(units);
}

// jsonb_send's layout: a version byte (1), then the text.
absl::Status ExtraField(const pg::BinaryRow& row, int i, std::string& extra) {
  extra.clear();
  if (row.null(i)) return absl::OkStatus();
  const absl::string_view field = row.field(i);
  if (field.empty() || field[0] != 1) {
    return absl::DataLossError("extra is not jsonb version 1");
  }
  extra.assign(field.data() + 1, field.size() - 1);
  return absl::OkStatus();
}

// The trade columns (kColumns) and extra, as kPgVerifyColumns selects them.
absl::Status DecodeTrade(const pg::BinaryRow& row, Trade& t,
                         std::string& extra) {
  const int columns = static_cast<int>(kColumns.size()) + 1;
  if (row.size() != columns) {
    return absl::DataLossError(
        absl::StrCat("Postgres sent ", row.size(), " columns, not ", columns));
  }
  TS_RETURN_IF_ERROR(ExtraField(row, columns - 1, extra));
  // client_order_id (7) and fee (8) may be NULL, and the select sends
  // version (9), created_at (10) and updated_at (11) as NULL where they hold
  // their derived value; no other trade column may be NULL.
  for (int i = 0; i < 7; ++i) {
    if (row.null(i)) {
      return absl::DataLossError(absl::StrCat(kColumns[i], " is NULL"));
    }
  }
  TS_ASSIGN_OR_RETURN(t.id, pg::ReadInt8(row.field(0)));
  t.symbol.assign(row.field(1).data(), row.field(1).size());
  TS_ASSIGN_OR_RETURN(t.side, ParseSide(row.field(2)));
  TS_ASSIGN_OR_RETURN(t.quantity, DecimalField(row, 3));
  TS_ASSIGN_OR_RETURN(t.price, DecimalField(row, 4));
  TS_ASSIGN_OR_RETURN(t.timestamp, pg::ReadTimestamptz(row.field(5)));
  TS_ASSIGN_OR_RETURN(t.status, ParseStatus(row.field(6)));
  // `t` may hold an earlier row: every field is set, NULLs too.
  if (row.null(7)) {
    t.client_order_id.reset();
  } else {
    t.client_order_id.emplace(row.field(7));
  }
  if (row.null(8)) {
    t.fee.reset();
  } else {
    TS_ASSIGN_OR_RETURN(t.fee, DecimalField(row, 8));
  }
  if (row.null(9)) {
    t.version = 1;
  } else {
    TS_ASSIGN_OR_RETURN(t.version, pg::ReadInt8(row.field(9)));
  }
  if (row.null(10)) {
    t.created_at = t.timestamp;
  } else {
    TS_ASSIGN_OR_RETURN(t.created_at, pg::ReadTimestamptz(row.field(10)));
  }
  if (row.null(11)) {
    t.updated_at = t.created_at;
  } else {
    TS_ASSIGN_OR_RETURN(t.updated_at, pg::ReadTimestamptz(row.field(11)));
  }
  return absl::OkStatus();
}

// Streams `select` (a SELECT of kPgSelectColumns ordered by id) with COPY,
// calling `on_line` per row (without its newline) until it returns false.
// TimeZone and DateStyle are pinned so the text is the canonical form
// whatever the server's settings.
absl::Status CopyOut(PgPool& pool, const std::string& select,
                     const std::function<bool(absl::string_view)>& on_line) {
  return pg::Transact(
      pool,
      [&](pqxx::work& txn) -> absl::Status {
        txn.exec("SET LOCAL TimeZone = 'UTC'");
        txn.exec("SET LOCAL DateStyle = 'ISO'");
        std::vector<std::string> no_columns;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        // tablereader runs "COPY <name> TO STDOUT": a parenthesised query
        // is a valid <name>. The query holds only integers we formatted.
        pqxx::tablereader reader(txn, absl::StrCat("(", select, ")"),
                                 no_columns.begin(), no_columns.end());
#pragma GCC diagnostic pop
        std::string line;
        bool more = true;
        while (reader.get_raw_line(line)) {
          if (!line.empty() && line.back() == '\n') line.pop_back();
          if (more) more = on_line(line);
        }
        reader.complete();
        return absl::OkStatus();
      },
      PgPool::Kind::kRead, pg::Bound::kNone);
}

// The reason a row read from Postgres is not a valid trade.
absl::Status UnreadableInPostgres(const absl::Status& why) {
  return absl::Status(why.code(),
                      absl::StrCat("unreadable in Postgres: ", why.message()));
}

absl::StatusOr<int64_t> RowId(const pg::BinaryRow& row) {
  if (row.size() < 1 || row.null(0)) {
    return absl::DataLossError("a trades row without its id");
  }
  return pg::ReadInt8(row.field(0));
}

// Decodes each row into the sink.
std::function<absl::Status(const pg::BinaryRow&)> IntoSink(TradeSink& sink) {
  return [&sink](const pg::BinaryRow& row) {
    TS_ASSIGN_OR_RETURN(int64_t id, RowId(row));
    const TradeSink::Slot slot = sink.Next(id);
    if (absl::Status s = DecodeTrade(row, *slot.trade, *slot.extra); !s.ok()) {
      sink.Unreadable(id, UnreadableInPostgres(s));
    }
    return absl::OkStatus();
  };
}

// The WHERE condition of a selection. COPY takes no parameters; the query
// holds only integers printed here (one array literal, which parses and
// plans faster than an IN list of the same ids).
std::string Condition(const IdSelection& selection) {
  std::vector<std::string> terms;
  for (const auto& [first, last] : selection.ranges) {
    terms.push_back(absl::StrCat("id BETWEEN ", first, " AND ", last));
  }
  if (!selection.ids.empty()) {
    terms.push_back(absl::StrCat(
        "id = ANY ('{", absl::StrJoin(selection.ids, ","), "}'::int8[])"));
  }
  return terms.empty() ? "false" : absl::StrJoin(terms, " OR ");
}

}  // namespace

absl::Status CopyOutRawRows(pg::BinaryCopyReader& reader, int64_t after_id,
                            int64_t last_id, RawRows& rows) {
  const std::string select =
      absl::StrCat("SELECT ", kPgVerifyColumns, " FROM trades WHERE id > ",
                   after_id, " AND id <= ", last_id, " ORDER BY id");
  auto clear = [&] {
    rows.ids.clear();
    rows.ends.clear();
    rows.bytes.clear();
  };
  clear();
  return reader.Run(select, clear, [&](const pg::BinaryRow& row) {
    TS_ASSIGN_OR_RETURN(int64_t id, RowId(row));
    rows.ids.push_back(id);
    rows.bytes.append(row.raw().data(), row.raw().size());
    rows.ends.push_back(rows.bytes.size());
    return absl::OkStatus();
  });
}

absl::Status DecodeRawTrade(absl::string_view raw, Trade& t,
                            std::string& extra) {
  pg::BinaryRow row;
  absl::Status s = pg::ParseBinaryRow(raw, &row);
  if (s.ok()) s = DecodeTrade(row, t, extra);
  return s.ok() ? s : UnreadableInPostgres(s);
}

absl::Status CopyOutTrades(PgPool& pool, const IdSelection& selection,
                           TradeSink& sink) {
  const std::string select =
      absl::StrCat("SELECT ", kPgVerifyColumns, " FROM trades WHERE ",
                   Condition(selection), " ORDER BY id");
  return pg::ReadEach(
      pool,
      [&](pqxx::transaction_base& txn) {
        sink.Restart();  // a retry starts over
        return pg::CopyOutInTransaction(txn, select, IntoSink(sink));
      },
      pg::Bound::kNone);
}

absl::Status CopyOutTradeLines(
    PgPool& pool, int64_t first_id, int64_t last_id,
    const std::function<bool(absl::string_view)>& on_line) {
  return CopyOut(pool,
                 absl::StrCat("SELECT ", kPgSelectColumns,
                              " FROM trades WHERE id BETWEEN ", first_id,
                              " AND ", last_id, " ORDER BY id"),
                 on_line);
}

}  // namespace tradestore::pg
