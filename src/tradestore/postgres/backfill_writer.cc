#include "tradestore/postgres/backfill_writer.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <ostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "tradestore/internal/failpoint.h"
#include "tradestore/internal/side_by_side.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/postgres/isolated_write.h"
#include "tradestore/postgres/migrator.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/postgres/pg_transact.h"
#include "tradestore/postgres/trade_copy.h"

namespace tradestore {
namespace {

// The fence of migration 0009: while the primary key is deferred, every
// write to trades but the deferring backfill's fails.
constexpr const char* kCreateFence =
    "CREATE TRIGGER trades_backfill_fence BEFORE INSERT OR UPDATE OR DELETE "
    "ON trades FOR EACH STATEMENT EXECUTE FUNCTION trades_backfill_fence()";
constexpr const char* kDropFence =
    "DROP TRIGGER IF EXISTS trades_backfill_fence ON trades";

// Whether trades holds a row in the batch's id range (dual-write wrote
// it): then the batch is upserted, not copied.
bool Occupied(pqxx::work& txn, const BackfillBatch& batch) {
  return txn
      .exec_params(
          "SELECT EXISTS (SELECT 1 FROM trades WHERE id BETWEEN $1 AND $2)",
          batch.rows.front().trade.id, batch.rows.back().trade.id)[0][0]
      .as<bool>();
}

// The batch's rows into trades: copied as they are into an empty range,
// upserted through a stage into an occupied one, or, when `isolate`, row by
// row so that a row Postgres refuses is quarantined alone.
void CopyBatchRows(pqxx::work& txn, const std::vector<BackfillRow>& rows,
                   absl::string_view copy_data, bool occupied, bool isolate,
                   BatchOutcome& outcome) {
  if (isolate) {
    if (occupied) pg::CreateStage(txn, "backfill_stage");
    outcome.copied = pg::WriteIsolated(txn, rows, 0, rows.size(), occupied,
                                       &outcome.refused);
    outcome.skipped = occupied
                          ? static_cast<int64_t>(rows.size()) - outcome.copied -
                                static_cast<int64_t>(outcome.refused.size())
                          : 0;
  } else if (!occupied) {
    pg::CopyRows(txn, "trades", copy_data);
    outcome.copied = static_cast<int64_t>(rows.size());
  } else {
    pg::CreateStage(txn, "backfill_stage");
    pg::CopyRows(txn, "backfill_stage", copy_data);
    outcome.copied = static_cast<int64_t>(
        txn.exec(pg::UpsertFromStageSql("backfill_stage")).size());
    outcome.skipped = static_cast<int64_t>(rows.size()) - outcome.copied;
  }
}

// The checkpoint moves to the batch's last id with its counts, in the
// batch's transaction; refused when it is already past (a second run).
absl::Status MoveCheckpoint(pqxx::work& txn, const std::string& store_id,
                            const BackfillBatch& batch,
                            const BatchOutcome& outcome, int64_t quarantined) {
  const pqxx::result moved = txn.exec_params(
      "UPDATE backfill_checkpoints SET last_id = $2, "
      "rows_copied = rows_copied + $3, "
      "rows_quarantined = rows_quarantined + $4, "
      "rows_skipped = rows_skipped + $5, updated_at = now() "
      "WHERE source_store_id = $1 AND last_id < $2 RETURNING 1",
      store_id, batch.last_id, outcome.copied, quarantined, outcome.skipped);
  if (moved.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the checkpoint of store ", store_id, " is already past id ",
        batch.last_id, ": is another backfill of this store running?"));
  }
  return absl::OkStatus();
}

// Whether this role may change the trades table's definition, its indexes
// and its statistics (all of which take ownership).
bool OwnsTrades(pqxx::work& txn) {
  return txn
      .exec(
          "SELECT pg_has_role(current_user, relowner, 'USAGE') FROM "
          "pg_class WHERE oid = 'trades'::regclass")[0][0]
      .as<bool>();
}

