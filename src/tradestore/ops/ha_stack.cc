#include "tradestore/ops/ha_stack.h"

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "tradestore/internal/poll.h"
#include "tradestore/internal/process.h"
#include "tradestore/internal/read_file.h"
#include "tradestore/internal/safe_file.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/ops/ha_archive.h"
#include "tradestore/ops/ha_config.h"
#include "tradestore/ops/haproxy.h"
#include "tradestore/ops/http_client.h"
#include "tradestore/ops/ops_files.h"
#include "tradestore/ops/patroni.h"
#include "tradestore/ops/pg_cluster.h"
#include "tradestore/ops/pgbouncer.h"
#include "tradestore/ops/pid_file.h"
#include "tradestore/ops/stack_parts.h"
#include "tradestore/postgres/migrator.h"

namespace tradestore::ops {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

// Debian's Patroni; run by Debian's python3 explicitly, as another python3
// first in PATH (pyenv) does not see Debian's python packages.
constexpr char kPython[] = "/usr/bin/python3";
constexpr char kPatroni[] = "/usr/bin/patroni";

std::string Tail(const std::string& path, size_t bytes = 3000) {
  const std::string text = internal::ReadWholeFile(path);
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

absl::Status RequirePrograms() {
  for (const char* program : {"etcd", "haproxy", "pgbouncer"}) {
    bool found = false;
    for (absl::string_view dir :
         absl::StrSplit(getenv("PATH") ? getenv("PATH") : "/usr/bin", ':')) {
      found |= access(absl::StrCat(dir, "/", program).c_str(), X_OK) == 0;
    }
    if (!found) {
      return absl::FailedPreconditionError(
          absl::StrCat(program, " is not installed: run tools/setup.sh"));
    }
  }
  if (access(kPatroni, X_OK) != 0) {
    return absl::FailedPreconditionError(
        "Patroni is not installed (no /usr/bin/patroni): run tools/setup.sh");
  }
  return absl::OkStatus();
}

absl::StatusOr<HaLayout> PickLayout(const StackOptions& o) {
  if (o.port_base > 0) {
    HaLayout l = LayoutFromBase(o.dir, o.nodes, o.port_base);
    l.max_replica_lag = o.max_replica_lag;
    l.archive = o.archive;
    return l;
  }
  std::set<int> taken;
  auto next = [&taken]() -> absl::StatusOr<int> {
    for (;;) {
      TS_ASSIGN_OR_RETURN(int port, internal::FreeLoopbackPort());
      if (taken.insert(port).second) return port;
    }
  };
  HaLayout l = LayoutFromBase(o.dir, o.nodes, 1);
  for (int* port : {&l.etcd_port, &l.etcd_peer_port, &l.primary_port,
                    &l.replica_port, &l.pgbouncer_port}) {
    TS_ASSIGN_OR_RETURN(*port, next());
  }
  for (HaNode& n : l.nodes) {
    TS_ASSIGN_OR_RETURN(n.pg_port, next());
    TS_ASSIGN_OR_RETURN(n.api_port, next());
  }
  l.max_replica_lag = o.max_replica_lag;
  l.archive = o.archive;
  return l;
}

// Polls `ready` every 200 ms until it holds or `limit` passes.
absl::Status WaitFor(seconds limit, const std::string& what,
                     const std::function<absl::Status()>& ready) {
  const absl::Status last =
      internal::PollUntilOk(std::chrono::milliseconds(200), limit, ready);
  if (last.ok()) return last;
  return absl::DeadlineExceededError(
      absl::StrCat(what, " within ", limit.count(), " s: ", last.message()));
}

std::vector<int> ApiPorts(const HaLayout& l) {
  std::vector<int> out;
  for (const HaNode& n : l.nodes) out.push_back(n.api_port);
  return out;
}

PidFile PatroniPid(const HaLayout& l, size_t i) {
  return PidFile(l.node_dir(i) + "/patroni.pid");
}

absl::Status StartEtcd(const HaLayout& l, const std::string& user) {
  const std::string dir = l.dir + "/etcd";
  TS_RETURN_IF_ERROR(MakeServiceDir(dir, user));
  TS_ASSIGN_OR_RETURN(
      std::string conf,
      RenderEtcdConf(OpsFile("tools/postgres/etcd.conf.yml"), l));
  TS_RETURN_IF_ERROR(WriteOwnedFile(dir + "/etcd.yml", conf, user));
  TS_ASSIGN_OR_RETURN(
      const int pid,
      internal::StartDaemon(
          {"etcd", "--config-file", dir + "/etcd.yml"},
          {.run_as = user, .log_path = dir + "/etcd.log", .work_dir = dir}));
  TS_RETURN_IF_ERROR(PidFile(dir + "/etcd.pid").Write(pid));
  return WaitFor(seconds(30), "etcd did not become healthy", [&] {
    if (!internal::ProcessAlive(pid)) {
      return absl::InternalError("etcd exited: " + Tail(dir + "/etcd.log"));
    }
    auto r = Http({.port = l.etcd_port, .path = "/health"});
    if (!r.ok()) return r.status();
    return r->status == 200 ? absl::OkStatus()
                            : absl::UnavailableError(r->body);
  });
}

absl::Status StartPatroni(const HaLayout& l, size_t i,
                          const std::string& user) {
  TS_ASSIGN_OR_RETURN(
      const int pid,
      internal::StartDaemon({kPython, kPatroni, l.node_dir(i) + "/patroni.yml"},
                            {.run_as = user,
                             .log_path = l.node_dir(i) + "/patroni.log",
                             .work_dir = l.node_dir(i),
                             .env = {{"PYTHONPATH", std::nullopt},
                                     {"PYTHONHOME", std::nullopt}}}));
  return PatroniPid(l, i).Write(pid);
}

absl::Status WriteNode(const HaLayout& l, size_t i, const HaSecrets& secrets,
                       const std::string& user) {
  TS_RETURN_IF_ERROR(MakeServiceDir(l.node_dir(i), user));
  TS_ASSIGN_OR_RETURN(
      std::string yml,
      RenderPatroniYml(OpsFile("tools/postgres/patroni.yml"), l, i, secrets,
                       FindPostgresBinDir(),
                       // Only the service user reaches the socket's
                       // directory (0700), and not every service user is
                       // called postgres (peer would need a map).
                       "trust"));
  return WriteOwnedFile(l.node_dir(i) + "/patroni.yml", yml, user);
}

// Starts HAProxy and waits until its checks route the primary port to
// `leader` alone and the replica port to every other node.
absl::Status StartHaproxyFor(const HaLayout& l, const std::string& leader,
                             const std::string& user) {
  const std::string dir = l.dir + "/haproxy";
  TS_RETURN_IF_ERROR(MakeServiceDir(dir, user));
  TS_ASSIGN_OR_RETURN(
      std::string cfg,
      RenderHaproxyCfg(OpsFile("tools/postgres/haproxy.cfg"), l));
  TS_RETURN_IF_ERROR(WriteOwnedFile(dir + "/haproxy.cfg", cfg, user));
  TS_RETURN_IF_ERROR(StartHaproxy(dir + "/haproxy.cfg", user));
  return WaitFor(seconds(30), "HAProxy's checks did not settle", [&] {
    auto servers = HaproxyServers(dir + "/haproxy.sock");
    if (!servers.ok()) return servers.status();
    const auto primary = UpServers(*servers, "primary");
    const auto replicas = UpServers(*servers, "replicas");
    const bool settled =
        primary == std::vector<std::string>{leader} &&
        replicas.size() == l.nodes.size() - 1 &&
        std::find(replicas.begin(), replicas.end(), leader) == replicas.end();
    return settled ? absl::OkStatus()
                   : absl::UnavailableError(absl::StrCat(
                         "primary: ", absl::StrJoin(primary, " "),
                         "; replicas: ", absl::StrJoin(replicas, " ")));
  });
}

// Waits until the cluster serves synchronous writes; returns the leader.
absl::StatusOr<size_t> WaitReady(const HaLayout& l, seconds limit) {
  std::string leader;
  TS_RETURN_IF_ERROR(WaitFor(
      limit, "the Patroni cluster did not elect a leader with a sync standby",
      [&]() -> absl::Status {
        auto members = PatroniMembers(ApiPorts(l));
        if (!members.ok()) return members.status();
        if (!ClusterReady(*members, l.nodes.size())) {
          std::vector<std::string> seen;
          for (const StackNode& n : *members) {
            seen.push_back(absl::StrCat(n.name, " ", n.role, " ", n.state));
          }
          return absl::UnavailableError(absl::StrJoin(seen, ", "));
        }
        leader = LeaderOf(*members);
        return absl::OkStatus();
      }));
  for (size_t i = 0; i < l.nodes.size(); ++i) {
    if (l.nodes[i].name == leader) return i;
  }
  return absl::InternalError("the leader is not one of the nodes");
}

std::string LayoutJson(const HaLayout& l) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const HaNode& n : l.nodes) {
    nodes.push_back(
        {{"name", n.name}, {"pg_port", n.pg_port}, {"api_port", n.api_port}});
  }
  return nlohmann::json{{"etcd_port", l.etcd_port},
                        {"etcd_peer_port", l.etcd_peer_port},
                        {"primary_port", l.primary_port},
                        {"replica_port", l.replica_port},
                        {"pgbouncer_port", l.pgbouncer_port},
                        {"max_replica_lag", l.max_replica_lag},
                        {"archive", l.archive},
                        {"nodes", nodes}}
      .dump(2);
}

