#include "tradestore/sqlite/relay_progress.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tradestore/internal/status_macros.h"

namespace tradestore::sqlite {
namespace {

constexpr char kAckedAt[] = "relay_acked_at";
constexpr char kRate[] = "relay_rate_per_s";
constexpr char kLag[] = "relay_lag_ms";
constexpr char kTotal[] = "relay_acked_total";
constexpr char kSeq[] = "relay_acked_seq";

}  // namespace

absl::Status RecordRelayAck(SqliteDb& db, const RelayAck& ack, int64_t acked,
                            int64_t through_seq) {
  static const std::string sql = absl::StrCat(
      "INSERT INTO tradestore_meta (key, value) VALUES ('", kAckedAt,
      "', ?1), ('", kRate, "', ?2), ('", kLag, "', ?3), ('", kTotal,
      "', ?4), ('", kSeq,
      "', ?5) ON CONFLICT (key) DO UPDATE SET value = CASE key WHEN '", kTotal,
      "' THEN CAST(value AS INTEGER) + CAST(excluded.value AS INTEGER) WHEN '",
      kSeq,
      "' THEN max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER)) "
      "ELSE excluded.value END");
  TS_ASSIGN_OR_RETURN(Statement s, db.Prepare(sql));
  return s.Bind(1, ack.at.ToIso8601())
      .Bind(2, absl::StrFormat("%.3f", ack.rate_per_s))
      .Bind(3, ack.lag_ms)
      .Bind(4, acked)
      .Bind(5, through_seq)
      .Run();
}

const std::string& LastOutboxSeqSql() {
  static const std::string* sql = new std::string(absl::StrCat(
      "max(coalesce((SELECT max(seq) FROM tradestore_outbox), 0), "
      "coalesce((SELECT CAST(value AS INTEGER) FROM tradestore_meta WHERE "
      "key = '",
      kSeq, "'), 0))"));
  return *sql;
}

absl::StatusOr<std::optional<RelayProgress>> ReadRelayProgress(SqliteDb& db) {
  static const std::string sql =
      absl::StrCat("SELECT key, value FROM tradestore_meta WHERE key IN ('",
                   kAckedAt, "', '", kRate, "', '", kLag, "', '", kTotal, "')");
  TS_ASSIGN_OR_RETURN(Statement s, db.Prepare(sql));
  std::optional<RelayProgress> progress;
  for (;;) {
    TS_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    if (!progress) progress.emplace();
    const std::string key = s.ColumnText(0);
    const std::string value = s.ColumnText(1);
    bool parsed = true;
    if (key == kAckedAt) {
      auto at = Timestamp::Parse(value);
      parsed = at.ok();
      if (parsed) progress->last.at = *at;
    } else if (key == kRate) {
      parsed = absl::SimpleAtod(value, &progress->last.rate_per_s);
    } else if (key == kLag) {
      parsed = absl::SimpleAtoi(value, &progress->last.lag_ms);
    } else {
      parsed = absl::SimpleAtoi(value, &progress->acked_total);
    }
    if (!parsed) {
      return absl::DataLossError(
          absl::StrCat("tradestore_meta holds ", key, " = '", value,
                       "', not a ", key == kAckedAt ? "timestamp" : "number"));
    }
  }
  return progress;
}

}  // namespace tradestore::sqlite
