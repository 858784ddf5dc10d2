#include "tradestore/postgres/trade_copy.h"

#include <pqxx/pqxx>
#include <pqxx/tablewriter>

#include "absl/strings/str_cat.h"
#include "tradestore/internal/copy_escape.h"

namespace tradestore {
namespace {

constexpr char kColumns[] =
    "id, symbol, side, quantity, price, \"timestamp\", status, "
    "client_order_id, fee, version, created_at, updated_at, extra";

void AppendCopyLine(std::string* out, const BackfillRow& row) {
  const Trade& t = row.trade;
  absl::StrAppend(out, t.id, "\t");
  internal::AppendCopyEscaped(out, t.symbol);
  absl::StrAppend(out, "\t", SideName(t.side), "\t", t.quantity.ToString(),
                  "\t", t.price.ToString(), "\t", t.timestamp.ToIso8601(),
                  "\t", StatusName(t.status), "\t");
  if (t.client_order_id) {
    internal::AppendCopyEscaped(out, *t.client_order_id);
  } else {
    out->append("\\N");
  }
  absl::StrAppend(out, "\t", t.fee ? t.fee->ToString() : "\\N", "\t",
                  t.version, "\t", t.created_at.ToIso8601(), "\t",
                  t.updated_at.ToIso8601(), "\t");
  if (row.extra_json.empty()) {
    out->append("\\N");
  } else {
    internal::AppendCopyEscaped(out, row.extra_json);
  }
  out->push_back('\n');
}

}  // namespace

std::string CopyText(const std::vector<BackfillRow>& rows) {
  std::string text;
  text.reserve(rows.size() * 160);
  for (const BackfillRow& row : rows) AppendCopyLine(&text, row);
  return text;
}

namespace pg {

// libpqxx 6.4 keeps raw COPY lines private in stream_to; tablewriter still
// offers them. Its deprecation is about its own escaping, which we do not
// use: our lines are escaped by internal::AppendCopyEscaped. One "line" may hold many: the protocol carries bytes, not lines.
void CopyRows(pqxx::dbtransaction& txn, const std::string& table,
              absl::string_view copy_text) {
  static const std::vector<std::string> kCopyColumns = {
      "id", "symbol", "side", "quantity", "price", "\"timestamp\"", "status",
      "client_order_id", "fee", "version", "created_at", "updated_at", "extra"};
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  pqxx::tablewriter copy(txn, table, kCopyColumns.begin(), kCopyColumns.end());
#pragma GCC diagnostic pop
  constexpr size_t kChunk = 1 << 20;
  while (!copy_text.empty()) {
    // Up to a line end near kChunk; write_raw_line adds that newline back.
    size_t end = copy_text.size() - 1;
    if (end > kChunk) {
      end = copy_text.rfind('\n', kChunk);
      if (end == absl::string_view::npos) end = copy_text.find('\n');
    }
    copy.write_raw_line(std::string(copy_text.substr(0, end)));
    copy_text.remove_prefix(end + 1);
  }
  copy.complete();
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