absl::StatusOr<HaLayout> LoadLayout(const std::string& dir) {
  std::ifstream in(dir + "/ha.json");
  if (!in) return absl::NotFoundError(absl::StrCat("no HA stack in ", dir));
  const auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) {
    return absl::DataLossError(absl::StrCat(dir, "/ha.json is not JSON"));
  }
  HaLayout l;
  l.dir = dir;
  l.etcd_port = j.value("etcd_port", 0);
  l.etcd_peer_port = j.value("etcd_peer_port", 0);
  l.primary_port = j.value("primary_port", 0);
  l.replica_port = j.value("replica_port", 0);
  l.pgbouncer_port = j.value("pgbouncer_port", 0);
  l.max_replica_lag = j.value("max_replica_lag", "");
  l.archive = j.value("archive", false);
  for (const auto& n : j.value("nodes", nlohmann::json::array())) {
    l.nodes.push_back(
        {n.value("name", ""), n.value("pg_port", 0), n.value("api_port", 0)});
  }
  return l;
}

StackStatus Describe(const HaLayout& l) {
  StackStatus s;
  s.ha = true;
  s.dir = l.dir;
  s.pgpass = l.dir + "/pgpass";
  s.postgres_port = l.primary_port;
  s.replica_port = l.replica_port;
  s.pgbouncer_port = l.pgbouncer_port;
  s.etcd_port = l.etcd_port;
  s.max_replica_lag = l.max_replica_lag;
  s.primary_dsn =
      StackDsn(l.primary_port, "trades", "tradestore_app", s.pgpass);
  s.replica_dsn =
      StackDsn(l.replica_port, "trades", "tradestore_app", s.pgpass);
  s.pgbouncer_dsn =
      StackDsn(l.pgbouncer_port, "trades", "tradestore_app", s.pgpass);
  s.admin_dsn = StackDsn(l.primary_port, "postgres", "postgres", s.pgpass);
  s.stats_dsn =
      StackDsn(l.pgbouncer_port, "pgbouncer", "pgbouncer_stats", s.pgpass);
  s.archive = l.archive;
  if (l.archive) {
    s.pgbackrest_config = l.backrest_config();
    s.stanza = kHaStanza;
  }
  for (const HaNode& n : l.nodes) {
    s.nodes.push_back(
        {.name = n.name, .pg_port = n.pg_port, .api_port = n.api_port});
  }
  return s;
}

