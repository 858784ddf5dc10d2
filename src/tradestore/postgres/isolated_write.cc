#include "tradestore/postgres/isolated_write.h"

#include <pqxx/pqxx>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tradestore/internal/quote.h"

namespace tradestore::pg {
namespace {

// The row as converted, for the quarantine's raw column; its extra as
// bytes, since that may be what Postgres refused.
std::string TradeJson(const BackfillRow& row) {
  const Trade& t = row.trade;
  nlohmann::json j = {{"id", t.id},
                      {"symbol", t.symbol},
                      {"side", SideName(t.side)},
                      {"quantity", t.quantity.ToString()},
                      {"price", t.price.ToString()},
                      {"timestamp", t.timestamp.ToIso8601()},
                      {"status", StatusName(t.status)},
                      {"version", t.version},
                      {"created_at", t.created_at.ToIso8601()},
                      {"updated_at", t.updated_at.ToIso8601()}};
  if (t.client_order_id) j["client_order_id"] = *t.client_order_id;
  if (t.fee) j["fee"] = t.fee->ToString();
  if (!row.extra_json.empty()) {
    j["extra"] = {{"$hex", absl::BytesToHexString(row.extra_json)}};
  }
  return j.dump();
}

// The batch's rows [begin, end) written as one part: copied into trades, or
// staged and upserted by version. Returns the rows written. Runs on the raw
// handle only (see WriteIsolated).
int64_t WriteRows(pqxx::dbtransaction& txn,
                  const std::vector<BackfillRow>& rows, size_t begin,
                  size_t end, bool staged) {
  const std::string data = CopyData(
      std::vector<BackfillRow>(rows.begin() + begin, rows.begin() + end));
  if (!staged) {
    CopyRows(txn, "trades", data);
    return static_cast<int64_t>(end - begin);
  }
  ExecRaw(txn, "TRUNCATE backfill_stage");
  CopyRows(txn, "backfill_stage", data);
  return ExecRaw(txn, UpsertFromStageSql("backfill_stage"));
}

// A value or constraint Postgres refuses (SQLSTATE classes 22 and 23): the
// row's fault, not the connection's or the server's.
bool RefusedRow(const pqxx::sql_error& e) {
  return absl::StartsWith(e.sqlstate(), "22") ||
         absl::StartsWith(e.sqlstate(), "23");
}

}  // namespace

// Writes rows [begin, end) under a savepoint; when Postgres refuses them,
// halves the part until the single rows it refuses are found, and adds
// those to `refused`. Returns the rows written.
int64_t WriteIsolated(pqxx::dbtransaction& txn,
                      const std::vector<BackfillRow>& rows, size_t begin,
                      size_t end, bool staged,
                      std::vector<QuarantineRow>* refused) {
  // Savepoints by hand: the part runs on the raw libpq handle, which
  // pqxx::subtransaction does not see (it would never send its SAVEPOINT),
  // and libpqxx closes a transaction in which one of its statements failed.
  txn.exec("SAVEPOINT isolate");
  try {
    const int64_t written = WriteRows(txn, rows, begin, end, staged);
    txn.exec("RELEASE SAVEPOINT isolate");
    return written;
  } catch (const pqxx::sql_error& e) {
    if (!RefusedRow(e)) throw;
    txn.exec("ROLLBACK TO SAVEPOINT isolate");
    txn.exec("RELEASE SAVEPOINT isolate");
    if (end - begin > 1) {
      const size_t mid = begin + (end - begin) / 2;
      return WriteIsolated(txn, rows, begin, mid, staged, refused) +
             WriteIsolated(txn, rows, mid, end, staged, refused);
    }
    const BackfillRow& row = rows[begin];
    const std::string what = e.what();
    refused->push_back(
        {row.trade.id,
         absl::StrCat("postgres refused the row: ",
                      internal::Escape(what.substr(0, what.find('\n')))),
         TradeJson(row)});
    return 0;
  }
}

}  // namespace tradestore::pg
