#include "tradestore/postgres/verification_log.h"

#include "tradestore/internal/status_macros.h"
#include "tradestore/postgres/pg_row.h"
#include "tradestore/postgres/pg_transact.h"

namespace tradestore {

absl::StatusOr<int64_t> VerificationLog::Record(const VerificationRun& run) {
  int64_t id = 0;
  auto text = [](bool b) { return std::string(b ? "true" : "false"); };
  TS_RETURN_IF_ERROR(pg::Transact(*pool_, [&](pqxx::work& txn) {
    const pg::Params params = {
        run.source_store_id,
        run.mode,
        run.started_at.ToIso8601(),
        text(run.covers_all_rows),
        std::to_string(run.id_from),
        std::to_string(run.id_to),
        run.changed_since
            ? std::optional<std::string>(run.changed_since->ToIso8601())
            : std::nullopt,
        std::to_string(run.rows_sqlite),
        std::to_string(run.rows_postgres),
        std::to_string(run.missing_in_postgres),
        std::to_string(run.missing_in_sqlite),
        std::to_string(run.mismatched),
        std::to_string(run.quarantined),
        text(run.clean),
        std::to_string(run.repaired),
        run.summary_json};
    const pqxx::result r = pg::Exec(
        txn,
        "INSERT INTO verification_runs (source_store_id, mode, started_at, "
        "covers_all_rows, id_from, id_to, changed_since, rows_sqlite, "
        "rows_postgres, missing_in_postgres, missing_in_sqlite, mismatched, "
        "quarantined, clean, repaired, summary) VALUES ($1, $2, "
        "$3::timestamptz, $4::boolean, $5, $6, $7::timestamptz, $8, $9, $10, "
        "$11, $12, $13, $14::boolean, $15, $16::jsonb) RETURNING id",
        params);
    id = r[0][0].as<int64_t>();
    return absl::OkStatus();
  }));
  return id;
}

absl::StatusOr<std::optional<Timestamp>> VerificationLog::LastCleanStart(
    const std::string& store_id) {
  std::optional<Timestamp> last;
  TS_RETURN_IF_ERROR(pg::ReadEach(*pool_, [&](pqxx::transaction_base& txn) {
    const pqxx::result r = txn.exec_params(
        "SELECT (extract(epoch FROM max(started_at)) * 1000000)::int8 "
        "FROM verification_runs WHERE source_store_id = $1 AND clean",
        store_id);
    last.reset();
    if (!r[0][0].is_null()) {
      last = Timestamp::FromUnixMicros(r[0][0].as<int64_t>())
                 .value_or(Timestamp());
    }
    return absl::OkStatus();
  }));
  return last;
}

absl::StatusOr<std::vector<VerificationRunPoint>> VerificationLog::History(
    const std::string& store_id, int limit) {
  std::vector<VerificationRunPoint> runs;
  auto micros = [](const pqxx::field& f) {
    return Timestamp::FromUnixMicros(f.as<int64_t>()).value_or(Timestamp());
  };
  TS_RETURN_IF_ERROR(pg::ReadEach(*pool_, [&](pqxx::transaction_base& txn) {
    const pqxx::result r = txn.exec_params(
        "SELECT id, mode, (extract(epoch FROM started_at) * 1000000)::int8, "
        "(extract(epoch FROM finished_at) * 1000000)::int8, clean, "
        "rows_sqlite, missing_in_postgres + missing_in_sqlite + mismatched, "
        "quarantined, repaired, (summary->>'duration_s')::float8, "
        "(summary->>'outbox_entries')::int8, "
        "(summary->>'outbox_oldest_age_s')::float8 "
        "FROM verification_runs WHERE $1 = '' OR source_store_id = $1 "
        "ORDER BY finished_at DESC, id DESC LIMIT $2",
        store_id, limit);
    runs.clear();
    for (auto row = r.rbegin(); row != r.rend(); ++row) {
      VerificationRunPoint p;
      p.id = (*row)[0].as<int64_t>();
      p.mode = (*row)[1].as<std::string>();
      p.started_at = micros((*row)[2]);
      p.finished_at = micros((*row)[3]);
      p.clean = (*row)[4].as<bool>();
      p.rows_sqlite = (*row)[5].as<int64_t>();
      p.differences = (*row)[6].as<int64_t>();
      p.quarantined = (*row)[7].as<int64_t>();
      p.repaired = (*row)[8].as<int64_t>();
      p.duration_s = (*row)[9].is_null() ? 0 : (*row)[9].as<double>();
      if (!(*row)[10].is_null()) p.outbox_entries = (*row)[10].as<int64_t>();
      if (!(*row)[11].is_null()) {
        p.outbox_oldest_age_s = (*row)[11].as<double>();
      }
      runs.push_back(std::move(p));
    }
    return absl::OkStatus();
  }));
  return runs;
}

}  // namespace tradestore
