#include "tradestore/postgres/trade_copy.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "tradestore/internal/embedded_sql.h"
#include "tradestore/postgres/pg_binary_copy.h"
#include "tradestore/postgres/pg_connection.h"

namespace tradestore {
namespace {

constexpr char kColumns[] =
    "id, symbol, side, quantity, price, \"timestamp\", status, "
    "client_order_id, fee, version, created_at, updated_at, extra";

// Postgres's binary COPY format: the header (pg::kBinaryCopyHeader); then
// per row the field count and each field as a length (-1 for NULL) and its
// bytes in the type's send format; -1 at the end.
constexpr int16_t kRowFields = 13;  // the trade's 12 columns and extra

// Writes a row's bytes at a pointer into room reserved by RowBound: a
// batch is sized once and written without a capacity check per field (the
// appends cost as much as the rest of the conversion).
class RowWriter {
 public:
  explicit RowWriter(char* p) : p_(p) {}
  char* end() const { return p_; }

  // Big-endian, as every binary COPY integer is.
  void Put16(uint16_t v) { Raw(__builtin_bswap16(v)); }
  void Put32(uint32_t v) { Raw(__builtin_bswap32(v)); }
  void Put64(uint64_t v) { Raw(__builtin_bswap64(v)); }
  void Bytes(absl::string_view v) {
    if (!v.empty()) std::memcpy(p_, v.data(), v.size());
    p_ += v.size();
  }

