#include "tradestore/postgres/pg_connection.h"

#include <libpq-fe.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tradestore::pg {

HandlePolicy::handle HandlePolicy::do_startconnect(handle orig) {
  return raw_ = connect_direct::do_startconnect(orig);
}

HandlePolicy::handle HandlePolicy::do_completeconnect(handle orig) {
  return raw_ = connect_direct::do_completeconnect(orig);
}

HandlePolicy::handle HandlePolicy::do_dropconnect(handle orig) noexcept {
  return raw_ = connect_direct::do_dropconnect(orig);
}

HandlePolicy::handle HandlePolicy::do_disconnect(handle orig) noexcept {
  return raw_ = connect_direct::do_disconnect(orig);
}

pg_conn* RawHandle(pqxx::transaction_base& txn) {
  // connection_base is not polymorphic: the REQUIRES in the header is
  // what makes this cast right (PgPool opens nothing else).
  auto* conn = static_cast<PgConnection*>(&txn.conn());
  if (conn->raw() == nullptr) {
    throw pqxx::broken_connection("no libpq connection under the transaction");
  }
  return conn->raw();
}

absl::Status RequireUtf8Server(pg_conn* conn, absl::string_view masked_dsn) {
  const char* encoding = PQparameterStatus(conn, "server_encoding");
  if (encoding != nullptr && absl::string_view(encoding) == "UTF8") {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "postgres ", masked_dsn, ": the database's encoding is ",
      encoding != nullptr ? encoding : "unknown", "; tradestore needs UTF8"));
}

void ThrowLibpqError(pg_conn* conn, const std::string& message,
                     const char* sqlstate, const std::string& query) {
  if (PQstatus(conn) == CONNECTION_BAD) throw pqxx::broken_connection(message);
  if (sqlstate == nullptr) throw pqxx::failure(message);
  if (absl::StartsWith(sqlstate, "40")) {
    throw pqxx::transaction_rollback(message);
  }
  throw pqxx::sql_error(message, query, sqlstate);
}

}  // namespace tradestore::pg
