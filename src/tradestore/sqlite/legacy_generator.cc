#include "tradestore/sqlite/legacy_generator.h"

#include <filesystem>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/sqlite/sqlite_handle.h"

namespace tradestore {
namespace {

using sqlite::SqliteDb;
using sqlite::Statement;

constexpr const char* kSymbols[] = {"BTC-USD", "ETH-USD", "SOL-USD",
                                    "AAPL",    "MSFT",    "EUR/USD"};
constexpr const char* kStatuses[] = {
    "NEW", "PARTIALLY_FILLED", "FILLED", "CANCELLED", "REJECTED", "EXPIRED"};

// Binds one decimal (units of 1e-8) in the storage class `kind` picks.
void BindDecimal(Statement& s, int index, int64_t units, int kind) {
  const int64_t whole = units / 100000000, frac = units % 100000000;
  switch (kind % 3) {
    case 0:  // what NUMERIC affinity made of most values: a REAL
      s.Bind(index, absl::StrFormat("%d.%08d", whole, frac));  // -> REAL
      break;
    case 1:  // a whole number: INTEGER
      s.Bind(index, whole == 0 ? int64_t{1} : whole);
      break;
    default:  // exact text, as a BLOB so NUMERIC affinity keeps it
      s.BindBlobText(index, absl::StrFormat("%d.%08d", whole, frac));
      break;
  }
}

void BindTimestamp(Statement& s, int index, int64_t epoch_micros, int kind) {
  const int64_t secs = epoch_micros / 1000000;
  const std::time_t t = secs;
  std::tm tm{};
  gmtime_r(&t, &tm);
  const std::string date = absl::StrFormat("%04d-%02d-%02d", tm.tm_year + 1900,
                                           tm.tm_mon + 1, tm.tm_mday);
  const std::string time =
      absl::StrFormat("%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
  const int micros = static_cast<int>(epoch_micros % 1000000);
  switch (kind % 5) {
    case 0:
      s.Bind(index, absl::StrFormat("%s %s.%06d", date, time, micros));
      break;
    case 1:
      s.Bind(index, absl::StrFormat("%sT%s.%06dZ", date, time, micros));
      break;
    case 2:
      s.Bind(index, absl::StrFormat("%sT%s+00:00", date, time));
      break;
    case 3:
      s.Bind(index, secs);  // epoch seconds
      break;
    default:
      s.Bind(index, epoch_micros / 1000);  // epoch milliseconds
      break;
  }
}

// One bad row of kind `k`: each breaks exactly one rule.
absl::Status BindBadRow(Statement& s, int64_t k) {
  s.Bind(2, "BTC-USD").Bind(3, "BUY").Bind(4, "1.5").Bind(5, "100");
  s.Bind(6, "2023-11-14 22:13:21.471325").Bind(7, "FILLED");
  switch (k % 9) {
    case 0:
      s.BindNull(5);
      break;  // NULL price
    case 1:
      s.Bind(4, "one and a half");
      break;  // non-numeric
    case 2:
      s.Bind(4, "-3");
      break;  // not positive
    case 3:
      s.Bind(5, "12345678901.5");
      break;  // out of range
    case 4:
      s.Bind(2, "A-SYMBOL-LONGER-THAN-20");
      break;  // symbol too long
    case 5:
      s.Bind(3, "HOLD");
      break;  // unknown side
    case 6:
      s.Bind(6, "2023-02-30 10:00:00");
      break;  // impossible date
    case 7:
      s.Bind(7, "FILLED_BUT_NOT_REALLY_DONE");
      break;  // status too long
    default:
      s.Bind(2, "BTC\xFF");
      break;  // not UTF-8
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LegacyStoreSummary> GenerateLegacyStore(
    const LegacyStoreSpec& spec) {
  if (std::filesystem::exists(spec.path)) {
    return absl::AlreadyExistsError(absl::StrCat(spec.path, " already exists"));
  }
  TS_ASSIGN_OR_RETURN(
      auto db,
      SqliteDb::Open(spec.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                     5000));
  TS_RETURN_IF_ERROR(db->Exec(
      "CREATE TABLE trades (id INTEGER PRIMARY KEY AUTOINCREMENT, "
      "symbol VARCHAR(20) NOT NULL, side VARCHAR(4) NOT NULL, "
      "quantity DECIMAL(18,8), price DECIMAL(18,8), timestamp DATETIME, "
      "status VARCHAR(20) NOT NULL);"
      "CREATE INDEX idx_trades_symbol ON trades(symbol);"
      "PRAGMA journal_mode = WAL; BEGIN"));
  TS_ASSIGN_OR_RETURN(Statement s,
                      db->Prepare("INSERT INTO trades VALUES (?,?,?,?,?,?,?)"));
  std::mt19937_64 rng(spec.seed);
  LegacyStoreSummary summary;
  int64_t when = 1'672'531'200'000'000;  // 2023-01-01T00:00:00Z
  for (int64_t id = 1; id <= spec.rows; ++id) {
    s.Bind(1, id);
    when += 1'000 + static_cast<int64_t>(rng() % 5'000'000);
    if (spec.bad_every > 0 && id % spec.bad_every == 0) {
      TS_RETURN_IF_ERROR(BindBadRow(s, summary.bad_rows++));
    } else {
      const int kind = static_cast<int>(rng() % 15);
      s.Bind(2, kSymbols[rng() % 6]);
      s.Bind(3, (rng() % 2 ? (kind % 4 == 0 ? "buy" : "BUY")
                           : (kind % 4 == 0 ? "sell" : "SELL")));
      BindDecimal(s, 4, 1 + static_cast<int64_t>(rng() % 100'000'000'000),
                  spec.real_decimals ? 0 : kind);
      BindDecimal(s, 5, 1 + static_cast<int64_t>(rng() % 10'000'000'000'000),
                  spec.real_decimals ? 0 : kind / 3);
      BindTimestamp(s, 6, when, kind);
      s.Bind(7, kStatuses[rng() % 6]);
    }
    TS_RETURN_IF_ERROR(s.Run());
    s.Reset();
    ++summary.rows;
    if (id % 10000 == 0) {
      TS_RETURN_IF_ERROR(db->Exec("COMMIT; BEGIN"));
    }
  }
  TS_RETURN_IF_ERROR(db->Exec("COMMIT"));
  return summary;
}

}  // namespace tradestore
