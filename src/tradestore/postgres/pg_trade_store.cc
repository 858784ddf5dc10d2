#include "tradestore/postgres/pg_trade_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/postgres/migrator.h"
#include "tradestore/postgres/pg_mirror.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/postgres/pg_row.h"
#include "tradestore/postgres/pg_transact.h"
#include "tradestore/postgres/replica_router.h"

namespace tradestore {
namespace {

using pg::Exec;
using pg::Params;

// How often an unknown commit is resolved and retried before the caller is
// told it is unknown.
constexpr int kMaxResolveAttempts = 5;

const std::string& InsertSql() {
  static const std::string* sql = new std::string(absl::StrCat(
      "INSERT INTO trades (id, symbol, side, quantity, price, \"timestamp\", "
      "status, client_order_id, fee, version, created_at, updated_at) "
      "VALUES ($1, $2, $3, $4::numeric, $5::numeric, $6::timestamptz, $7, $8, "
      "$9::numeric, $10, $11::timestamptz, $12::timestamptz) "
      "ON CONFLICT DO NOTHING RETURNING ",
      pg::kSelectColumns));
  return *sql;
}

std::string SelectSql(const std::string& where) {
  return absl::StrCat("SELECT ", pg::kSelectColumns, " FROM trades WHERE ",
                      where);
}

// Tells the router once the write returned, whatever its outcome: a read
// after that must see it.
class NoteWriteOnReturn {
 public:
  explicit NoteWriteOnReturn(pg::ReplicaRouter* router) : router_(router) {}
  ~NoteWriteOnReturn() {
    if (router_ != nullptr) router_->NoteWrite();
  }

 private:
  pg::ReplicaRouter* const router_;
};

// A read on a fit replica when `router` allows it, else on the primary.
absl::Status Read(PgPool& primary, pg::ReplicaRouter* router,
                  const pg::TxnBody& body) {
  if (router != nullptr) {
    TS_ASSIGN_OR_RETURN(const bool served, router->TryRead(body));
    if (served) return absl::OkStatus();
  }
  return pg::Transact(primary, body, PgPool::Kind::kRead);
}

}  // namespace

PgTradeStore::PgTradeStore(std::unique_ptr<PgPool> pool,
                           std::unique_ptr<pg::ReplicaRouter> router)
    : pool_(std::move(pool)), router_(std::move(router)) {}
PgTradeStore::~PgTradeStore() = default;

absl::StatusOr<std::unique_ptr<PgTradeStore>> PgTradeStore::Open(
    const PgOptions& options) {
  TS_ASSIGN_OR_RETURN(auto pool, PgPool::Create(options));
  TS_ASSIGN_OR_RETURN(auto router, pg::ReplicaRouter::Create(options, *pool));
  if (!options.connect_at_open) {
    return std::unique_ptr<PgTradeStore>(
        new PgTradeStore(std::move(pool), std::move(router)));
  }
  TS_ASSIGN_OR_RETURN(int version, AppliedSchemaVersion(*pool));
  const int needed = BuiltinMigrations().back().version;
  if (version < needed) {
    return absl::FailedPreconditionError(absl::StrCat(
        "postgres ", pool->masked_dsn(), " has schema version ", version,
        ", this build needs ", needed, ": run `tradestore schema migrate`"));
  }
  return std::unique_ptr<PgTradeStore>(
      new PgTradeStore(std::move(pool), std::move(router)));
}

absl::StatusOr<std::vector<Trade>> PgTradeStore::Select(
    const std::string& where, std::vector<std::string> params,
    bool may_be_old) {
  absl::StatusOr<std::vector<Trade>> trades;
  const Params p(params.begin(), params.end());
  TS_RETURN_IF_ERROR(
      Read(*pool_, may_be_old ? router_.get() : nullptr, [&](pqxx::work& txn) {
        trades = pg::TradesFromResult(Exec(txn, SelectSql(where), p));
        return absl::OkStatus();
      }));
  return trades;
}

PgPoolStats PgTradeStore::pool_stats() const { return pool_->stats(); }

ReplicaReadStats PgTradeStore::replica_stats() const {
  return router_ ? router_->stats() : ReplicaReadStats();
}

// A row the primary shows may not be on the synchronous standby yet: a
// commit whose wait for it was cancelled is visible, unreplicated. So the
// lookup that settles an unknown commit locks the row it reads (FOR KEY
// SHARE: status updates go on). A lock is written to the WAL under a
// transaction id, so this commit waits for the standby; WAL is in order, so
// once it returns, the row is there too. (A transaction that only takes an
// id, txid_current(), writes no WAL before its commit record and does not
// wait: the sync-cancel test caught that.)
absl::StatusOr<Trade> PgTradeStore::GetDurably(int64_t id) {
  absl::StatusOr<std::vector<Trade>> rows;
  TS_RETURN_IF_ERROR(pg::Transact(
      *pool_,
      [&](pqxx::work& txn) {
        rows = pg::TradesFromResult(Exec(
            txn, SelectSql("id = $1 FOR KEY SHARE"), {std::to_string(id)}));
        return absl::OkStatus();
      },
      PgPool::Kind::kIdempotent));
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return absl::NotFoundError(absl::StrCat("trade ", id, " not found"));
  }
  return std::move((*rows)[0]);
}

