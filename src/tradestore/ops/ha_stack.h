// The HA stack (issue 22): one etcd, N Postgres 15 nodes managed by
// Patroni 3.0 in synchronous mode, HAProxy routing by Patroni's health
// checks (a primary port and a replica port with a lag bound), and
// PgBouncer in transaction mode in front of HAProxy's primary port. All on
// loopback, every file in one directory, each server run as the postgres
// user when started by root, from the project's templates in
// tools/postgres/ (etcd.conf.yml, patroni.yml, haproxy.cfg, pgbouncer.ini).
//
// Also the faults the failover drills inject into it.
//
// Thread-safety: functions; one stack per directory.
#ifndef TRADESTORE_OPS_HA_STACK_H_
#define TRADESTORE_OPS_HA_STACK_H_

#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "tradestore/ops/stack.h"

namespace tradestore::ops {

// Called by StackUp for options.ha; the directory is prepared.
absl::StatusOr<StackStatus> HaStackUp(const StackOptions& options,
                                      std::ostream& log);
// The stack in `dir` (its stack.json), with each part's pid and each
// node's role and lag as Patroni reports them now.
absl::StatusOr<StackStatus> GetHaStackStatus(const std::string& dir);
// Stops PgBouncer, HAProxy, every Patroni (each stops its Postgres), any
// Postgres left without its Patroni, and etcd. Works on a stack that only
// half started.
absl::Status HaStackDown(const std::string& dir, std::ostream& log);

enum class NodeFault {
  kPostmasterCrash,  // SIGKILL the node's postmaster; Patroni lives on
  kNodeLoss,         // SIGKILL the node's Patroni and all of its Postgres
};
// Injects `fault` into node `name` of the stack in `dir`.
absl::Status InjectNodeFault(const std::string& dir, const std::string& name,
                             NodeFault fault);
// Starts a lost node's Patroni again (it rejoins, with pg_rewind when
// needed).
absl::Status RestartNode(const std::string& dir, const std::string& name);
// A planned switchover to `candidate` (any sync standby when empty).
absl::Status Switchover(const std::string& dir, const std::string& candidate);

// Clones node `name` again from the leader (Patroni's reinitialize): for a
// node that cannot rejoin by itself.
absl::Status ReinitNode(const std::string& dir, const std::string& name);

// Turns Patroni's maintenance mode on or off for the stack in `dir`.
absl::Status SetMaintenance(const std::string& dir, bool on);

}  // namespace tradestore::ops

#endif  // TRADESTORE_OPS_HA_STACK_H_
