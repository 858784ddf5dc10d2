// PgPool: a small pool of libpqxx connections with the plan's reconnect logic
// done right: exponential backoff with jitter, a cap and a deadline, a health
// check on checkout, and a retry only where it is safe (libpqxx's transactor
// rules): a connection lost before COMMIT, a serialization failure or a
// deadlock are retried; a connection lost during COMMIT is reported as
// kUnknown for the caller to resolve by looking the row up, never retried
// blindly. Internal: includes <pqxx>.
//
// Thread-safety: safe for concurrent use; each call gets its own connection.
#ifndef TRADESTORE_POSTGRES_PG_POOL_H_
#define TRADESTORE_POSTGRES_PG_POOL_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tradestore/postgres/pg_options.h"

namespace tradestore {
namespace pg {
class BinaryCopyReader;
}

class PgPool {
 public:
  // Validates the DSN and, with options.connect_at_open, opens one
  // connection (retrying to the deadline).
  // Returns kInvalidArgument (bad DSN) or kUnavailable.
  static absl::StatusOr<std::unique_ptr<PgPool>> Create(
      const PgOptions& options);
  ~PgPool();

  using TxnBody = std::function<absl::Status(pqxx::work&)>;

  // Runs `body` in a transaction and commits it. When `body` returns an
  // error the transaction is rolled back and the error returned as is.
  // Retries the whole transaction where that is safe (see above). Returns
  // kUnavailable (no connection within the deadline), kAborted (conflicts
  // kept coming until the deadline), kUnknown (connection lost during
  // COMMIT: it may or may not have committed), or the mapped SQL error.
  // kRead: the body only reads, so a connection lost during COMMIT changed
  // nothing and the call is retried like any other lost connection.
  // kIdempotent: the body writes, but running it again after it committed
  // changes nothing (an upsert guarded by version, a GREATEST), so an
  // unknown commit outcome is settled by running it again, to the deadline.
  enum class Kind { kWrite, kRead, kIdempotent };
  absl::Status Transact(const TxnBody& body, Kind kind = Kind::kWrite);

  // Runs `body`, which only reads, outside a transaction: each statement
  // sees its own snapshot, and the call costs one round trip per statement
  // instead of two more for BEGIN and COMMIT (a short read on a fresh
  // connection, as a scheduled `verify --incremental` makes, is mostly round
  // trips). Retried like Transact's kRead.
  using ReadBody = std::function<absl::Status(pqxx::transaction_base&)>;
  absl::Status ReadEach(const ReadBody& body);

  // The DSN with its password masked, for messages.
  const std::string& masked_dsn() const { return masked_dsn_; }
  Clock* clock() const { return clock_; }
  const PgOptions& options() const { return options_; }

  // Error text with the password removed.
  std::string Scrub(const std::string& message) const;

 private:
  // Opens libpq connections of its own with dsn_ (binary COPY).
  friend class pg::BinaryCopyReader;
  struct Conn;
  PgPool(const PgOptions& options, std::string dsn, std::string password);

  absl::StatusOr<std::unique_ptr<Conn>> Acquire(class Backoff& backoff);
  absl::StatusOr<std::unique_ptr<Conn>> Connect();
  bool Healthy(Conn& conn);
  void Release(std::unique_ptr<Conn> conn);
  void Discard();
  // Transact's retry loop around a pqxx::work or a pqxx::nontransaction.
  template <typename Txn, typename Body>
  absl::Status Run(const Body& body, Kind kind);

  const PgOptions options_;
  const std::string dsn_;
  const std::string password_;
  const std::string masked_dsn_;
  Clock* const clock_;

  std::mutex mu_;
  std::condition_variable released_;
  std::vector<std::unique_ptr<Conn>> idle_;
  int open_ = 0;  // connections lent out or idle
};

// Maps a libpqxx exception to a status; `committing` says whether COMMIT was
// in flight. Exposed for tests.
absl::Status StatusFromPqxx(const std::exception& e, bool committing,
                            const PgPool& pool);

}  // namespace tradestore

#endif  // TRADESTORE_POSTGRES_PG_POOL_H_