// Drops the indexes of an empty trades table that the load need not keep,
// recording each definition in the same transaction: the secondary ones,
// and in the phases where SQLite is the source of truth the primary key
// too, behind the fence.
void DeferIndexesIfEmpty(pqxx::work& txn, const std::string& store_id) {
  const auto empty = [&] {
    return !txn.exec("SELECT EXISTS (SELECT 1 FROM trades)")[0][0].as<bool>();
  };
  // Only when this role owns the table (a least-privilege role keeps them
  // and loads a little slower).
  if (!empty() || !OwnsTrades(txn)) return;
  // No writer may add a row between the check and the drop of the key: the
  // lock waits for the writes in flight, and the check is made again.
  txn.exec("LOCK TABLE trades IN ACCESS EXCLUSIVE MODE");
  if (!empty()) return;
  // In the later phases Postgres is the only store a write can go to, and a
  // fence would refuse trades; nor may a foreign key depend on the key, nor
  // another run's fence stand (its own key's row names its store).
  const pqxx::result may_defer_key = txn.exec(
      "SELECT coalesce((SELECT phase IN ('sqlite_only', 'dual_write') FROM "
      "migration_phase), false) AND NOT EXISTS (SELECT 1 FROM pg_constraint "
      "WHERE confrelid = 'trades'::regclass) AND NOT EXISTS (SELECT 1 FROM "
      "deferred_indexes WHERE constraint_name IS NOT NULL)");
  const bool defer_key = may_defer_key[0][0].as<bool>();
  // Indexes that enforce nothing (no constraint, not unique: a unique one
  // must hold while dual-write writes beside the load), and the key.
  const pqxx::result indexes = txn.exec_params(
      "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), "
      "c.conname FROM pg_index i LEFT JOIN pg_constraint c ON "
      "c.conindid = i.indexrelid AND c.conrelid = i.indrelid "
      "WHERE i.indrelid = 'trades'::regclass AND ((NOT i.indisunique AND "
      "c.oid IS NULL) OR (i.indisprimary AND c.contype = 'p' AND $1))",
      defer_key);
  bool fence = false;
  for (const auto& index : indexes) {
    const std::string name = index[0].as<std::string>();
    const std::optional<std::string> key =
        index[2].is_null() ? std::nullopt
                           : std::optional(index[2].as<std::string>());
    txn.exec_params(
        "INSERT INTO deferred_indexes (name, definition, deferred_by, "
        "constraint_name) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO "
        "UPDATE SET definition = EXCLUDED.definition, "
        "deferred_by = EXCLUDED.deferred_by, "
        "constraint_name = EXCLUDED.constraint_name, deferred_at = now()",
        name, index[1].as<std::string>(), store_id, key);
    // DDL takes no parameters; the names are the catalog's own, quoted.
    if (key) {
      txn.exec(absl::StrCat("ALTER TABLE trades DROP CONSTRAINT ",
                            txn.quote_name(*key)));
      fence = true;
    } else {
      txn.exec(absl::StrCat("DROP INDEX ", txn.quote_name(name)));
    }
  }
  if (fence) txn.exec(kCreateFence);
}

}  // namespace

BackfillWriter::BackfillWriter(std::unique_ptr<PgPool> pool,
                               std::string store_id, std::string source_path)
    : pool_(std::move(pool)),
      store_id_(std::move(store_id)),
      source_path_(std::move(source_path)) {}

BackfillWriter::~BackfillWriter() = default;

const std::string& BackfillWriter::masked_dsn() const {
  return pool_->masked_dsn();
}

absl::StatusOr<std::unique_ptr<BackfillWriter>> BackfillWriter::Open(
    const PgOptions& options, const std::string& store_id,
    const std::string& source_path) {
  TS_ASSIGN_OR_RETURN(auto pool, PgPool::Create(options));
  TS_RETURN_IF_ERROR(EnsureMigrated(*pool));
  return std::unique_ptr<BackfillWriter>(
      new BackfillWriter(std::move(pool), store_id, source_path));
}

