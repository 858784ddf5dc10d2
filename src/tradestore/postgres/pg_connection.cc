#include "tradestore/postgres/pg_connection.h"

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

pg_conn* RawHandle(pqxx::dbtransaction& txn) {
  // connection_base is not polymorphic: the REQUIRES in the header is
  // what makes this cast right (PgPool opens nothing else).
  auto* conn = static_cast<PgConnection*>(&txn.conn());
  if (conn->raw() == nullptr) {
    throw pqxx::broken_connection("no libpq connection under the transaction");
  }
  return conn->raw();
}

}  // namespace tradestore::pg
