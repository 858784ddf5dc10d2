// ReplicaRouter: sends reads that may be slightly old (a symbol query, a
// count) to a read replica, and only when the replica is fit to answer:
// it is a standby, its replay is within max_replica_lag_bytes of the
// primary's WAL, and it has replayed past this store's own last write (so a
// caller always reads its own writes). Otherwise, or when the replica
// cannot be reached, the read goes to the primary and is counted.
//
// The primary's WAL position is fetched after each write (lazily, by the
// next read) and at most once a second otherwise, so the lag bound may be
// that much stale for a store that does not write.
//
// Thread-safety: safe for concurrent use.
#ifndef TRADESTORE_POSTGRES_REPLICA_ROUTER_H_
#define TRADESTORE_POSTGRES_REPLICA_ROUTER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "tradestore/internal/mutex.h"
#include "tradestore/postgres/pg_options.h"
#include "tradestore/postgres/pg_transact.h"

namespace tradestore::pg {

class ReplicaRouter {
 public:
  // Null when options.replica_dsn is empty. Connects lazily.
  static absl::StatusOr<std::unique_ptr<ReplicaRouter>> Create(
      const PgOptions& options, PgPool& primary);

  // After every write, whatever its outcome.
  void NoteWrite() { wrote_ = true; }

  // Runs `body` in a read-only transaction on a fit replica and returns
  // true, or returns false without running it (the caller reads the
  // primary). An error of `body` itself is returned as is.
  absl::StatusOr<bool> TryRead(const TxnBody& body);

  ReplicaReadStats stats() const;

 private:
  ReplicaRouter(const PgOptions& options, PgPool& primary,
                std::unique_ptr<PgPool> replicas);
  // The lowest replay position a replica may have to serve a read.
  absl::StatusOr<int64_t> Floor();

  const int64_t max_lag_bytes_;
  PgPool& primary_;
  std::unique_ptr<PgPool> replicas_;
  std::atomic<bool> wrote_{true};  // unknown at first: fetch

  mutable internal::Mutex mu_;
  // The primary's position after our writes.
  int64_t own_floor_ ABSL_GUARDED_BY(mu_) = 0;
  // The primary's position when last fetched.
  int64_t primary_lsn_ ABSL_GUARDED_BY(mu_) = 0;
  std::chrono::steady_clock::time_point fetched_at_ ABSL_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point down_until_ ABSL_GUARDED_BY(mu_);
  ReplicaReadStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tradestore::pg

#endif  // TRADESTORE_POSTGRES_REPLICA_ROUTER_H_
