#include "tradestore/postgres/replica_router.h"

#include <algorithm>

#include "tradestore/internal/status_macros.h"

namespace tradestore::pg {
namespace {

using Steady = std::chrono::steady_clock;

// A replica that failed is left alone this long: reads go to the primary
// at once instead of each waiting for a connection attempt.
constexpr std::chrono::seconds kReplicaRest(5);
// How old the primary's position may be when this store has not written.
constexpr std::chrono::seconds kPrimaryLsnAge(1);

}  // namespace

absl::StatusOr<std::unique_ptr<ReplicaRouter>> ReplicaRouter::Create(
    const PgOptions& options, PgPool& primary) {
  if (options.replica_dsn.empty()) return nullptr;
  if (options.max_replica_lag_bytes < 0) {
    return absl::InvalidArgumentError(
        "max_replica_lag_bytes: must not be negative");
  }
  PgOptions o = options;
  o.dsn = options.replica_dsn;
  o.connect_at_open = false;
  // A replica that does not answer soon is skipped, not waited for.
  o.backoff.deadline =
      std::min(o.backoff.deadline, std::chrono::milliseconds(1000));
  o.application_name = options.application_name + "-reads";
  TS_ASSIGN_OR_RETURN(auto replicas, PgPool::Create(o));
  return std::unique_ptr<ReplicaRouter>(
      new ReplicaRouter(options, primary, std::move(replicas)));
}

ReplicaRouter::ReplicaRouter(const PgOptions& options, PgPool& primary,
                             std::unique_ptr<PgPool> replicas)
    : max_lag_bytes_(options.max_replica_lag_bytes),
      primary_(primary),
      replicas_(std::move(replicas)) {}

absl::StatusOr<int64_t> ReplicaRouter::Floor() {
  const bool wrote = wrote_.exchange(false);
  {
    internal::ScopedLock lock(mu_);
    if (!wrote && Steady::now() - fetched_at_ < kPrimaryLsnAge) {
      return std::max(own_floor_, primary_lsn_ - max_lag_bytes_);
    }
  }
  // Fetched after the writes this store made so far returned: every one of
  // their commits lies at or before it.
  int64_t lsn = 0;
  absl::Status fetched = Transact(
      primary_,
      [&](pqxx::work& txn) {
        lsn = txn.exec1(
                     "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), "
                     "'0/0')::int8")[0]
                  .as<int64_t>();
        return absl::OkStatus();
      },
      PgPool::Kind::kRead);
  if (!fetched.ok()) {
    if (wrote) wrote_ = true;  // still owed
    return fetched;
  }
  internal::ScopedLock lock(mu_);
  if (wrote) own_floor_ = std::max(own_floor_, lsn);
  primary_lsn_ = std::max(primary_lsn_, lsn);
  fetched_at_ = Steady::now();
  return std::max(own_floor_, primary_lsn_ - max_lag_bytes_);
}

absl::StatusOr<bool> ReplicaRouter::TryRead(const TxnBody& body) {
  {
    internal::ScopedLock lock(mu_);
    if (Steady::now() < down_until_) {
      ++stats_.unavailable;
      return false;
    }
  }
  TS_ASSIGN_OR_RETURN(const int64_t floor, Floor());
  bool fit = false;
  int64_t replayed = 0;
  absl::Status body_status;
  const absl::Status ran = Transact(
      *replicas_,
      [&](pqxx::work& txn) {
        const pqxx::row r = txn.exec1(
            "SELECT pg_is_in_recovery(), "
            "pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::int8");
        if (!r[0].as<bool>() || r[1].is_null()) return absl::OkStatus();
        replayed = r[1].as<int64_t>();
        fit = replayed >= floor;
        if (!fit) return absl::OkStatus();
        body_status = body(txn);
        return body_status;
      },
      PgPool::Kind::kRead);
  internal::ScopedLock lock(mu_);
  if (!ran.ok() && body_status.ok()) {
    // The replica, not the read: rest it and ask the primary.
    down_until_ = Steady::now() + kReplicaRest;
    ++stats_.unavailable;
    return false;
  }
  if (!ran.ok()) return ran;
  if (replayed > 0) {
    stats_.last_lag_bytes = std::max<int64_t>(0, primary_lsn_ - replayed);
  }
  if (!fit) {
    ++stats_.behind;
    return false;
  }
  ++stats_.replica_reads;
  return true;
}

ReplicaReadStats ReplicaRouter::stats() const {
  internal::ScopedLock lock(mu_);
  return stats_;
}

}  // namespace tradestore::pg