absl::StatusOr<std::optional<BackfillCheckpoint>>
BackfillWriter::LoadCheckpoint() {
  std::optional<BackfillCheckpoint> checkpoint;
  TS_RETURN_IF_ERROR(pg::Transact(
      *pool_,
      [&](pqxx::work& txn) {
        const pqxx::result r = txn.exec_params(
            "SELECT last_id, high_water_id, rows_copied, rows_quarantined, "
            "rows_skipped, completed_at IS NOT NULL FROM backfill_checkpoints "
            "WHERE source_store_id = $1",
            store_id_);
        checkpoint.reset();
        known_ = BackfillCheckpoint();
        if (!r.empty()) {
          checkpoint =
              BackfillCheckpoint{r[0][0].as<int64_t>(), r[0][1].as<int64_t>(),
                                 r[0][2].as<int64_t>(), r[0][3].as<int64_t>(),
                                 r[0][4].as<int64_t>(), r[0][5].as<bool>()};
          known_ = *checkpoint;
        }
        return absl::OkStatus();
      },
      PgPool::Kind::kRead, pg::Bound::kNone));
  return checkpoint;
}

absl::Status BackfillWriter::Begin(int64_t high_water_id) {
  // The statement is idempotent: an unknown outcome is settled by repeating.
  return pg::Transact(
      *pool_,
      [&](pqxx::work& txn) {
        txn.exec_params(
            "INSERT INTO backfill_checkpoints (source_store_id, source_path, "
            "last_id, high_water_id) VALUES ($1, $2, 0, $3) "
            "ON CONFLICT (source_store_id) DO UPDATE SET "
            "high_water_id = GREATEST(backfill_checkpoints.high_water_id, "
            "EXCLUDED.high_water_id), source_path = EXCLUDED.source_path, "
            "completed_at = NULL, updated_at = now()",
            store_id_, source_path_, high_water_id);
        DeferIndexesIfEmpty(txn, store_id_);
        const pqxx::result fence = txn.exec(
            "SELECT deferred_by FROM deferred_indexes WHERE "
            "constraint_name IS NOT NULL LIMIT 1");
        fenced_ = !fence.empty();
        if (fenced_ && fence[0][0].as<std::string>() != store_id_) {
          return absl::FailedPreconditionError(absl::StrCat(
              "the primary key of trades is deferred by the backfill of store ",
              fence[0][0].as<std::string>(),
              ", which has not finished: run that backfill again first"));
        }
        return absl::OkStatus();
      },
      PgPool::Kind::kIdempotent, pg::Bound::kNone);
}

absl::Status BackfillWriter::Quarantine(
    const std::vector<QuarantineRow>& rows) {
  return pg::Transact(
      *pool_,
      [&](pqxx::work& txn) {
        for (const QuarantineRow& q : rows) pg::PutQuarantine(txn, q);
        return absl::OkStatus();
      },
      PgPool::Kind::kIdempotent, pg::Bound::kNone);
}

absl::Status BackfillWriter::RestoreKey() {
  // Idempotent: a key already back is left as it is.
  return pg::Transact(
      *pool_,
      [&](pqxx::work& txn) {
        const pqxx::result keys = txn.exec(
            "SELECT d.name, d.constraint_name, EXISTS (SELECT 1 FROM "
            "pg_constraint c WHERE c.conrelid = 'trades'::regclass AND "
            "c.contype = 'p') FROM deferred_indexes d WHERE "
            "d.constraint_name IS NOT NULL FOR UPDATE");
        for (const auto& key : keys) {
          // Its unique index is built; making it the key is a catalog
          // change (a moment's exclusive lock), not a second build.
          if (!key[2].as<bool>()) {
            txn.exec(absl::StrCat("ALTER TABLE trades ADD CONSTRAINT ",
                                  txn.quote_name(key[1].as<std::string>()),
                                  " PRIMARY KEY USING INDEX ",
                                  txn.quote_name(key[0].as<std::string>())));
          }
          txn.exec_params("DELETE FROM deferred_indexes WHERE name = $1",
                          key[0].as<std::string>());
        }
        if (!keys.empty()) {
          txn.exec(kDropFence);
        }
        return absl::OkStatus();
      },
      PgPool::Kind::kIdempotent, pg::Bound::kNone);
}

