#include "tradestore/ops/stack.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "tradestore/internal/process.h"
#include "tradestore/internal/safe_file.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/ops/ha_stack.h"
#include "tradestore/ops/ops_files.h"
#include "tradestore/ops/pg_cluster.h"
#include "tradestore/ops/pgbouncer.h"
#include "tradestore/ops/stack_config.h"
#include "tradestore/ops/stack_parts.h"
#include "tradestore/postgres/migrator.h"

namespace tradestore::ops {
namespace {

namespace fs = std::filesystem;

constexpr char kStanza[] = "trades";

// Fills the DSNs and paths of a stack in `dir` on these ports.
StackStatus Describe(const std::string& dir, int pg_port, int bouncer_port,
                     bool archive) {
  StackStatus s;
  s.dir = dir;
  s.data_dir = dir + "/pg/data";
  s.pgpass = dir + "/pgpass";
  s.postgres_port = pg_port;
  s.pgbouncer_port = bouncer_port;
  s.primary_dsn = StackDsn(pg_port, "trades", "tradestore_app", s.pgpass);
  s.pgbouncer_dsn =
      StackDsn(bouncer_port, "trades", "tradestore_app", s.pgpass);
  s.admin_dsn = StackDsn(pg_port, "postgres", "postgres", s.pgpass);
  s.stats_dsn =
      StackDsn(bouncer_port, "pgbouncer", "pgbouncer_stats", s.pgpass);
  s.archive = archive;
  if (archive) {
    s.pgbackrest_config = dir + "/backrest/pgbackrest.conf";
    s.stanza = kStanza;
  }
  return s;
}

absl::Status Step(const std::vector<std::string>& argv,
                  const std::string& user) {
  return internal::RunChecked(argv, user);
}

// The archive: pgBackRest's configuration, and the WAL settings naming it.
absl::Status PrepareArchive(const StackStatus& s, const std::string& user,
                            std::vector<std::string>* settings) {
  const std::string backrest = s.dir + "/backrest";
  for (const char* sub : {"", "/repo", "/log", "/lock"}) {
    TS_RETURN_IF_ERROR(MakeServiceDir(backrest + sub, user));
  }
  TS_RETURN_IF_ERROR(WriteOwnedFile(
      s.pgbackrest_config,
      RenderPgBackRestConf(OpsFile("tools/postgres/pgbackrest.conf"),
                           {.repo_path = backrest + "/repo",
                            .log_path = backrest + "/log",
                            .lock_path = backrest + "/lock",
                            .pg_path = s.data_dir,
                            .pg_port = s.postgres_port,
                            .pg_socket_path = s.dir + "/pg"}),
      user, 0640));
  *settings = {"archive_mode = on",
               absl::StrCat("archive_command = 'pgbackrest --config=",
                            s.pgbackrest_config, " --stanza=", kStanza,
                            " archive-push %p'"),
               // A quiet primary still ships a segment a minute: that bounds
               // the RPO of the archive.
               "archive_timeout = 60"};
  return absl::OkStatus();
}

absl::StatusOr<StackStatus> Up(const StackOptions& o, std::ostream& log) {
  TS_ASSIGN_OR_RETURN(const std::string user, ServiceUser());
  const int pg_port = o.port_base;
  const int bouncer_port = o.port_base > 0 ? o.port_base + 1 : 0;
  StackStatus s = Describe(o.dir, pg_port, bouncer_port, o.archive);
  std::vector<std::string> settings;
  if (o.archive) {
    // The port is in the configuration: pick it first.
    if (s.postgres_port == 0) {
      TS_ASSIGN_OR_RETURN(s.postgres_port, internal::FreeLoopbackPort());
      s = Describe(o.dir, s.postgres_port, bouncer_port, o.archive);
    }
    TS_RETURN_IF_ERROR(PrepareArchive(s, user, &settings));
  }
  TS_ASSIGN_OR_RETURN(auto pg,
                      PgCluster::Create({.dir = o.dir + "/pg",
                                         .fsync = true,
                                         .settings = settings,
                                         .hba = "local all all trust\n"
                                                "host all all 127.0.0.1/32 "
                                                "scram-sha-256\n",
                                         .checksums = true}));
  TS_RETURN_IF_ERROR(pg->Start(s.postgres_port));
  s = Describe(o.dir, pg->port(), bouncer_port, o.archive);
  log << "stack: Postgres on 127.0.0.1:" << pg->port() << "\n";
  const StackPasswords pw{NewPassword(), NewPassword(), NewPassword(),
                          NewPassword()};
  TS_RETURN_IF_ERROR(CreateRoles(*pg, pw));
  TS_RETURN_IF_ERROR(internal::WriteFileSafely(
      s.pgpass, PgPassFile(pw, {pg->port()}, 0), {.mode = 0600}));
  // The trades schema, applied as its owner: the stack is ready to use.
  PgOptions app;
  app.dsn = s.primary_dsn;
  TS_RETURN_IF_ERROR(MigrateSchema(app).status());
  if (o.archive) {
    TS_RETURN_IF_ERROR(Step({"pgbackrest", "--config=" + s.pgbackrest_config,
                             "--stanza=trades", "stanza-create"},
                            user));
    TS_RETURN_IF_ERROR(Step({"pgbackrest", "--config=" + s.pgbackrest_config,
                             "--stanza=trades", "check"},
                            user));
    log << "stack: WAL archived to " << s.dir << "/backrest/repo (stanza "
        << kStanza << ")\n";
  }
  int port = bouncer_port;
  TS_RETURN_IF_ERROR(StartStackBouncer(o.dir, user, pw, pg->port(), &port));
  s = Describe(o.dir, pg->port(), port, o.archive);
  log << "stack: PgBouncer on 127.0.0.1:" << port << "\n";
  TS_RETURN_IF_ERROR(internal::WriteFileSafely(
      s.pgpass, PgPassFile(pw, {pg->port()}, port), {.mode = 0600}));
  TS_RETURN_IF_ERROR(internal::WriteFileSafely(o.dir + "/stack.json",
                                               s.ToJson(), {.mode = 0600}));
  s.postgres_pid = pg->PostmasterPid();
  s.pgbouncer_pid = PgBouncerProcess(o.dir + "/bouncer", user).Pid();
  return s;
}

}  // namespace

bool StackStatus::running() const {
  if (!ha) return postgres_pid != 0 && pgbouncer_pid != 0;
  bool leader = false, sync = false;
  for (const StackNode& n : nodes) {
    if (n.patroni_pid == 0 || n.postmaster_pid == 0) return false;
    leader |= n.role == "leader";
    sync |= n.role == "sync_standby";
  }
  return etcd_pid != 0 && haproxy_pid != 0 && pgbouncer_pid != 0 && leader &&
         sync;
}

namespace {

std::string HaJson(const StackStatus& s) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const StackNode& n : s.nodes) {
    nodes.push_back(
        {{"name", n.name},
         {"role", n.role},
         {"state", n.state},
         {"pg_port", n.pg_port},
         {"api_port", n.api_port},
         {"postmaster_pid", n.postmaster_pid},
         {"patroni_pid", n.patroni_pid},
         {"lag_bytes", n.lag_bytes >= 0 ? nlohmann::json(n.lag_bytes)
                                        : nlohmann::json(nullptr)},
         {"timeline", n.timeline}});
  }
  return nlohmann::json{
             {"dir", s.dir},
             {"ha", true},
             {"primary_dsn", s.primary_dsn},
             {"replica_dsn", s.replica_dsn},
             {"pgbouncer_dsn", s.pgbouncer_dsn},
             {"admin_dsn", s.admin_dsn},
             {"stats_dsn", s.stats_dsn},
             {"pgpass", s.pgpass},
             {"running", s.running()},
             {"etcd", {{"port", s.etcd_port}, {"pid", s.etcd_pid}}},
             {"haproxy",
              {{"primary_port", s.postgres_port},
               {"replica_port", s.replica_port},
               {"max_replica_lag", s.max_replica_lag},
               {"pid", s.haproxy_pid}}},
             {"pgbouncer",
              {{"port", s.pgbouncer_port}, {"pid", s.pgbouncer_pid}}},
             {"nodes", nodes}}
             .dump(2) +
         "\n";
}

}  // namespace