absl::StatusOr<int64_t> PgTradeStore::ReserveId() {
  int64_t id = 0;
  // nextval is never rolled back, so repeating it is harmless (a gap at most).
  TS_RETURN_IF_ERROR(pg::Transact(
      *pool_,
      [&](pqxx::work& txn) {
        id =
            txn
                .exec(
                    "SELECT nextval(pg_get_serial_sequence('trades', 'id'))")[0]
                                                                             [0]
                .as<int64_t>();
        return absl::OkStatus();
      },
      PgPool::Kind::kRead));
  return id;
}

absl::StatusOr<InsertResult> PgTradeStore::Insert(const Trade& input) {
  TS_RETURN_IF_ERROR(ValidateTrade(input));
  const NoteWriteOnReturn note(router_.get());
  Trade t = input;
  t.version = 1;
  t.created_at = t.updated_at = pool_->clock()->Now();
  if (t.id != 0) return InsertAt(t);
  for (int attempt = 0;; ++attempt) {
    TS_ASSIGN_OR_RETURN(t.id, ReserveId());
    auto result = InsertAt(t);
    if (!absl::IsAlreadyExists(result.status()) || attempt == 2) return result;
    // The sequence handed out an id a row already has: rows that came with
    // ids of their own (dual-write from SQLite) and no switch moved it past
    // them. Move it, and take another id.
    TS_RETURN_IF_ERROR(PgMirror(pool_.get()).AdvanceSequence().status());
  }
}

absl::StatusOr<InsertResult> PgTradeStore::InsertAt(const Trade& t) {
  absl::Status status;
  for (int attempt = 0; attempt < kMaxResolveAttempts; ++attempt) {
    absl::StatusOr<InsertResult> result;
    status = pg::Transact(*pool_, [&](pqxx::work& txn) -> absl::Status {
      const pqxx::result inserted = Exec(txn, InsertSql(), pg::InsertParams(t));
      if (!inserted.empty()) {
        TS_ASSIGN_OR_RETURN(Trade stored, pg::TradeFromRow(inserted[0]));
        result = InsertResult{stored, true};
        return absl::OkStatus();
      }
      // A conflict: the same id (a retry, or a caller-supplied id) or the
      // same idempotency key. Locked, as in GetDurably: the row found may
      // be one whose commit never reached the standby.
      TS_ASSIGN_OR_RETURN(
          auto by_id,
          pg::TradesFromResult(Exec(txn, SelectSql("id = $1 FOR KEY SHARE"),
                                    {std::to_string(t.id)})));
      if (!by_id.empty()) {
        if (!SameContent(by_id[0], t)) {
          return absl::AlreadyExistsError(
              absl::StrCat("id ", t.id, " already holds a different trade"));
        }
        result = InsertResult{by_id[0], false};
        return absl::OkStatus();
      }
      TS_ASSIGN_OR_RETURN(
          auto by_key, pg::TradesFromResult(Exec(
                           txn, SelectSql("client_order_id = $1 FOR KEY SHARE"),
                           {t.client_order_id})));
      if (by_key.empty()) {
        // The conflicting row went away in between: try again.
        return absl::AbortedError("insert conflict vanished");
      }
      result = InsertResult{by_key[0], false};
      return absl::OkStatus();
    });
    if (status.ok()) return result;
    if (!absl::IsUnknown(status)) return status;
    // The commit may or may not have happened: look, don't guess. The id is
    // ours alone, so finding it means our insert landed.
    auto found = GetDurably(t.id);
    if (found.ok()) {
      if (SameContent(*found, t)) return InsertResult{*found, true};
      return absl::AlreadyExistsError(
          absl::StrCat("id ", t.id, " already holds a different trade"));
    }
    if (!absl::IsNotFound(found.status())) {
      return absl::UnknownError(
          absl::StrCat(status.message(), "; lookup of id ", t.id,
                       " failed: ", found.status().message()));
    }
    // Not there: the commit did not happen. Retrying with the same id cannot
    // duplicate even if it lands late: the retry would conflict on the id.
  }
  return status;
}