// Fills in the pids and what Patroni says of each node.
void Observe(const HaLayout& l, const std::string& user, StackStatus* s) {
  s->etcd_pid = PidFile(l.dir + "/etcd/etcd.pid").Pid();
  s->haproxy_pid = PidFile(l.dir + "/haproxy/haproxy.pid").Pid();
  s->pgbouncer_pid = PgBouncerProcess(l.dir + "/bouncer", user).Pid();
  auto members = PatroniMembers(ApiPorts(l));
  for (size_t i = 0; i < s->nodes.size(); ++i) {
    StackNode& n = s->nodes[i];
    n.patroni_pid = PatroniPid(l, i).Pid();
    n.postmaster_pid = PidFile(l.data_dir(i) + "/postmaster.pid").Pid();
    if (!members.ok()) continue;
    for (const StackNode& m : *members) {
      if (m.name != n.name) continue;
      n.role = m.role;
      n.state = m.state;
      n.lag_bytes = m.lag_bytes;
      n.timeline = m.timeline;
    }
  }
}

absl::StatusOr<size_t> NodeIndex(const HaLayout& l, const std::string& name) {
  for (size_t i = 0; i < l.nodes.size(); ++i) {
    if (l.nodes[i].name == name) return i;
  }
  return absl::NotFoundError(absl::StrCat("no node ", name, " in ", l.dir));
}

std::string RestApiPassword(const std::string& dir) {
  std::ifstream in(dir + "/restapi.pass");
  std::string password;
  std::getline(in, password);
  return password;
}