std::string StackStatus::ToJson() const {
  if (ha) return HaJson(*this);
  return nlohmann::json{{"dir", dir},
                        {"data_dir", data_dir},
                        {"primary_dsn", primary_dsn},
                        {"pgbouncer_dsn", pgbouncer_dsn},
                        {"admin_dsn", admin_dsn},
                        {"stats_dsn", stats_dsn},
                        {"pgpass", pgpass},
                        {"running", running()},
                        {"postgres",
                         {{"port", postgres_port},
                          {"pid", postgres_pid},
                          {"running", postgres_pid != 0}}},
                        {"pgbouncer",
                         {{"port", pgbouncer_port},
                          {"pid", pgbouncer_pid},
                          {"running", pgbouncer_pid != 0}}},
                        {"archive", archive},
                        {"pgbackrest_config", pgbackrest_config},
                        {"stanza", stanza}}
             .dump(2) +
         "\n";
}

absl::StatusOr<StackStatus> StackUp(const StackOptions& options,
                                    std::ostream& log) {
  std::error_code ec;
  if (fs::exists(options.dir, ec) && !fs::is_empty(options.dir, ec)) {
    return absl::AlreadyExistsError(
        absl::StrCat(options.dir,
                     " is not empty: a stack may live there already "
                     "(tradestore stack status --dir ",
                     options.dir, ")"));
  }
  TS_ASSIGN_OR_RETURN(const std::string user, ServiceUser());
  TS_RETURN_IF_ERROR(CheckReachable(options.dir, user));
  fs::create_directories(options.dir, ec);
  // The service user reaches its files through this directory; nobody
  // else needs to.
  TS_RETURN_IF_ERROR(MakeServiceDir(options.dir, ""));
  if (!user.empty()) {
    fs::permissions(options.dir, fs::perms::owner_all | fs::perms::others_exec,
                    ec);
  }
  auto up = options.ha ? HaStackUp(options, log) : Up(options, log);
  if (!up.ok()) {
    // Leave nothing running after a failed start.
    StackDown(options.dir, /*remove=*/false, log).IgnoreError();
  }
  return up;
}