absl::StatusOr<BatchOutcome> BackfillWriter::WriteOnce(
    const BackfillBatch& batch, bool staged, bool isolate,
    internal::Turnstile& turn) {
  BatchOutcome outcome;
  std::string own_data;
  if (batch.copy_data.empty() && !batch.rows.empty()) {
    own_data = CopyData(batch.rows);
  }
  const absl::string_view copy_data =
      own_data.empty() ? absl::string_view(batch.copy_data) : own_data;
  TS_RETURN_IF_ERROR(pg::Transact(
      *pool_,
      [&](pqxx::work& txn) -> absl::Status {
        outcome = BatchOutcome();
        // A lane that waits for a lock held by a later batch's lane (which
        // waits for this batch's turn) would wait forever: only a source with
        // one client_order_id on two rows in different batches can do that, and
        // such a run fails anyway. Fail it in bounded time.
        txn.exec("SET LOCAL lock_timeout = '30s'");
        // Behind the fence the table holds no row past the checkpoint (only
        // this backfill writes, and each batch commits with its checkpoint), so
        // the batch is copied as it is; there is no key for an upsert anyway.
        if (fenced_) {
          txn.exec_params(
              "SELECT set_config('tradestore.backfill_store', $1, true)",
              store_id_);
        }
        if (!batch.rows.empty()) {
          CopyBatchRows(
              txn, batch.rows, copy_data,
              /*occupied=*/!fenced_ && (staged || Occupied(txn, batch)),
              isolate, outcome);
        }
        for (const QuarantineRow& q : batch.quarantined) {
          pg::PutQuarantine(txn, q);
        }
        for (const QuarantineRow& q : outcome.refused)
          pg::PutQuarantine(txn, q);
        const auto quarantined = static_cast<int64_t>(batch.quarantined.size() +
                                                      outcome.refused.size());
        // The copy ran beside other lanes; the checkpoint moves in batch order.
        TS_RETURN_IF_ERROR(turn.Wait(batch.seq));
        TS_RETURN_IF_ERROR(
            MoveCheckpoint(txn, store_id_, batch, outcome, quarantined));
        internal::Failpoint("backfill.batch.before_commit");
        return absl::OkStatus();
      },
      PgPool::Kind::kWrite, pg::Bound::kNone));
  return outcome;
}

absl::StatusOr<BatchOutcome> BackfillWriter::Write(const BackfillBatch& batch,
                                                   internal::Turnstile& turn) {
  auto outcome = WriteOnce(batch, /*staged=*/false, /*isolate=*/false, turn);
  // A row appeared in the range between the check and the COPY (dual-write):
  // the transaction rolled back; upsert instead. Behind the fence no row can
  // appear, and a staged write would only repeat the same COPY.
  if (absl::IsAlreadyExists(outcome.status()) && !fenced_) {
    outcome = WriteOnce(batch, /*staged=*/true, /*isolate=*/false, turn);
  }
  // Postgres refused a value or a constraint: find the rows at fault and
  // quarantine them, so one row never stops the migration.
  if (absl::IsInvalidArgument(outcome.status()) ||
      absl::IsAlreadyExists(outcome.status())) {
    outcome = WriteOnce(batch, /*staged=*/!fenced_, /*isolate=*/true, turn);
  }
  if (absl::IsUnknown(outcome.status())) {
    // The commit may or may not have happened: the checkpoint tells. This
    // lane holds the turn (it was committing), so known_ is the state just
    // before this batch and no other lane moves the checkpoint meanwhile.
    const BackfillCheckpoint before = known_;
    TS_ASSIGN_OR_RETURN(auto after, LoadCheckpoint());
    if (after && after->last_id >= batch.last_id) {
      return BatchOutcome{.copied = after->rows_copied - before.rows_copied,
                          .skipped = after->rows_skipped - before.rows_skipped,
                          .refused = {}};
    }
    // It did not: replay.
    outcome = WriteOnce(batch, /*staged=*/true, /*isolate=*/false, turn);
  }
  if (outcome.ok()) {
    internal::Failpoint("backfill.batch.after_commit");
    known_.last_id = batch.last_id;
    known_.rows_copied += outcome->copied;
    known_.rows_skipped += outcome->skipped;
    known_.rows_quarantined += static_cast<int64_t>(batch.quarantined.size() +
                                                    outcome->refused.size());
  }
  return outcome;
}