// etcd and the Patroni nodes, until one leads with a synchronous standby;
// the leader's index.
absl::StatusOr<size_t> StartCluster(const HaLayout& l, const HaSecrets& secrets,
                                    const std::string& user,
                                    std::ostream& log) {
  if (l.archive) TS_RETURN_IF_ERROR(PrepareHaArchive(l, user));
  TS_RETURN_IF_ERROR(StartEtcd(l, user));
  log << "stack: etcd on 127.0.0.1:" << l.etcd_port << "\n";
  TS_RETURN_IF_ERROR(WriteOwnedFile(
      l.member_slots_script(),
      std::string(OpsFile("tools/postgres/patroni_member_slots.py")), user));
  for (size_t i = 0; i < l.nodes.size(); ++i) {
    TS_RETURN_IF_ERROR(WriteNode(l, i, secrets, user));
    TS_RETURN_IF_ERROR(StartPatroni(l, i, user));
  }
  auto leader = WaitReady(l, seconds(180));
  if (!leader.ok()) {
    return absl::Status(leader.status().code(),
                        absl::StrCat(leader.status().message(), "\n",
                                     Tail(l.node_dir(0) + "/patroni.log")));
  }
  log << "stack: " << l.nodes.size() << " Patroni nodes, leader "
      << l.nodes[*leader].name << ", synchronous\n";
  return *leader;
}

}  // namespace

absl::StatusOr<StackStatus> HaStackUp(const StackOptions& o,
                                      std::ostream& log) {
  if (o.nodes < 2 || o.nodes > 9) {
    return absl::InvalidArgumentError("an HA stack has 2 to 9 nodes");
  }
  TS_RETURN_IF_ERROR(RequirePrograms());
  TS_ASSIGN_OR_RETURN(const std::string user, ServiceUser());
  TS_ASSIGN_OR_RETURN(const HaLayout l, PickLayout(o));
  // Written first: a stack that fails half way can still be stopped.
  TS_RETURN_IF_ERROR(internal::WriteFileSafely(o.dir + "/ha.json",
                                               LayoutJson(l), {.mode = 0600}));
  const HaSecrets secrets{NewPassword(), NewPassword(), NewPassword(),
                          NewPassword()};
  TS_RETURN_IF_ERROR(internal::WriteFileSafely(
      o.dir + "/restapi.pass", secrets.restapi + "\n", {.mode = 0600}));

  TS_ASSIGN_OR_RETURN(const size_t leader, StartCluster(l, secrets, user, log));

  const StackPasswords pw{secrets.superuser, NewPassword(), NewPassword(),
                          NewPassword()};
  auto pg = PgCluster::Attach(l.node_dir(leader), l.nodes[leader].pg_port);
  TS_RETURN_IF_ERROR(CreateRoles(*pg, pw));
  StackStatus s = Describe(l);
  // HAProxy's ports and each node's own, for operators and drills.
  std::vector<int> pg_ports = {l.primary_port, l.replica_port};
  for (const HaNode& n : l.nodes) pg_ports.push_back(n.pg_port);
  TS_RETURN_IF_ERROR(internal::WriteFileSafely(
      s.pgpass, PgPassFile(pw, pg_ports, 0), {.mode = 0600}));
  TS_RETURN_IF_ERROR(StartHaproxyFor(l, l.nodes[leader].name, user));
  log << "stack: HAProxy primary 127.0.0.1:" << l.primary_port
      << ", replicas 127.0.0.1:" << l.replica_port << "\n";
  PgOptions app;
  app.dsn = s.primary_dsn;
  TS_RETURN_IF_ERROR(MigrateSchema(app).status());
  if (l.archive) {
    TS_RETURN_IF_ERROR(StartHaArchive(l, user));
    log << "stack: WAL archived to " << l.backrest_dir()
        << "/repo by the leader (stanza " << kHaStanza << ")\n";
  }
  int port = l.pgbouncer_port;
  TS_RETURN_IF_ERROR(StartStackBouncer(o.dir, user, pw, l.primary_port, &port));
  log << "stack: PgBouncer on 127.0.0.1:" << port << "\n";
  TS_RETURN_IF_ERROR(internal::WriteFileSafely(
      s.pgpass, PgPassFile(pw, pg_ports, port), {.mode = 0600}));
  TS_RETURN_IF_ERROR(internal::WriteFileSafely(o.dir + "/stack.json",
                                               s.ToJson(), {.mode = 0600}));
  Observe(l, user, &s);
  return s;
}

