#include "tradestore/ops/stack_parts.h"

#include <filesystem>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/ops/ops_files.h"
#include "tradestore/ops/pgbouncer.h"

namespace tradestore::ops {

namespace fs = std::filesystem;

std::string NewPassword() {
  static constexpr char kChars[] =
      "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::random_device seed;
  std::uniform_int_distribution<size_t> pick(0, sizeof kChars - 2);
  std::string out;
  for (int i = 0; i < 24; ++i) out += kChars[pick(seed)];
  return out;
}

std::string StackDsn(int port, const std::string& db, const std::string& user,
                     const std::string& pgpass) {
  return absl::StrCat("host=127.0.0.1 port=", port, " dbname=", db,
                      " user=", user, " passfile=", pgpass);
}

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

absl::Status StartStackBouncer(const std::string& dir, const std::string& user,
                               const StackPasswords& pw, int server_port,
                               int* port) {
  const std::string bouncer_dir = dir + "/bouncer";
  TS_RETURN_IF_ERROR(MakeServiceDir(bouncer_dir, user));
  TS_RETURN_IF_ERROR(WriteOwnedFile(bouncer_dir + "/userlist.txt",
                                    PgBouncerUserlist(pw), user));
  PgBouncerProcess bouncer(bouncer_dir, user);
  auto start = [&] {
    TS_RETURN_IF_ERROR(WriteOwnedFile(
        bouncer_dir + "/pgbouncer.ini",
        RenderPgBouncerIni(OpsFile("tools/postgres/pgbouncer.ini"),
                           {.listen_port = *port,
                            .dir = bouncer_dir,
                            .auth_file = bouncer_dir + "/userlist.txt",
                            .server_port = server_port}),
        user));
    return bouncer.Start(bouncer_dir + "/pgbouncer.ini", *port);
  };
  return *port > 0 ? start() : OnFreePort(port, start);
}

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

}  // namespace tradestore::ops
