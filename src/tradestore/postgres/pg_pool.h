// PgPool: a small pool of libpqxx connections with the plan's reconnect logic
// done right: exponential backoff with jitter, a cap and a deadline, a health
// check on checkout, and a retry only where it is safe (libpqxx's transactor
// rules): a connection lost before COMMIT, a serialization failure or a
// deadlock are retried; a connection lost during COMMIT is reported as
// kUnknown for the caller to resolve by looking the row up, never retried
// blindly. Connections refused for good (credentials, configuration) fail at
// once.
//
// This header holds no libpqxx: layers above postgres/ may own a pool and
// hand it to the backend's classes. Running SQL on it is postgres/'s own
// business (pg_transact.h).
//
// Thread-safety: safe for concurrent use; each call gets its own connection.
#ifndef TRADESTORE_POSTGRES_PG_POOL_H_
#define TRADESTORE_POSTGRES_PG_POOL_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tradestore/internal/mutex.h"
#include "tradestore/postgres/pg_options.h"

namespace tradestore {
namespace pg {
class BinaryCopyReader;
class PoolRunner;
}  // namespace pg

// options.dsn with the pool's defaults added where it sets none: the
// connect timeout, the application name, keepalives and tcp_user_timeout.
std::string ConnectionDsn(const PgOptions& options);

class PgPool {
 public:
  // Validates the DSN and, with options.connect_at_open, opens one
  // connection (retrying to the deadline).
  // Returns kInvalidArgument (bad DSN) or kUnavailable.
  static absl::StatusOr<std::unique_ptr<PgPool>> Create(
      const PgOptions& options);
  ~PgPool();

  // What a transaction body does (pg::Transact): kWrite writes, so a
  // connection lost during COMMIT leaves its outcome unknown (kUnknown).
  // kRead only reads: a lost COMMIT changed nothing and is retried like any
  // other lost connection. kIdempotent writes, but running it again after
  // it committed changes nothing (an upsert guarded by version, a
  // GREATEST), so an unknown outcome is settled by running it again.
  enum class Kind { kWrite, kRead, kIdempotent };

  // The DSN with its password masked, for messages.
  const std::string& masked_dsn() const { return masked_dsn_; }
  Clock* clock() const { return clock_; }
  const PgOptions& options() const { return options_; }

  // Error text with the password removed.
  std::string Scrub(const std::string& message) const;

  // For a store being closed: calls in flight stop retrying (they return
  // their last error at once) and calls waiting for a connection get
  // kUnavailable, so closing never waits out a Postgres outage.
  void Shutdown();
  const std::atomic<bool>* shut_down() const { return &shut_down_; }

  PgPoolStats stats() const;

 private:
  // Opens libpq connections of its own with dsn_ (binary COPY).
  friend class pg::BinaryCopyReader;
  // Runs transactions on the pool's connections (pg_transact.h).
  friend class pg::PoolRunner;
  struct Conn;
  PgPool(const PgOptions& options, std::string dsn, std::string password);

  absl::StatusOr<std::unique_ptr<Conn>> Acquire(class Backoff& backoff);
  // Counts a retry after its wait and tells options.on_retry.
  void Retried(const absl::Status& why, const class Backoff& backoff);
  absl::StatusOr<std::unique_ptr<Conn>> Connect();
  bool Healthy(Conn& conn);
  void Release(std::unique_ptr<Conn> conn);
  void Discard();
  std::chrono::milliseconds CallLimit() const {
    return std::chrono::seconds(std::max(0, options_.call_timeout_s));
  }
  // A commit's outcome beyond libpq's word: kUnknown when the wait for the
  // synchronous standby was cancelled, or a test hook lost the
  // acknowledgement (then *ack_lost).
  absl::Status AfterCommit(Conn& conn, bool* ack_lost);
  // The status for an attempt that threw; drops a connection that cannot
  // be trusted again (lost, or on a server that is read-only now).
  absl::Status Failed(const std::exception& e, bool committing_write,
                      bool timed_out, Conn& conn);
  // Transact's retry loop around a pqxx::work or a pqxx::nontransaction;
  // `bounded`: each attempt within options_.call_timeout_s.
  template <typename Txn, typename Body>
  absl::Status Run(const Body& body, Kind kind, bool bounded);

  const PgOptions options_;
  const std::string dsn_;
  const std::string password_;
  const std::string masked_dsn_;
  Clock* const clock_;

  internal::Mutex mu_;
  std::condition_variable released_;
  std::vector<std::unique_ptr<Conn>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // connections lent out or idle
  std::atomic<bool> shut_down_{false};
  std::atomic<bool> opening_{false};  // the first connection, in Create
  std::atomic<int64_t> connects_{0}, connect_failures_{0}, retries_{0},
      waits_{0};
};

}  // namespace tradestore

#endif  // TRADESTORE_POSTGRES_PG_POOL_H_
