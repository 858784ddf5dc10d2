#include "tradestore/postgres/pg_mirror.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "tradestore/internal/failpoint.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/postgres/pg_row.h"
#include "tradestore/postgres/pg_transact.h"

namespace tradestore {
namespace {

const std::string& ApplyOneSql() {
  static const std::string* sql = new std::string(
      "INSERT INTO trades (id, symbol, side, quantity, price, \"timestamp\", "
      "status, client_order_id, fee, version, created_at, updated_at) "
      "VALUES ($1, $2, $3, $4::numeric, $5::numeric, $6::timestamptz, $7, $8, "
      "$9::numeric, $10, $11::timestamptz, $12::timestamptz) "
      "ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, "
      "symbol = EXCLUDED.symbol, side = EXCLUDED.side, "
      "quantity = EXCLUDED.quantity, price = EXCLUDED.price, "
      "\"timestamp\" = EXCLUDED.\"timestamp\", "
      "client_order_id = EXCLUDED.client_order_id, fee = EXCLUDED.fee, "
      "version = EXCLUDED.version, created_at = EXCLUDED.created_at, "
      "updated_at = EXCLUDED.updated_at "
      "WHERE trades.version < EXCLUDED.version RETURNING id");
  return *sql;
}

}  // namespace

absl::StatusOr<ApplyOutcome> PgMirror::Apply(
    const std::vector<BackfillRow>& rows,
    const std::vector<QuarantineRow>& quarantined, Commit commit) {
  ApplyOutcome outcome;
  if (rows.empty() && quarantined.empty()) return outcome;
  const std::string copy_data = CopyData(rows);
  // The upsert is idempotent: an unknown outcome is settled by repeating.
  TS_RETURN_IF_ERROR(pg::Transact(
      *pool_,
      [&](pqxx::work& txn) -> absl::Status {
        outcome = ApplyOutcome();
        if (commit == Commit::kAsync) {
          txn.exec("SET LOCAL synchronous_commit = off");
        }
        if (!rows.empty()) {
          const std::string stage = pg::UseSessionStage(txn);
          pg::CopyRows(txn, stage, copy_data);
          outcome.written = static_cast<int64_t>(
              txn.exec(pg::UpsertFromStageSql(stage)).size());
          outcome.skipped = static_cast<int64_t>(rows.size()) - outcome.written;
        }
        for (const QuarantineRow& q : quarantined) pg::PutQuarantine(txn, q);
        outcome.quarantined = static_cast<int64_t>(quarantined.size());
        internal::Failpoint("mirror.before_pg_commit");
        return absl::OkStatus();
      },
      PgPool::Kind::kIdempotent));
  return outcome;
}

absl::StatusOr<int64_t> PgMirror::Confirm(const std::vector<RowVersion>& rows) {
  std::string ids = "{", versions = "{";
  for (const RowVersion& r : rows) {
    absl::StrAppend(&ids, ids.size() > 1 ? "," : "", r.id);
    absl::StrAppend(&versions, versions.size() > 1 ? "," : "", r.version);
  }
  ids += "}";
  versions += "}";
  int64_t missing = 0;
  TS_RETURN_IF_ERROR(pg::Transact(
      *pool_,
      [&](pqxx::work& txn) -> absl::Status {
        missing =
            txn.exec_params(
                   "SELECT count(*) FROM unnest($1::bigint[], $2::bigint[]) "
                   "AS r(id, version) WHERE NOT EXISTS (SELECT 1 FROM trades "
                   "t WHERE t.id = r.id AND t.version >= r.version)",
                   ids, versions)[0][0]
                .as<int64_t>();
        if (missing > 0 || rows.empty()) return absl::OkStatus();
        // A commit that wrote no WAL is not flushed, xid or not. A row
        // lock is WAL-logged, needs no right the relay lacks, and leaves
        // the row and its readers and writers alone (FOR KEY SHARE blocks
        // only deletes and key changes), so this commit flushes, and waits
        // for a synchronous standby, through every commit it saw.
        if (txn.exec_params("SELECT 1 FROM trades WHERE id = $1 FOR KEY SHARE",
                            rows.front().id)
                .empty()) {
          return absl::AbortedError(
              absl::StrCat("trade ", rows.front().id,
                           " went while its commit was being "
                           "confirmed"));
        }
        return absl::OkStatus();
      },
      PgPool::Kind::kIdempotent));
  return missing;
}

absl::StatusOr<bool> PgMirror::ApplyOne(const Trade& trade) {
  bool written = false;
  TS_RETURN_IF_ERROR(pg::Transact(
      *pool_,
      [&](pqxx::work& txn) -> absl::Status {
        written =
            !pg::Exec(txn, ApplyOneSql(), pg::InsertParams(trade)).empty();
        return absl::OkStatus();
      },
      PgPool::Kind::kIdempotent));
  return written;
}

absl::StatusOr<int64_t> PgMirror::AdvanceSequence() {
  int64_t next = 1;
  TS_RETURN_IF_ERROR(pg::Transact(
      *pool_,
      [&](pqxx::work& txn) {
        next = pg::MoveSequencePast(txn, 0);
        return absl::OkStatus();
      },
      PgPool::Kind::kIdempotent));
  return next;
}

absl::StatusOr<std::vector<Trade>> PgMirror::ChangedSince(Timestamp since,
                                                          int64_t after_id,
                                                          int limit) {
  absl::StatusOr<std::vector<Trade>> trades;
  TS_RETURN_IF_ERROR(pg::Transact(
      *pool_,
      [&](pqxx::work& txn) {
        trades = pg::TradesFromResult(txn.exec_params(
            absl::StrCat("SELECT ", pg::kSelectColumns,
                         " FROM trades WHERE updated_at >= $1::timestamptz "
                         "AND id > $2 ORDER BY id LIMIT $3"),
            since.ToIso8601(), after_id, limit));
        return absl::OkStatus();
      },
      PgPool::Kind::kRead));
  return trades;
}

absl::StatusOr<std::optional<BackfillRow>> PgMirror::Read(int64_t id) {
  absl::StatusOr<std::vector<Trade>> trades;
  std::string extra;
  TS_RETURN_IF_ERROR(pg::Transact(
      *pool_,
      [&](pqxx::work& txn) {
        const pqxx::result r = txn.exec_params(
            absl::StrCat("SELECT ", pg::kSelectColumns,
                         ", extra::text FROM trades WHERE id = $1"),
            id);
        trades = pg::TradesFromResult(r);
        extra = r.empty() || r[0].back().is_null() ? "" : r[0].back().c_str();
        return absl::OkStatus();
      },
      PgPool::Kind::kRead));
  TS_RETURN_IF_ERROR(trades.status());
  if (trades->empty()) return std::nullopt;
  return BackfillRow{std::move(trades->front()), std::move(extra)};
}

absl::StatusOr<bool> PgMirror::Remove(int64_t id) {
  bool removed = false;
  TS_RETURN_IF_ERROR(pg::Transact(
      *pool_,
      [&](pqxx::work& txn) {
        removed = !txn.exec_params(
                          "DELETE FROM trades WHERE id = $1 "
                          "RETURNING 1",
                          id)
                       .empty();
        return absl::OkStatus();
      },
      PgPool::Kind::kIdempotent));
  return removed;
}

absl::StatusOr<bool> PgMirror::Rewrite(const Trade& trade,
                                       const std::string& extra) {
  pg::Params params = pg::InsertParams(trade);
  params.push_back(extra.empty() ? std::nullopt
                                 : std::optional<std::string>(extra));
  bool written = false;
  TS_RETURN_IF_ERROR(pg::Transact(
      *pool_,
      [&](pqxx::work& txn) {
        // Version-guarded: a newer Postgres row is left, not overwritten.
        written =
            !pg::Exec(
                 txn,
                 "INSERT INTO trades (id, symbol, side, quantity, price, "
                 "\"timestamp\", status, client_order_id, fee, version, "
                 "created_at, updated_at, extra) VALUES ($1, $2, $3, "
                 "$4::numeric, $5::numeric, $6::timestamptz, $7, $8, "
                 "$9::numeric, $10, $11::timestamptz, $12::timestamptz, "
                 "$13::jsonb) "
                 "ON CONFLICT (id) DO UPDATE SET symbol = EXCLUDED.symbol, "
                 "side = EXCLUDED.side, quantity = EXCLUDED.quantity, "
                 "price = EXCLUDED.price, \"timestamp\" = "
                 "EXCLUDED.\"timestamp\", status = EXCLUDED.status, "
                 "client_order_id = EXCLUDED.client_order_id, "
                 "fee = EXCLUDED.fee, version = EXCLUDED.version, "
                 "created_at = EXCLUDED.created_at, "
                 "updated_at = EXCLUDED.updated_at, extra = EXCLUDED.extra "
                 "WHERE trades.version <= EXCLUDED.version RETURNING id",
                 params)
                 .empty();
        return absl::OkStatus();
      },
      PgPool::Kind::kIdempotent));
  return written;
}

absl::StatusOr<std::vector<int64_t>> PgMirror::ChangedIdsSince(
    Timestamp since) {
  std::vector<int64_t> ids;
  TS_RETURN_IF_ERROR(pg::ReadEach(*pool_, [&](pqxx::transaction_base& txn) {
    ids.clear();
    for (const auto& row :
         txn.exec_params("SELECT id FROM trades WHERE updated_at >= "
                         "$1::timestamptz ORDER BY id",
                         since.ToIso8601())) {
      ids.push_back(row[0].as<int64_t>());
    }
    return absl::OkStatus();
  }));
  return ids;
}

}  // namespace tradestore
