// Running SQL on a PgPool's connections: a transaction with the pool's
// retry rules (pg_pool.h), or statements on their own. Only postgres/
// includes this header: it is where libpqxx shows.
//
// Thread-safety: as PgPool; each call gets its own connection.
#ifndef TRADESTORE_POSTGRES_PG_TRANSACT_H_
#define TRADESTORE_POSTGRES_PG_TRANSACT_H_

#include <exception>
#include <functional>
#include <pqxx/pqxx>

#include "absl/status/status.h"
#include "tradestore/postgres/pg_pool.h"

namespace tradestore::pg {

using TxnBody = std::function<absl::Status(pqxx::work&)>;

// Runs `body` in a transaction and commits it. When `body` returns an error
// the transaction is rolled back and the error returned as is. Retries the
// whole transaction where that is safe for `kind`. Returns kUnavailable (no
// connection within the deadline), kAborted (conflicts kept coming until
// the deadline), kUnknown (connection lost during COMMIT of a kWrite: it
// may or may not have committed), or the mapped SQL error.
//
// `bound`: kCallTimeout ends an attempt that outlives
// PgOptions::call_timeout_s; kNone is for work that may rightly take long
// (a backfill batch, an index build, a scan).
enum class Bound { kCallTimeout, kNone };
absl::Status Transact(PgPool& pool, const TxnBody& body,
                      PgPool::Kind kind = PgPool::Kind::kWrite,
                      Bound bound = Bound::kCallTimeout);

// Runs `body`, which only reads, outside a transaction: each statement
// sees its own snapshot, and the call costs one round trip per statement
// instead of two more for BEGIN and COMMIT (a short read on a fresh
// connection, as a scheduled `verify --incremental` makes, is mostly round
// trips). Retried like Transact's kRead.
using ReadBody = std::function<absl::Status(pqxx::transaction_base&)>;
absl::Status ReadEach(PgPool& pool, const ReadBody& body,
                      Bound bound = Bound::kCallTimeout);

// Maps a libpqxx exception to a status; `committing` says whether COMMIT was
// in flight. Exposed for tests.
absl::Status StatusFromPqxx(const std::exception& e, bool committing,
                            const PgPool& pool);

}  // namespace tradestore::pg

#endif  // TRADESTORE_POSTGRES_PG_TRANSACT_H_