absl::StatusOr<StackStatus> GetHaStackStatus(const std::string& dir) {
  TS_ASSIGN_OR_RETURN(const HaLayout l, LoadLayout(dir));
  TS_ASSIGN_OR_RETURN(const std::string user, ServiceUser());
  StackStatus s = Describe(l);
  Observe(l, user, &s);
  return s;
}

absl::Status HaStackDown(const std::string& dir, std::ostream& log) {
  TS_ASSIGN_OR_RETURN(const HaLayout l, LoadLayout(dir));
  TS_ASSIGN_OR_RETURN(const std::string user, ServiceUser());
  absl::Status status = PgBouncerProcess(dir + "/bouncer", user).Stop();
  status.Update(PidFile(dir + "/haproxy/haproxy.pid").Stop(seconds(5)));
  // Every Patroni at once, so none takes over from another that stops.
  for (size_t i = 0; i < l.nodes.size(); ++i) PatroniPid(l, i).Signal(SIGTERM);
  for (size_t i = 0; i < l.nodes.size(); ++i) {
    status.Update(PatroniPid(l, i).Stop(seconds(30)));
    // A Postgres whose Patroni was killed runs on alone.
    if (auto pg = PgCluster::Attach(l.node_dir(i), l.nodes[i].pg_port);
        pg->Running()) {
      pg->Stop(/*immediate=*/true).IgnoreError();
    }
  }
  status.Update(PidFile(dir + "/etcd/etcd.pid").Stop(seconds(10)));
  log << "stack: stopped " << dir << "\n";
  return status;
}

absl::Status InjectNodeFault(const std::string& dir, const std::string& name,
                             NodeFault fault) {
  TS_ASSIGN_OR_RETURN(const HaLayout l, LoadLayout(dir));
  TS_ASSIGN_OR_RETURN(const size_t i, NodeIndex(l, name));
  const PidFile postmaster(l.data_dir(i) + "/postmaster.pid");
  if (fault == NodeFault::kNodeLoss) {
    const int patroni = PatroniPid(l, i).Pid();
    if (patroni == 0) {
      return absl::FailedPreconditionError(name + "'s Patroni is not running");
    }
    kill(patroni, SIGKILL);
  }
  const int pid = postmaster.Pid();
  if (pid == 0) {
    return absl::FailedPreconditionError(name + "'s Postgres is not running");
  }
  if (fault == NodeFault::kNodeLoss) {
    // A lost machine takes its backends with it; a killed postmaster's
    // backends may each answer a query before they notice it gone.
    internal::KillProcessTree(pid);
  } else {
    kill(pid, SIGKILL);
  }
  return absl::OkStatus();
}

absl::Status RestartNode(const std::string& dir, const std::string& name) {
  TS_ASSIGN_OR_RETURN(const HaLayout l, LoadLayout(dir));
  TS_ASSIGN_OR_RETURN(const size_t i, NodeIndex(l, name));
  TS_ASSIGN_OR_RETURN(const std::string user, ServiceUser());
  if (PatroniPid(l, i).Pid() != 0) return absl::OkStatus();
  // The killed postmaster's children end by themselves once they see it
  // gone; Patroni then starts Postgres as a replica of the new leader.
  return StartPatroni(l, i, user);
}

absl::Status Switchover(const std::string& dir, const std::string& candidate) {
  TS_ASSIGN_OR_RETURN(const HaLayout l, LoadLayout(dir));
  TS_ASSIGN_OR_RETURN(auto members, PatroniMembers(ApiPorts(l)));
  const std::string leader = LeaderOf(members);
  if (leader.empty())
    return absl::UnavailableError("the cluster has no leader");
  TS_ASSIGN_OR_RETURN(const size_t i, NodeIndex(l, leader));
  return PatroniSwitchover(l.nodes[i].api_port, leader, candidate,
                           RestApiPassword(dir));
}

absl::Status ReinitNode(const std::string& dir, const std::string& name) {
  TS_ASSIGN_OR_RETURN(const HaLayout l, LoadLayout(dir));
  TS_ASSIGN_OR_RETURN(const size_t i, NodeIndex(l, name));
  return PatroniReinitialize(l.nodes[i].api_port, RestApiPassword(dir));
}

absl::Status SetMaintenance(const std::string& dir, bool on) {
  TS_ASSIGN_OR_RETURN(const HaLayout l, LoadLayout(dir));
  return PatroniSetPause(ApiPorts(l), on, RestApiPassword(dir));
}

}  // namespace tradestore::ops
