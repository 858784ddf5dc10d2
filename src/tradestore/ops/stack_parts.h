// What the single-node stack (stack.cc) and the HA stack (ha_stack.cc)
// set up alike: passwords, roles, and a PgBouncer running the project's
// pgbouncer.ini in front of a Postgres port.
#ifndef TRADESTORE_OPS_STACK_PARTS_H_
#define TRADESTORE_OPS_STACK_PARTS_H_

#include <string>

#include "absl/status/status.h"
#include "tradestore/ops/pg_cluster.h"
#include "tradestore/ops/stack_config.h"

namespace tradestore::ops {

// 24 random letters and digits, none that look alike.
std::string NewPassword();

// The roles, the trades database and PgBouncer's lookup function, through
// the superuser on `pg`'s socket.
absl::Status CreateRoles(PgCluster& pg, const StackPasswords& pw);

// Starts PgBouncer in dir/bouncer in front of 127.0.0.1:server_port, on
// *port (a free one when 0, which is then set).
absl::Status StartStackBouncer(const std::string& dir, const std::string& user,
                               const StackPasswords& pw, int server_port,
                               int* port);

// A libpq DSN over TCP to 127.0.0.1 with the stack's password file.
std::string StackDsn(int port, const std::string& db, const std::string& user,
                     const std::string& pgpass);

// When the stack runs as another user (root starts it as postgres), that
// user must be able to pass through every directory above `dir`.
absl::Status CheckReachable(const std::string& dir, const std::string& user);

}  // namespace tradestore::ops

#endif  // TRADESTORE_OPS_STACK_PARTS_H_
