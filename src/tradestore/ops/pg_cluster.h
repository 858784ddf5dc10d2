// PgCluster: one PostgreSQL data directory run by this machine's packaged
// binaries, on a loopback port, with its socket in its own directory.
// Postgres refuses to run as root: when this process is root, every command
// runs as the `postgres` system user (runuser), which owns the directory.
// It never touches a system cluster or port 5432 unless told a port.
//
// The throwaway clusters of the tests (local_postgres.h), the local stack
// (stack.h) and the restore drills are all PgClusters.
//
// Thread-safety: not thread-safe; one owner controls it.
#ifndef TRADESTORE_OPS_PG_CLUSTER_H_
#define TRADESTORE_OPS_PG_CLUSTER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tradestore::ops {

struct PgClusterOptions {
  // The cluster's directory (created, 0700): data/ inside it, and the
  // socket. Its parent must exist.
  std::string dir;
  // Where initdb and pg_ctl live; empty = the newest under
  // /usr/lib/postgresql.
  std::string bin_dir;
  // Durability is pointless for a throwaway cluster; off makes tests fast.
  bool fsync = true;
  // Lines added to postgresql.conf after tradestore's defaults.
  std::vector<std::string> settings;
  // pg_hba.conf; empty = trust on the socket and on 127.0.0.1.
  std::string hba;
  // TLS with a fresh self-signed certificate for CN=localhost (data/
  // server.crt, usable as sslrootcert).
  bool ssl = false;
  // initdb's --data-checksums (pg_rewind and pgBackRest like them).
  bool checksums = false;
};

class PgCluster {
 public:
  // initdb and the configuration; not started. Returns kFailedPrecondition
  // when PostgreSQL is not installed, kInternal with initdb's output.
  static absl::StatusOr<std::unique_ptr<PgCluster>> Create(
      const PgClusterOptions& options);
  // A cluster Create made before, in `dir` (for stack status and down).
  static absl::StatusOr<std::unique_ptr<PgCluster>> Open(
      const std::string& dir, const std::string& bin_dir = "");
  // A cluster another program runs (Patroni), its data in dir/data and
  // its socket in dir, listening on `port`: for Psql and PostmasterPid,
  // never Start or Stop.
  static std::unique_ptr<PgCluster> Attach(const std::string& dir, int port);

  // Starts the server on `port`, or on a free one (0), trying another when
  // a free one was taken meanwhile. Waits until it accepts connections.
  absl::Status Start(int port = 0);
  // Sets `name` in postgresql.auto.conf (replacing an earlier value there,
  // keeping every other line, such as the restore_command a pgBackRest
  // restore wrote). Takes effect at the next start.
  absl::Status SetSetting(const std::string& name, const std::string& value);
  // `immediate` is a crash: no shutdown checkpoint.
  absl::Status Stop(bool immediate);
  bool Running() const;
  // The postmaster's pid, 0 when it is not running.
  int PostmasterPid() const;

  // A libpq DSN as the superuser over TCP.
  std::string Dsn(const std::string& dbname = "postgres") const;
  // Runs SQL through psql as the superuser on the socket; returns its
  // unaligned output.
  absl::StatusOr<std::string> Psql(const std::string& dbname,
                                   const std::string& sql) const;

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  std::string data_dir() const { return dir_ + "/data"; }
  const std::string& bin_dir() const { return bin_dir_; }
  // "postgres" when this process is root, else "" (this user).
  const std::string& user() const { return user_; }
  // A program of this cluster's version: bin_dir()/name.
  std::string Tool(const std::string& name) const {
    return bin_dir_ + "/" + name;
  }

 private:
  PgCluster(std::string dir, std::string bin_dir, std::string user)
      : dir_(std::move(dir)),
        bin_dir_(std::move(bin_dir)),
        user_(std::move(user)) {}
  absl::Status StartOnce();

  std::string dir_, bin_dir_, user_;
  int port_ = 0;
};

// The newest /usr/lib/postgresql/*/bin holding initdb, "" when none.
std::string FindPostgresBinDir();

// "postgres" when this process is root (Postgres refuses root), else "".
// kFailedPrecondition when root and there is no postgres user.
absl::StatusOr<std::string> ServiceUser();

// Creates `dir` (0700) owned by the service user.
absl::Status MakeServiceDir(const std::string& dir, const std::string& user);

// Sets *port to a free loopback port and runs `start`, again with another
// port while the start fails because the address is in use.
absl::Status OnFreePort(int* port, const std::function<absl::Status()>& start);

// Writes `text` to `path` (replacing it), owned by `user` when given.
absl::Status WriteOwnedFile(const std::string& path, const std::string& text,
                            const std::string& user, int mode = 0600);

}  // namespace tradestore::ops

#endif  // TRADESTORE_OPS_PG_CLUSTER_H_
