// PgConnection: a libpqxx connection that also hands out its libpq handle,
// for the one thing libpqxx 6.4 cannot do: COPY FROM STDIN in binary (its
// copy writers add a newline to every write). It is libpqxx's own
// connect_direct behind a connection policy that remembers the handle, the
// extension point libpqxx 6 documents for connection types. Internal.
//
// Thread-safety: like pqxx::connection, one thread at a time.
#ifndef TRADESTORE_POSTGRES_PG_CONNECTION_H_
#define TRADESTORE_POSTGRES_PG_CONNECTION_H_

#include <pqxx/pqxx>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

struct pg_conn;

namespace tradestore::pg {

class HandlePolicy : public pqxx::connect_direct {
 public:
  explicit HandlePolicy(const std::string& options) : connect_direct(options) {}
  handle do_startconnect(handle orig) override;
  handle do_completeconnect(handle orig) override;
  handle do_dropconnect(handle orig) noexcept override;
  handle do_disconnect(handle orig) noexcept override;
  // The handle libpqxx holds now; null while disconnected.
  pg_conn* raw() const { return raw_; }

 private:
  handle raw_ = nullptr;
};

class PgConnection : public pqxx::connection_base {
 public:
  // Connects at once, like pqxx::connection; throws what it throws.
  explicit PgConnection(const std::string& options)
      : connection_base(policy_), options_(options), policy_(options_) {
    init();
  }
  ~PgConnection() noexcept { close(); }

  pg_conn* raw() const { return policy_.raw(); }

 private:
  // Must be initialised before the policy, which keeps a reference to it.
  const std::string options_;
  HandlePolicy policy_;
};

// The libpq handle under a transaction. REQUIRES: the transaction runs on a
// PgConnection (every PgPool connection is one). Throws
// pqxx::broken_connection when the connection has none. Whoever uses it
// leaves the connection as it found it: no result pending, the transaction
// (if any) still open unless an error aborted it.
pg_conn* RawHandle(pqxx::transaction_base& txn);

// kFailedPrecondition naming the encoding unless the server's is UTF8:
// binary COPY hands text over in it, and every text of a trade is UTF-8.
// Reads what the server reported at connect; no round trip.
absl::Status RequireUtf8Server(pg_conn* conn, absl::string_view masked_dsn);

// Throws the libpqxx exception PgPool's error mapping expects for a libpq
// failure on `conn` with `message`: broken_connection when the connection
// is down, transaction_rollback for SQLSTATE class 40 (retried), sql_error
// carrying the SQLSTATE otherwise (PgPool maps it, a lost-connection state
// included), or a plain failure for libpq's own errors (`sqlstate` null).
[[noreturn]] void ThrowLibpqError(pg_conn* conn, const std::string& message,
                                  const char* sqlstate,
                                  const std::string& query);

}  // namespace tradestore::pg

#endif  // TRADESTORE_POSTGRES_PG_CONNECTION_H_
