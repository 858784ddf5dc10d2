#include "tradestore/postgres/trade_copy.h"

#include <libpq-fe.h>

#include <algorithm>
#include <memory>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
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
constexpr int16_t kFields = 13;

// Big-endian, as every binary COPY integer is.
void Put16(std::string* out, uint16_t v) {
  v = __builtin_bswap16(v);
  out->append(reinterpret_cast<const char*>(&v), 2);
}

void Put32(std::string* out, uint32_t v) {
  v = __builtin_bswap32(v);
  out->append(reinterpret_cast<const char*>(&v), 4);
}

void Put64(std::string* out, uint64_t v) {
  v = __builtin_bswap64(v);
  out->append(reinterpret_cast<const char*>(&v), 8);
}

void PutNull(std::string* out) { Put32(out, 0xFFFFFFFF); }

void PutInt8(std::string* out, int64_t v) {
  Put32(out, 8);
  Put64(out, static_cast<uint64_t>(v));
}

void PutText(std::string* out, absl::string_view v) {
  Put32(out, static_cast<uint32_t>(v.size()));
  out->append(v.data(), v.size());
}

void PutTimestamp(std::string* out, Timestamp t) {
  PutInt8(out, t.unix_micros() - pg::kPgEpochUnixMicros);
}

// numeric_send's layout: ndigits, weight, sign, dscale, then base-10000
// digits, the first worth 10000^weight; leading and trailing zero digits
// left out. dscale 8 says every value has exactly 8 decimals, so the server
// never rounds.
void PutDecimal(std::string* out, const Decimal& d) {
  const bool negative = d.units() < 0;
  // |units| <= kMaxUnits < 10^18: the integer part has at most 10 digits.
  const uint64_t units = negative ? 0 - static_cast<uint64_t>(d.units())
                                  : static_cast<uint64_t>(d.units());
  const uint64_t whole = units / 100'000'000;
  const uint64_t fraction = units % 100'000'000;
  const uint16_t digits[5] = {
      static_cast<uint16_t>(whole / 100'000'000),
      static_cast<uint16_t>(whole / 10'000 % 10'000),
      static_cast<uint16_t>(whole % 10'000),
      static_cast<uint16_t>(fraction / 10'000),
      static_cast<uint16_t>(fraction % 10'000)};
  int first = 0;
  while (first < 5 && digits[first] == 0) ++first;
  int last = 5;
  while (last > first && digits[last - 1] == 0) --last;
  const int count = last - first;
  Put32(out, static_cast<uint32_t>(8 + 2 * count));
  Put16(out, static_cast<uint16_t>(count));
  Put16(out, static_cast<uint16_t>(count == 0 ? 0 : 2 - first));  // weight
  Put16(out, negative ? 0x4000 : 0x0000);
  Put16(out, 8);
  for (int i = first; i < last; ++i) Put16(out, digits[i]);
}

void AppendCopyRow(std::string* out, const BackfillRow& row) {
  const Trade& t = row.trade;
  Put16(out, kFields);
  PutInt8(out, t.id);
  PutText(out, t.symbol);
  PutText(out, SideName(t.side));
  PutDecimal(out, t.quantity);
  PutDecimal(out, t.price);
  PutTimestamp(out, t.timestamp);
  PutText(out, StatusName(t.status));
  if (t.client_order_id) {
    PutText(out, *t.client_order_id);
  } else {
    PutNull(out);
  }
  if (t.fee) {
    PutDecimal(out, *t.fee);
  } else {
    PutNull(out);
  }
  PutInt8(out, t.version);
  PutTimestamp(out, t.created_at);
  PutTimestamp(out, t.updated_at);
  if (row.extra_json.empty()) {
    PutNull(out);
  } else {
    // jsonb_send's layout: a version byte, then the JSON text.
    Put32(out, static_cast<uint32_t>(1 + row.extra_json.size()));
    out->push_back(1);
    out->append(row.extra_json);
  }
}

// The failed result's message and SQLSTATE, thrown as libpqxx would.
[[noreturn]] void ThrowCopyError(pg_conn* conn, const pg_result* result,
                                 const std::string& query) {
  pg::ThrowLibpqError(conn,
                      result != nullptr ? PQresultErrorMessage(result)
                                        : PQerrorMessage(conn),
                      PQresultErrorField(result, PG_DIAG_SQLSTATE), query);
}

struct ResultDeleter {
  void operator()(pg_result* r) const { PQclear(r); }
};
using Result = std::unique_ptr<pg_result, ResultDeleter>;

}  // namespace

std::string CopyData(const std::vector<BackfillRow>& rows) {
  std::string data;
  data.reserve(pg::kBinaryCopyHeader.size() + 2 + rows.size() * 200);
  data.append(pg::kBinaryCopyHeader.data(), pg::kBinaryCopyHeader.size());
  for (const BackfillRow& row : rows) AppendCopyRow(&data, row);
  Put16(&data, 0xFFFF);
  return data;
}

namespace pg {

void CopyRows(pqxx::dbtransaction& txn, const std::string& table,
              absl::string_view data) {
  pg_conn* conn = RawHandle(txn);
  // The table name is ours (trades or a staging table), never a caller's.
  const std::string query = absl::StrCat("COPY ", txn.quote_name(table), " (",
                                         kColumns, ") FROM STDIN (FORMAT binary)");
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
    sent = PQputCopyData(conn, data.data() + at,
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

void CreateStage(pqxx::dbtransaction& txn, const std::string& stage) {
  // The name is ours, never a caller's.
  txn.exec(absl::StrCat("CREATE TEMP TABLE ", txn.quote_name(stage),
                        " (LIKE trades INCLUDING DEFAULTS) ON COMMIT DROP"));
}

std::string UpsertFromStageSql(const std::string& stage) {
  return absl::StrCat(
      "INSERT INTO trades (", kColumns, ") SELECT ", kColumns, " FROM ",
      stage,
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
  return top + 1;
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
