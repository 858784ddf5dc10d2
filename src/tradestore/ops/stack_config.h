// The files the local stack writes from the project's templates: pure
// functions, tested without starting anything.
#ifndef TRADESTORE_OPS_STACK_CONFIG_H_
#define TRADESTORE_OPS_STACK_CONFIG_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace tradestore::ops {

struct StackPasswords {
  std::string postgres, app, pgbouncer_auth, pgbouncer_stats;
};

// PgBouncer's auth file: the auth_user's and the stats user's own
// credentials, never an application user's (auth_query finds those).
std::string PgBouncerUserlist(const StackPasswords& pw);

// A libpq password file for the stack's roles on Postgres's ports (a
// server, or HAProxy's) and PgBouncer's (0: none yet).
std::string PgPassFile(const StackPasswords& pw,
                       const std::vector<int>& postgres_ports,
                       int pgbouncer_port);

// Where a rendered pgbackrest.conf keeps its repository and finds its
// cluster.
struct PgBackRestPlaces {
  std::string repo_path, log_path, lock_path;
  std::string pg_path;
  int pg_port = 0;
  std::string pg_socket_path;
  // More servers of the same cluster (an HA stack's other nodes): pg2-*,
  // pg3-*, ... pgBackRest backs up from whichever is the primary.
  struct Pg {
    std::string path;
    int port = 0;
    std::string socket_path;
  };
  std::vector<Pg> more_pgs;
};

// `conf` with those keys set (repo1-path, log-path, lock-path, pg1-path,
// pg1-port, pg1-socket-path) and the more_pgs appended to its last section
// (the stanza's); every other line as it is.
std::string RenderPgBackRestConf(absl::string_view conf,
                                 const PgBackRestPlaces& places);

}  // namespace tradestore::ops

#endif  // TRADESTORE_OPS_STACK_CONFIG_H_
