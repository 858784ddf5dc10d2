// LocalPostgres: a throwaway PostgreSQL 15 cluster (and optionally a
// PgBouncer in transaction pool mode in front of it) in a temporary
// directory, on free loopback ports, with its socket in that directory. Used
// by the tests and by `tradestore demo` when no server is given.
//
// Postgres refuses to run as root: when this process is root, the cluster
// runs as the `postgres` system user (runuser). It never touches a system
// cluster or port 5432. The destructor stops everything and removes the
// directory; a detached watchdog does the same if this process dies first.
//
// Thread-safety: not thread-safe; one owner controls it.
#ifndef TRADESTORE_OPS_LOCAL_POSTGRES_H_
#define TRADESTORE_OPS_LOCAL_POSTGRES_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tradestore/ops/pg_cluster.h"
#include "tradestore/ops/pgbouncer.h"

namespace tradestore {

struct LocalPostgresOptions {
  // Durability is pointless for a throwaway cluster; off makes tests fast.
  bool fsync = false;
  bool start_pgbouncer = false;
  int pgbouncer_pool_size = 10;
  // TLS with a fresh self-signed certificate for CN=localhost (server.crt in
  // dir(), usable as sslrootcert). Clients may still connect without TLS.
  bool ssl = false;
  // Where initdb and pg_ctl live; empty = the newest under /usr/lib/postgresql.
  std::string bin_dir;
  // Lines added to postgresql.conf after tradestore's defaults.
  std::vector<std::string> settings;
};

class LocalPostgres {
 public:
  // Returns kFailedPrecondition when PostgreSQL or PgBouncer is not
  // installed, kInternal when they fail to start (the message has the log).
  static absl::StatusOr<std::unique_ptr<LocalPostgres>> Start(
      const LocalPostgresOptions& options);
  ~LocalPostgres();

  // libpq DSN for the server directly, or through PgBouncer.
  std::string Dsn(const std::string& dbname = "postgres") const;
  std::string BouncerDsn(const std::string& dbname = "postgres") const;

  // CREATE DATABASE name; returns Dsn(name).
  absl::StatusOr<std::string> CreateDatabase(const std::string& name);
  // Runs SQL through psql as the superuser; returns its output.
  absl::StatusOr<std::string> Psql(const std::string& dbname,
                                   const std::string& sql);

  // Stops the server: `immediate` is a crash (no shutdown checkpoint).
  absl::Status StopServer(bool immediate);
  absl::Status StartServer();
  absl::Status StopBouncer();
  absl::Status StartBouncer();

  // The certificate a verify-full client trusts, when ssl is on.
  std::string ServerCertPath() const {
    return cluster_->data_dir() + "/server.crt";
  }

  int port() const { return cluster_->port(); }
  int bouncer_port() const { return bouncer_port_; }
  const std::string& dir() const { return dir_; }
  // The server itself.
  ops::PgCluster& cluster() { return *cluster_; }

  // Another PgBouncer configured like the first, in front of
  // 127.0.0.1:server_port instead (a test's fault proxy), its files in
  // dir()/`name`. Its listen port is in *port. The caller stops it; the
  // cleanup after a crash stops it too.
  absl::StatusOr<std::unique_ptr<ops::PgBouncerProcess>> StartBouncerFor(
      int server_port, const std::string& name, int* port);

 private:
  LocalPostgres() = default;
  absl::Status Init(const LocalPostgresOptions& options);
  absl::Status WriteBouncerConfig(const std::string& dir, int listen_port,
                                  int server_port, int pool_size);
  void Cleanup();

  std::string dir_;
  std::string user_;  // "postgres" when we are root, else ""
  std::unique_ptr<ops::PgCluster> cluster_;
  std::unique_ptr<ops::PgBouncerProcess> bouncer_;
  int bouncer_port_ = 0;
};

}  // namespace tradestore

#endif  // TRADESTORE_OPS_LOCAL_POSTGRES_H_