absl::StatusOr<Trade> PgTradeStore::UpdateStatus(
    int64_t id, TradeStatus status, std::optional<int64_t> expected_version) {
  const NoteWriteOnReturn note(router_.get());
  absl::Status txn_status;
  for (int attempt = 0; attempt < kMaxResolveAttempts; ++attempt) {
    std::optional<Trade> before;
    absl::StatusOr<Trade> result;
    const Timestamp now = pool_->clock()->Now();
    txn_status = pg::Transact(*pool_, [&](pqxx::work& txn) -> absl::Status {
      TS_ASSIGN_OR_RETURN(auto rows, pg::TradesFromResult(Exec(
                                         txn, SelectSql("id = $1 FOR UPDATE"),
                                         {std::to_string(id)})));
      if (rows.empty()) {
        return absl::NotFoundError(absl::StrCat("trade ", id, " not found"));
      }
      before = rows[0];
      TS_RETURN_IF_ERROR(CheckExpectedVersion(*before, expected_version));
      TS_RETURN_IF_ERROR(CheckTransition(before->status, status));
      if (before->status == status) {
        result = *before;
        return absl::OkStatus();
      }
      const Timestamp updated = std::max(now, before->updated_at);
      const pqxx::result r = Exec(
          txn,
          absl::StrCat("UPDATE trades SET status = $2, version = version + 1, "
                       "updated_at = $3::timestamptz WHERE id = $1 RETURNING ",
                       pg::kSelectColumns),
          {std::to_string(id), std::string(StatusName(status)),
           updated.ToIso8601()});
      result = pg::TradeFromRow(r[0]);
      return result.status();
    });
    if (txn_status.ok()) return result;
    if (!absl::IsUnknown(txn_status) || !before) return txn_status;
    auto now_stored = GetDurably(id);
    if (!now_stored.ok()) {
      return absl::UnknownError(
          absl::StrCat(txn_status.message(), "; lookup of trade ", id,
                       " failed: ", now_stored.status().message()));
    }
    if (now_stored->status == status && now_stored->version > before->version) {
      return *now_stored;  // it landed
    }
    if (now_stored->version != before->version) {
      return absl::AbortedError(absl::StrCat(
          "trade ", id, " was changed by another writer meanwhile (version ",
          now_stored->version, "); read it and decide again"));
    }
    // Unchanged: the commit did not happen; try again.
  }
  return txn_status;
}

absl::StatusOr<Trade> PgTradeStore::Get(int64_t id) {
  TS_ASSIGN_OR_RETURN(auto trades, Select("id = $1", {std::to_string(id)}));
  if (trades.empty()) {
    return absl::NotFoundError(absl::StrCat("trade ", id, " not found"));
  }
  return trades[0];
}

absl::StatusOr<Trade> PgTradeStore::GetByClientOrderId(absl::string_view key) {
  TS_ASSIGN_OR_RETURN(auto trades,
                      Select("client_order_id = $1", {std::string(key)}));
  if (trades.empty()) {
    return absl::NotFoundError(
        absl::StrCat("trade with client_order_id \"", key, "\" not found"));
  }
  return trades[0];
}

absl::StatusOr<std::vector<Trade>> PgTradeStore::QueryBySymbol(
    const SymbolQuery& q) {
  if (q.limit < 1 || q.limit > 10000) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit: ", q.limit, " is not in 1..10000"));
  }
  return Select(
      "symbol = $1 AND \"timestamp\" >= $2::timestamptz AND \"timestamp\" < "
      "$3::timestamptz ORDER BY \"timestamp\" DESC, id DESC LIMIT $4",
      {q.symbol, q.from.ToIso8601(), q.to.ToIso8601(), std::to_string(q.limit)},
      /*may_be_old=*/true);
}

absl::StatusOr<int64_t> PgTradeStore::Count() {
  int64_t count = 0;
  TS_RETURN_IF_ERROR(Read(*pool_, router_.get(), [&](pqxx::work& txn) {
    count = txn.exec("SELECT count(*) FROM trades")[0][0].as<int64_t>();
    return absl::OkStatus();
  }));
  return count;
}

absl::StatusOr<std::vector<Trade>> PgTradeStore::ScanById(int64_t after_id,
                                                          int limit) {
  return Select("id > $1 ORDER BY id LIMIT $2",
                {std::to_string(after_id), std::to_string(limit)});
}

}  // namespace tradestore