absl::StatusOr<StackStatus> GetStackStatus(const std::string& dir) {
  if (fs::exists(dir + "/ha.json")) return GetHaStackStatus(dir);
  std::ifstream in(dir + "/stack.json");
  if (!in) return absl::NotFoundError(absl::StrCat("no stack in ", dir));
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) {
    return absl::DataLossError(absl::StrCat(dir, "/stack.json is not JSON"));
  }
  StackStatus s =
      Describe(dir, j["postgres"]["port"].get<int>(),
               j["pgbouncer"]["port"].get<int>(), j["archive"].get<bool>());
  if (auto pg = PgCluster::Open(dir + "/pg"); pg.ok()) {
    s.postgres_pid = (*pg)->PostmasterPid();
  }
  TS_ASSIGN_OR_RETURN(const std::string user, ServiceUser());
  s.pgbouncer_pid = PgBouncerProcess(dir + "/bouncer", user).Pid();
  return s;
}

absl::Status StackDown(const std::string& dir, bool remove, std::ostream& log) {
  TS_ASSIGN_OR_RETURN(const std::string user, ServiceUser());
  absl::Status status;
  if (fs::exists(dir + "/ha.json")) {
    status = HaStackDown(dir, log);
  } else {
    status = PgBouncerProcess(dir + "/bouncer", user).Stop();
    if (auto pg = PgCluster::Open(dir + "/pg"); pg.ok() && (*pg)->Running()) {
      status.Update((*pg)->Stop(/*immediate=*/false));
    }
    log << "stack: stopped " << dir << "\n";
  }
  if (remove && status.ok()) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (ec) {
      return absl::InternalError(
          absl::StrCat("cannot remove ", dir, ": ", ec.message()));
    }
  }
  return status;
}

}  // namespace tradestore::ops
