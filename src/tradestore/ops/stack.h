// The local stack, production-shaped (issue 21): a Postgres 15 primary and
// a PgBouncer in front of it running the project's own
// tools/postgres/pgbouncer.ini (only ports and paths rewritten), SCRAM on
// every TCP connection, on loopback ports, with all its files in one
// directory. With `archive`, the primary archives its WAL to a pgBackRest
// repository in that directory (tools/postgres/pgbackrest.conf) and the
// stanza is created.
//
// Roles: tradestore_app owns the trades database; pgbouncer_auth is the
// only role whose credential PgBouncer holds (auth_query does the rest);
// pgbouncer_stats reads PgBouncer's SHOW commands. Their passwords are in
// DIR/pgpass (0600), which the DSNs name with passfile=, so no password is
// ever on a command line or in the status.
//
// With `ha`, a Patroni cluster behind HAProxy instead (ha_stack.h).
//
// The stack outlives the process that started it: `stack status` and
// `stack down` find it by its directory (DIR/stack.json).
//
// Thread-safety: functions; one stack per directory.
#ifndef TRADESTORE_OPS_STACK_H_
#define TRADESTORE_OPS_STACK_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tradestore::ops {

struct StackOptions {
  std::string dir;    // created; must be empty or absent
  int port_base = 0;  // Postgres on it, PgBouncer on it + 1; 0 = free ports
  bool archive = false;
  // Patroni-managed nodes behind HAProxy instead of one Postgres
  // (ha_stack.h).
  bool ha = false;
  int nodes = 3;
  std::string max_replica_lag = "1MB";  // HAProxy's replica port
};

// One Postgres node of an HA stack, as its Patroni and the DCS see it.
struct StackNode {
  std::string name;
  std::string role;   // leader, sync_standby, replica; "" when unknown
  std::string state;  // running, streaming, stopped, ...; "" when unknown
  int pg_port = 0, api_port = 0;
  int postmaster_pid = 0, patroni_pid = 0;  // 0 when not running
  int64_t lag_bytes = -1;                   // a replica's; -1 unknown
  int timeline = 0;
};

struct StackStatus {
  std::string dir;
  std::string data_dir;
  std::string primary_dsn;    // straight to Postgres, as tradestore_app
  std::string pgbouncer_dsn;  // through PgBouncer, as tradestore_app
  std::string admin_dsn;      // Postgres as the superuser (setup, drills)
  std::string stats_dsn;      // PgBouncer's console as pgbouncer_stats
  std::string pgpass;         // the password file the DSNs name
  int postgres_port = 0, pgbouncer_port = 0;
  int postgres_pid = 0, pgbouncer_pid = 0;  // 0 when not running
  bool archive = false;
  std::string pgbackrest_config;  // with archive
  std::string stanza;             // with archive

  // HA: primary_dsn and admin_dsn go through HAProxy's primary port
  // (postgres_port), replica_dsn through its replica port.
  bool ha = false;
  std::string replica_dsn;
  int replica_port = 0;
  int etcd_port = 0, etcd_pid = 0, haproxy_pid = 0;
  std::string max_replica_lag;
  std::vector<StackNode> nodes;

  // Every part runs (HA: every node, a leader and a sync standby).
  bool running() const;
  std::string ToJson() const;
};

// Starts a stack in options.dir. kAlreadyExists when the directory holds
// something; kFailedPrecondition when a program is missing (run
// tools/setup.sh); kInternal with the program's output when a step fails
// (what started is stopped again).
absl::StatusOr<StackStatus> StackUp(const StackOptions& options,
                                    std::ostream& log);

// The stack in `dir` and whether its processes run. kNotFound when there is
// none.
absl::StatusOr<StackStatus> GetStackStatus(const std::string& dir);

// Stops the stack in `dir` (PgBouncer, then Postgres with a clean
// shutdown); with `remove`, deletes the directory too. Stopping a stopped
// stack is fine.
absl::Status StackDown(const std::string& dir, bool remove, std::ostream& log);

}  // namespace tradestore::ops

#endif  // TRADESTORE_OPS_STACK_H_