  void PutNull() { Put32(0xFFFFFFFF); }
  void PutInt8(int64_t v) {
    Put32(8);
    Put64(static_cast<uint64_t>(v));
  }
  void PutText(absl::string_view v) {
    Put32(static_cast<uint32_t>(v.size()));
    Bytes(v);
  }
  // jsonb_send's layout: a version byte, then the JSON text; NULL for "".
  void PutJsonb(absl::string_view json) {
    if (json.empty()) {
      PutNull();
      return;
    }
    Put32(static_cast<uint32_t>(1 + json.size()));
    Bytes(absl::string_view("\1", 1));
    Bytes(json);
  }
  void PutTimestamp(Timestamp t) {
    PutInt8(t.unix_micros() - pg::kPgEpochUnixMicros);
  }
  // numeric_send's layout: ndigits, weight, sign, dscale, then base-10000
  // digits, the first worth 10000^weight; leading and trailing zero digits
  // left out (as the server stores them). dscale 8 says every value has
  // exactly 8 decimals, so the server never rounds.
  void PutDecimal(const Decimal& d) {
    const bool negative = d.units() < 0;
    // |units| <= kMaxUnits < 10^18: the integer part has at most 10 digits.
    const uint64_t units = negative ? 0 - static_cast<uint64_t>(d.units())
                                    : static_cast<uint64_t>(d.units());
    const uint64_t whole = units / 100'000'000;
    const uint64_t fraction = units % 100'000'000;
    const uint16_t digits[5] = {static_cast<uint16_t>(whole / 100'000'000),
                                static_cast<uint16_t>(whole / 10'000 % 10'000),
                                static_cast<uint16_t>(whole % 10'000),
                                static_cast<uint16_t>(fraction / 10'000),
                                static_cast<uint16_t>(fraction % 10'000)};
    int first = 0;
    while (first < 5 && digits[first] == 0) ++first;
    int last = 5;
    while (last > first && digits[last - 1] == 0) --last;
    const int count = last - first;
    Put32(static_cast<uint32_t>(8 + 2 * count));
    Put16(static_cast<uint16_t>(count));
    Put16(static_cast<uint16_t>(count == 0 ? 0 : 2 - first));  // weight
    Put16(negative ? 0x4000 : 0x0000);
    Put16(8);
    for (int i = first; i < last; ++i) Put16(digits[i]);
  }

 private:
  template <typename T>
  void Raw(T v) {
    std::memcpy(p_, &v, sizeof v);
    p_ += sizeof v;
  }

  char* p_;
};

// The most bytes a row of the trade and `extra` takes: the field count, 13
// lengths, five 8-byte integers and timestamps, three numerics of at most
// five digits, side and status names, the two free texts, and extra with
// jsonb's version byte.
size_t RowBound(const Trade& t, absl::string_view extra) {
  return 2 + 13 * 4 + 5 * 8 + 3 * (8 + 5 * 2) + 4 + 16 + t.symbol.size() +
         (t.client_order_id ? t.client_order_id->size() : 0) + 1 + extra.size();
}

// What a row holds: every value (what COPY FROM stores), or as the
// verifier's select sends a stored row (pg::kPgVerifyColumns: version,
// created_at and updated_at NULL where they hold their derived value).
enum class Form { kStored, kVerify };

// The row: the trade's columns in kColumns' order, then extra as jsonb
// (NULL for "").
void WriteRow(RowWriter& w, const Trade& t, absl::string_view extra,
              Form form) {
  w.Put16(kRowFields);
  w.PutInt8(t.id);
  w.PutText(t.symbol);
  w.PutText(SideName(t.side));
  w.PutDecimal(t.quantity);
  w.PutDecimal(t.price);
  w.PutTimestamp(t.timestamp);
  w.PutText(StatusName(t.status));
  if (t.client_order_id) {
    w.PutText(*t.client_order_id);
  } else {
    w.PutNull();
  }
  if (t.fee) {
    w.PutDecimal(*t.fee);
  } else {
    w.PutNull();
  }
  const bool verify = form == Form::kVerify;
  if (verify && t.version == 1) {
    w.PutNull();
  } else {
    w.PutInt8(t.version);
  }
  if (verify && t.created_at == t.timestamp) {
    w.PutNull();
  } else {
    w.PutTimestamp(t.created_at);
  }
  if (verify && t.updated_at == t.created_at) {
    w.PutNull();
  } else {
    w.PutTimestamp(t.updated_at);
  }
  w.PutJsonb(extra);
}

// Appends `count` rows to `out`: room for all of them at once, written, and
// cut to what they took. `write(w, i)` writes row i with the writer;
// `bound(i)` says how much room it may take.
template <typename Bound, typename Write>
void AppendRows(std::string* out, size_t count, Bound bound, Write write) {
  size_t room = 0;
  for (size_t i = 0; i < count; ++i) room += bound(i);
  const size_t at = out->size();
  out->resize(at + room);
  RowWriter w(out->data() + at);
  for (size_t i = 0; i < count; ++i) write(w, i);
  out->resize(static_cast<size_t>(w.end() - out->data()));
}

// The failed result's message and SQLSTATE, thrown as libpqxx would.
[[noreturn]] void ThrowCopyError(pg_conn* conn, const pg_result* result,
                                 const std::string& query) {
  pg::ThrowLibpqError(
      conn,
      result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn),
      PQresultErrorField(result, PG_DIAG_SQLSTATE), query);
}

struct ResultDeleter {
  void operator()(pg_result* r) const { PQclear(r); }
};
using Result = std::unique_ptr<pg_result, ResultDeleter>;

}  // namespace

std::string CopyData(const std::vector<BackfillRow>& rows) {
  std::string data(pg::kBinaryCopyHeader);
  AppendRows(
      &data, rows.size(),
      [&](size_t i) { return RowBound(rows[i].trade, rows[i].extra_json); },
      [&](RowWriter& w, size_t i) {
        WriteRow(w, rows[i].trade, rows[i].extra_json, Form::kStored);
      });
  data.append("\xFF\xFF", 2);  // the trailer: a field count of -1
  return data;
}

namespace pg {

void AppendTradeRow(std::string* out, const Trade& trade,
                    absl::string_view extra) {
  AppendRows(
      out, 1, [&](size_t) { return RowBound(trade, extra); },
      [&](RowWriter& w, size_t) { WriteRow(w, trade, extra, Form::kVerify); });
}

void CopyRows(pqxx::dbtransaction& txn, const std::string& table,
              absl::string_view data) {
  pg_conn* conn = RawHandle(txn);
  // The table name is ours (trades or a staging table), never a caller's.
  const std::string query =
      absl::StrCat("COPY ", txn.quote_name(table), " (", kColumns,
                   ") FROM STDIN (FORMAT binary)");
  {
    const Result started(PQexec(conn, query.c_str()));
    if (PQresultStatus(started.get()) != PGRES_COPY_IN) {
      ThrowCopyError(conn, started.get(), query);
    }
  }
  // libpq queues and sends as it goes; a failure here is the connection's.
  constexpr size_t kChunk = 1 << 18;
  bool sent = true;
  for (size_t at = 0; sent && at < data.size(); at += kChunk) {
    sent = PQputCopyData(
               conn, data.data() + at,
               static_cast<int>(std::min(kChunk, data.size() - at))) == 1;
  }
  // Sending fails only when the connection does.
  if (!sent || PQputCopyEnd(conn, nullptr) != 1) {
    throw pqxx::broken_connection(PQerrorMessage(conn));
  }
  // Every result is read, so the connection is left ready for libpqxx.
  Result failed;
  while (pg_result* r = PQgetResult(conn)) {
    Result result(r);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && failed == nullptr) {
      failed = std::move(result);
    }
  }
  if (failed != nullptr) ThrowCopyError(conn, failed.get(), query);
}

int64_t ExecRaw(pqxx::dbtransaction& txn, const std::string& sql) {
  pg_conn* conn = RawHandle(txn);
  const Result result(PQexec(conn, sql.c_str()));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    ThrowCopyError(conn, result.get(), sql);
  }
  return PQntuples(result.get());
}

void CreateStage(pqxx::dbtransaction& txn, const std::string& stage) {
  // The name is ours, never a caller's.
  txn.exec(absl::StrCat("CREATE TEMP TABLE ", txn.quote_name(stage),
                        " (LIKE trades INCLUDING DEFAULTS) ON COMMIT DROP"));
}

std::string UseSessionStage(pqxx::dbtransaction& txn) {
  static const std::string* name = new std::string(
      absl::StrCat("tradestore_stage_", internal::EmbeddedMigrations().size()));
  txn.exec(absl::StrCat("CREATE TEMP TABLE IF NOT EXISTS ", *name,
                        " (LIKE trades INCLUDING DEFAULTS) "
                        "ON COMMIT DELETE ROWS"));
  return *name;
}

std::string UpsertFromStageSql(const std::string& stage) {
  return absl::StrCat(
      "INSERT INTO trades (", kColumns, ") SELECT ", kColumns, " FROM ", stage,
      " ORDER BY id ON CONFLICT (id) DO UPDATE SET "
      "symbol = EXCLUDED.symbol, side = EXCLUDED.side, "
      "quantity = EXCLUDED.quantity, price = EXCLUDED.price, "
      "\"timestamp\" = EXCLUDED.\"timestamp\", status = EXCLUDED.status, "
      "client_order_id = EXCLUDED.client_order_id, fee = EXCLUDED.fee, "
      "version = EXCLUDED.version, created_at = EXCLUDED.created_at, "
      "updated_at = EXCLUDED.updated_at, "
      "extra = coalesce(EXCLUDED.extra, trades.extra) "
      // Never overwrite a row with an older (or the same) version.
      "WHERE trades.version < EXCLUDED.version RETURNING id");
}

int64_t MoveSequencePast(pqxx::dbtransaction& txn, int64_t at_least) {
  const int64_t top =
      txn.exec_params(
             "SELECT GREATEST((SELECT coalesce(max(id), 0) FROM trades), $1, "
             "coalesce(pg_sequence_last_value(pg_get_serial_sequence("
             "'trades', 'id')::regclass), 0))",
             at_least)[0][0]
          .as<int64_t>();
  if (top > 0) {
    txn.exec_params("SELECT setval(pg_get_serial_sequence('trades', 'id'), $1)",
                    top);
  }
  // The largest id a BIGINT holds is taken: the sequence can give no more.
  return top == INT64_MAX ? 0 : top + 1;
}

void PutQuarantine(pqxx::dbtransaction& txn, const QuarantineRow& q) {
  txn.exec_params(
      "INSERT INTO trades_quarantine (source_id, reason, raw) "
      "VALUES ($1, $2, $3::jsonb) ON CONFLICT (source_id) DO UPDATE SET "
      "reason = EXCLUDED.reason, raw = EXCLUDED.raw, last_seen_at = now() "
      "WHERE trades_quarantine.resolution IS NULL",
      q.source_id, q.reason, q.raw_json);
}

}  // namespace pg
}  // namespace tradestore
