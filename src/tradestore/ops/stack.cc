#include "tradestore/ops/stack.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "tradestore/internal/process.h"
#include "tradestore/internal/safe_file.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/ops/ops_files.h"
#include "tradestore/ops/pg_cluster.h"
#include "tradestore/ops/pgbouncer.h"
#include "tradestore/ops/stack_config.h"
#include "tradestore/postgres/migrator.h"

namespace tradestore::ops {
namespace {

namespace fs = std::filesystem;

constexpr char kStanza[] = "trades";

std::string Password() {
  static constexpr char kChars[] =
      "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::random_device seed;
  std::uniform_int_distribution<size_t> pick(0, sizeof kChars - 2);
  std::string out;
  for (int i = 0; i < 24; ++i) out += kChars[pick(seed)];
  return out;
}

std::string Dsn(int port, const std::string& db, const std::string& user,
                const std::string& pgpass) {
  return absl::StrCat("host=127.0.0.1 port=", port, " dbname=", db,
                      " user=", user, " passfile=", pgpass);
}

// Fills the DSNs and paths of a stack in `dir` on these ports.
StackStatus Describe(const std::string& dir, int pg_port, int bouncer_port,
                     bool archive) {
  StackStatus s;
  s.dir = dir;
  s.data_dir = dir + "/pg/data";
  s.pgpass = dir + "/pgpass";
  s.postgres_port = pg_port;
  s.pgbouncer_port = bouncer_port;
  s.primary_dsn = Dsn(pg_port, "trades", "tradestore_app", s.pgpass);
  s.pgbouncer_dsn = Dsn(bouncer_port, "trades", "tradestore_app", s.pgpass);
  s.admin_dsn = Dsn(pg_port, "postgres", "postgres", s.pgpass);
  s.stats_dsn = Dsn(bouncer_port, "pgbouncer", "pgbouncer_stats", s.pgpass);
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

// The roles, the trades database and PgBouncer's lookup function.
absl::Status CreateRoles(PgCluster& pg, const StackPasswords& pw) {
  // One statement a call: psql -c runs several in one transaction, and
  // CREATE DATABASE may not run in one.
  for (const std::string& sql :
       {absl::StrCat("ALTER ROLE postgres PASSWORD '", pw.postgres, "'"),
        absl::StrCat("CREATE ROLE tradestore_app LOGIN PASSWORD '", pw.app,
                     "'"),
        std::string("CREATE DATABASE trades OWNER tradestore_app")}) {
    TS_RETURN_IF_ERROR(pg.Psql("postgres", sql).status());
  }
  for (const char* db : {"postgres", "trades"}) {
    TS_RETURN_IF_ERROR(
        pg.Psql(db, std::string(OpsFile("tools/postgres/pgbouncer_auth.sql")))
            .status());
  }
  return pg
      .Psql("postgres", absl::StrCat("ALTER ROLE pgbouncer_auth PASSWORD '",
                                     pw.pgbouncer_auth,
                                     "'; ALTER ROLE pgbouncer_stats PASSWORD '",
                                     pw.pgbouncer_stats, "';"))
      .status();
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

// When the stack runs as another user (root starts it as postgres), that
// user must be able to pass through every directory above DIR.
absl::Status CheckReachable(const std::string& dir, const std::string& user) {
  if (user.empty()) return absl::OkStatus();
  for (fs::path p = fs::absolute(dir).parent_path(); !p.empty();
       p = p.parent_path()) {
    std::error_code ec;
    const fs::perms perms = fs::status(p, ec).permissions();
    if (!ec && (perms & fs::perms::others_exec) == fs::perms::none) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the ", user, " user cannot reach ", dir, " through ", p.string(),
          " (mode ", absl::StrFormat("%o", static_cast<int>(perms)),
          "): choose another place or chmod o+x ", p.string()));
    }
    if (p == p.root_path()) break;
  }
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
  const StackPasswords pw{Password(), Password(), Password(), Password()};
  TS_RETURN_IF_ERROR(CreateRoles(*pg, pw));
  TS_RETURN_IF_ERROR(internal::WriteFileSafely(
      s.pgpass, PgPassFile(pw, pg->port(), pg->port()), {.mode = 0600}));
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
  const std::string bouncer_dir = o.dir + "/bouncer";
  TS_RETURN_IF_ERROR(MakeServiceDir(bouncer_dir, user));
  TS_RETURN_IF_ERROR(WriteOwnedFile(bouncer_dir + "/userlist.txt",
                                    PgBouncerUserlist(pw), user));
  PgBouncerProcess bouncer(bouncer_dir, user);
  int port = bouncer_port;
  auto start_bouncer = [&] {
    TS_RETURN_IF_ERROR(WriteOwnedFile(
        bouncer_dir + "/pgbouncer.ini",
        RenderPgBouncerIni(OpsFile("tools/postgres/pgbouncer.ini"),
                           {.listen_port = port,
                            .dir = bouncer_dir,
                            .auth_file = bouncer_dir + "/userlist.txt",
                            .server_port = pg->port()}),
        user));
    return bouncer.Start(bouncer_dir + "/pgbouncer.ini", port);
  };
  if (port > 0) {
    TS_RETURN_IF_ERROR(start_bouncer());
  } else {
    TS_RETURN_IF_ERROR(OnFreePort(&port, start_bouncer));
  }
  s = Describe(o.dir, pg->port(), port, o.archive);
  log << "stack: PgBouncer on 127.0.0.1:" << port << "\n";
  TS_RETURN_IF_ERROR(internal::WriteFileSafely(
      s.pgpass, PgPassFile(pw, pg->port(), port), {.mode = 0600}));
  TS_RETURN_IF_ERROR(internal::WriteFileSafely(o.dir + "/stack.json",
                                               s.ToJson(), {.mode = 0600}));
  s.postgres_pid = pg->PostmasterPid();
  s.pgbouncer_pid = bouncer.Pid();
  return s;
}

}  // namespace

std::string StackStatus::ToJson() const {
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
  auto up = Up(options, log);
  if (!up.ok()) {
    // Leave nothing running after a failed start.
    StackDown(options.dir, /*remove=*/false, log).IgnoreError();
  }
  return up;
}

absl::StatusOr<StackStatus> GetStackStatus(const std::string& dir) {
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
  absl::Status status = PgBouncerProcess(dir + "/bouncer", user).Stop();
  if (auto pg = PgCluster::Open(dir + "/pg"); pg.ok() && (*pg)->Running()) {
    status.Update((*pg)->Stop(/*immediate=*/false));
  }
  log << "stack: stopped " << dir << "\n";
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