absl::Status BackfillWriter::AnalyzeKey() {
  // A table loaded from empty, or whose rows so far came from dual-write
  // only, may have no statistics until autovacuum's next round. Without the
  // key's correlation the planner reads every id range by bitmap scan and
  // sort, and a verify right after the load is slower. A column list
  // leaves the load counted as changes not yet analyzed, so that round
  // still comes and gathers every column with the full sample; until then
  // a small sample of the key alone gives its correlation and ranges, far
  // cheaper than the default target. Statistics already there are left
  // alone, and a role that does not own the table (which ANALYZE requires)
  // leaves them to autovacuum.
  return pg::Transact(
      *pool_,
      [](pqxx::work& txn) {
        if (!OwnsTrades(txn)) return absl::OkStatus();
        const bool has_statistics =
            txn.exec(
                   "SELECT EXISTS (SELECT 1 FROM pg_stats s JOIN pg_class c "
                   "ON c.relname = s.tablename JOIN pg_namespace n ON n.oid = "
                   "c.relnamespace AND n.nspname = s.schemaname WHERE c.oid = "
                   "'trades'::regclass AND s.attname = 'id')")[0][0]
                .as<bool>();
        if (has_statistics) return absl::OkStatus();
        txn.exec("SET LOCAL default_statistics_target = 10");
        txn.exec("ANALYZE trades (id)");
        return absl::OkStatus();
      },
      PgPool::Kind::kIdempotent, pg::Bound::kNone);
}

absl::StatusOr<int64_t> BackfillWriter::Finish(std::ostream& log,
                                               const FinishProgress& progress) {
  Clock* const clock = pool_->clock();
  auto started = clock->Monotonic();
  auto stage_done = [&](const char* name) {
    const auto now = clock->Monotonic();
    stages_.push_back(
        {name, std::chrono::duration<double>(now - started).count()});
    started = now;
  };
  // A failure here leaves the definitions recorded; the next run builds them.
  internal::Failpoint("backfill.before_index_rebuild");
  if (fenced_) {
    log << "backfill: every row is in; building the deferred indexes and "
           "the primary key"
        << std::endl;
  }
  TS_ASSIGN_OR_RETURN(rebuilt_indexes_, RebuildIndexes(log, progress));
  if (!rebuilt_indexes_.empty()) stage_done("indexes");
  internal::Failpoint("backfill.before_key_restore");
  TS_RETURN_IF_ERROR(RestoreKey());
  if (fenced_) stage_done("primary key");
  TS_RETURN_IF_ERROR(AnalyzeKey());
  stage_done("analyze");
  int64_t next = 1;
  // Idempotent too: repeated while the outcome is unknown.
  TS_RETURN_IF_ERROR(pg::Transact(
      *pool_,
      [&](pqxx::work& txn) {
        // Past the high-water mark too: its rows may all be quarantined.
        const int64_t high_water =
            txn.exec_params(
                   "SELECT coalesce((SELECT high_water_id FROM "
                   "backfill_checkpoints WHERE source_store_id = $1), "
                   "0)",
                   store_id_)[0][0]
                .as<int64_t>();
        next = pg::MoveSequencePast(txn, high_water);
        txn.exec_params(
            "UPDATE backfill_checkpoints SET completed_at = now(), "
            "updated_at = now() WHERE source_store_id = $1",
            store_id_);
        return absl::OkStatus();
      },
      PgPool::Kind::kIdempotent, pg::Bound::kNone));
  stage_done("sequence");
  return next;
}

}  // namespace tradestore
