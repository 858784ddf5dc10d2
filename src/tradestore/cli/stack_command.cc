// tradestore stack up|status|down: the local Postgres + PgBouncer stack.
#include "tradestore/cli/cli.h"
#include "tradestore/cli/command.h"
#include "tradestore/ops/stack.h"

namespace tradestore::cli {
namespace {

void PrintStatus(const ops::StackStatus& s, std::ostream& out) {
  auto state = [](int pid) {
    return pid != 0 ? "running (pid " + std::to_string(pid) + ")"
                    : std::string("STOPPED");
  };
  out << "stack in " << s.dir << "\n";
  if (s.ha) {
    out << "  etcd       127.0.0.1:" << s.etcd_port << "  " << state(s.etcd_pid)
        << "\n"
        << "  haproxy    127.0.0.1:" << s.postgres_port
        << " (primary), :" << s.replica_port << " (replicas within "
        << s.max_replica_lag << ")  " << state(s.haproxy_pid) << "\n";
  } else {
    out << "  postgres   127.0.0.1:" << s.postgres_port << "  "
        << state(s.postgres_pid) << "\n";
  }
  out << "  pgbouncer  127.0.0.1:" << s.pgbouncer_port << "  "
      << state(s.pgbouncer_pid) << "\n"
      << "  through PgBouncer: " << s.pgbouncer_dsn << "\n"
      << "  straight:          " << s.primary_dsn << "\n";
  if (s.ha) out << "  replicas:          " << s.replica_dsn << "\n";
  for (const ops::StackNode& n : s.nodes) {
    out << "  " << n.name << "      127.0.0.1:" << n.pg_port << "  "
        << (n.role.empty() ? "?" : n.role) << ", "
        << (n.state.empty() ? "?" : n.state);
    if (n.lag_bytes > 0) out << ", " << n.lag_bytes << " bytes behind";
    out << ", Patroni " << state(n.patroni_pid) << ", Postgres "
        << state(n.postmaster_pid) << "\n";
  }
  if (s.archive) {
    out << "  WAL archived by pgBackRest: --config=" << s.pgbackrest_config
        << " --stanza=" << s.stanza << "\n";
  }
}

int Run(Invocation& call) {
  const std::string dir = call.args.Get("dir").value_or("");
  if (dir.empty()) return call.UsageError("--dir DIR is required");
  if (call.action == "up") {
    auto up = ops::StackUp(
        {.dir = dir,
         .port_base =
             static_cast<int>(call.args.Count("port-base").value_or(0)),
         .archive = call.args.Has("archive"),
         .ha = call.args.Has("ha"),
         .nodes = static_cast<int>(call.args.Count("nodes").value_or(3)),
         .max_replica_lag = call.args.Get("max-replica-lag").value_or("1MB")},
        call.err);
    if (!up.ok()) return call.Fail(up.status()), kExitUsage;
    if (call.args.Has("json")) {
      call.out << up->ToJson();
    } else {
      PrintStatus(*up, call.out);
    }
    return kExitOk;
  }
  if (call.action == "down") {
    const absl::Status down =
        ops::StackDown(dir, call.args.Has("remove"), call.err);
    return down.ok() ? kExitOk : (call.Fail(down), kExitUsage);
  }
  auto status = ops::GetStackStatus(dir);
  if (!status.ok()) return call.Fail(status.status()), kExitUsage;
  if (call.args.Has("json")) {
    call.out << status->ToJson();
  } else {
    PrintStatus(*status, call.out);
  }
  return status->running() ? kExitOk : kExitFailed;
}

}  // namespace

Command StackCommand() {
  return {
      {.name = "stack",
       .summary = "start, show or stop a local Postgres + PgBouncer stack",
       .synopsis = "up|status|down --dir DIR [--port-base N] [--archive] "
                   "[--ha [--nodes N] [--max-replica-lag SIZE]] [--json] "
                   "[--remove]",
       .description =
           "A Postgres 15 primary and a PgBouncer in front of it configured "
           "by the project's tools/postgres/pgbouncer.ini (only ports and "
           "paths rewritten), on loopback ports, every file in DIR; run as "
           "the postgres user when started by root. SCRAM on every TCP "
           "connection; the passwords are in DIR/pgpass, which the DSNs name "
           "(passfile=).\n\n"
           "With --archive the primary archives its WAL with pgBackRest "
           "(tools/postgres/pgbackrest.conf) into DIR/backrest, and the "
           "stanza is created.\n\n"
           "With --ha: one etcd, N Postgres nodes managed by Patroni "
           "(tools/postgres/patroni.yml: synchronous mode, pg_rewind), HAProxy "
           "(tools/postgres/haproxy.cfg) with a primary port routed by "
           "Patroni's /primary check and a replica port by /replica?lag=, "
           "and PgBouncer in front of the primary port. primary_dsn and "
           "replica_dsn go through HAProxy. With --ha --archive the leader "
           "archives, into one repository whose configuration names every "
           "node, so backups and recovery span failovers.",
       .flags = {TextFlag("dir", "DIR", "where the stack lives (required)"),
                 CountFlag("port-base",
                           "up: Postgres on N, PgBouncer on N+1 (default: "
                           "free ports)",
                           1024, 65000),
                 BoolFlag("archive", "up: archive WAL with pgBackRest"),
                 BoolFlag("ha", "up: a Patroni cluster behind HAProxy"),
                 CountFlag("nodes", "up --ha: Postgres nodes (default 3)", 2,
                           9),
                 TextFlag("max-replica-lag", "SIZE",
                          "up --ha: replicas further behind leave the "
                          "replica port (default 1MB; kB, MB, GB)"),
                 BoolFlag("json",
                          "up, status: print the status as JSON (DSNs, pids, "
                          "ports)"),
                 BoolFlag("remove", "down: delete DIR too")},
       .actions = {{"up", "start a new stack in DIR"},
                   {"status", "show it: exit 0 running, 1 a part is down"},
                   {"down", "stop it (its files stay unless --remove)"}},
       .exit_codes = "0 done (status: everything runs), 1 status: a part is "
                     "down, 2 usage error or could not run."},
      Run};
}

}  // namespace tradestore::cli
