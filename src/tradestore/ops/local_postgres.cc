#include "tradestore/ops/local_postgres.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "tradestore/internal/process.h"
#include "tradestore/internal/status_macros.h"

namespace tradestore {
namespace fs = std::filesystem;

absl::StatusOr<std::unique_ptr<LocalPostgres>> LocalPostgres::Start(
    const LocalPostgresOptions& options) {
  std::unique_ptr<LocalPostgres> pg(new LocalPostgres());
  absl::Status status = pg->Init(options);
  if (!status.ok()) return status;  // the destructor cleans up what started
  return pg;
}

absl::Status LocalPostgres::Init(const LocalPostgresOptions& options) {
  TS_ASSIGN_OR_RETURN(user_, ops::ServiceUser());
  char tmpl[] = "/tmp/tradestore-pg-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp failed");
  dir_ = tmpl;
  TS_RETURN_IF_ERROR(ops::MakeServiceDir(dir_, user_));
  const std::string bin =
      options.bin_dir.empty() ? ops::FindPostgresBinDir() : options.bin_dir;
  // If this process dies without running the destructor, stop the cluster
  // and remove the directory anyway.
  const std::string as = user_.empty() ? "" : "runuser -u postgres -- ";
  TS_RETURN_IF_ERROR(ops::WriteOwnedFile(
      dir_ + "/cleanup.sh",
      absl::StrCat("#!/bin/sh\n", "for f in '", dir_,
                   "'/*/pgbouncer.pid; do [ -f \"$f\" ] && kill $(cat \"$f\") "
                   "2>/dev/null; done\n",
                   "[ -f '", dir_, "/pg/data/postmaster.pid' ] && ", as, "'",
                   bin, "/pg_ctl' -D '", dir_,
                   "/pg/data' -m immediate -w stop >/dev/null 2>&1\n",
                   "rm -rf '", dir_, "'\n"),
      user_, 0700));
  TS_RETURN_IF_ERROR(internal::SpawnDetached(absl::StrCat(
      "while kill -0 ", getpid(), " 2>/dev/null; do sleep 1; done; sh '", dir_,
      "/cleanup.sh'")));
  // Members of the role tradestore_password_auth must give a password
  // (tests of password handling create them); everyone else is trusted on
  // loopback.
  TS_ASSIGN_OR_RETURN(
      cluster_, ops::PgCluster::Create(
                    {.dir = dir_ + "/pg",
                     .bin_dir = bin,
                     .fsync = options.fsync,
                     .settings = options.settings,
                     .hba = "local all all trust\n"
                            "host all +tradestore_password_auth 127.0.0.1/32 "
                            "scram-sha-256\n"
                            "host all all 127.0.0.1/32 trust\n",
                     .ssl = options.ssl}));
  TS_RETURN_IF_ERROR(cluster_->Start());
  TS_RETURN_IF_ERROR(
      Psql("postgres", "CREATE ROLE tradestore_password_auth NOLOGIN")
          .status());
  if (options.start_pgbouncer) {
    TS_RETURN_IF_ERROR(ops::MakeServiceDir(dir_ + "/bouncer", user_));
    bouncer_ =
        std::make_unique<ops::PgBouncerProcess>(dir_ + "/bouncer", user_);
    TS_RETURN_IF_ERROR(ops::OnFreePort(&bouncer_port_, [&] {
      TS_RETURN_IF_ERROR(WriteBouncerConfig(dir_ + "/bouncer", bouncer_port_,
                                            port(),
                                            options.pgbouncer_pool_size));
      return StartBouncer();
    }));
  }
  return absl::OkStatus();
}

absl::Status LocalPostgres::WriteBouncerConfig(const std::string& dir,
                                               int listen_port, int server_port,
                                               int pool_size) {
  TS_RETURN_IF_ERROR(ops::WriteOwnedFile(
      dir + "/userlist.txt",
      "\"postgres\" \"\"\n\"tradestore_app\" \"\"\n\"tradestore_ro\" \"\"\n",
      user_));
  return ops::WriteOwnedFile(
      dir + "/pgbouncer.ini",
      absl::StrCat(
          "[databases]\n* = host=127.0.0.1 port=", server_port,
          "\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = ", listen_port,
          "\nunix_socket_dir = ", dir, "\nauth_type = trust\nauth_file = ", dir,
          "/userlist.txt\npool_mode = transaction\n"
          "max_client_conn = 500\ndefault_pool_size = ",
          pool_size,
          "\nignore_startup_parameters = extra_float_digits\n"
          // As tools/postgres/pgbouncer.ini: a server connection
          // lost during its login holds every client for this long.
          "server_login_retry = 1\n"
          "server_reset_query =\nlogfile = ",
          dir, "/pgbouncer.log\npidfile = ", dir,
          "/pgbouncer.pid\nadmin_users = postgres\n"),
      user_);
}

LocalPostgres::~LocalPostgres() { Cleanup(); }

void LocalPostgres::Cleanup() {
  if (dir_.empty()) return;
  StopBouncer().IgnoreError();
  if (cluster_ != nullptr && cluster_->Running()) {
    cluster_->Stop(/*immediate=*/false).IgnoreError();
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
  dir_.clear();
}

std::string LocalPostgres::Dsn(const std::string& dbname) const {
  return cluster_->Dsn(dbname);
}

std::string LocalPostgres::BouncerDsn(const std::string& dbname) const {
  return absl::StrCat("host=127.0.0.1 port=", bouncer_port_, " dbname=", dbname,
                      " user=postgres");
}

absl::StatusOr<std::string> LocalPostgres::Psql(const std::string& dbname,
                                                const std::string& sql) {
  return cluster_->Psql(dbname, sql);
}

absl::StatusOr<std::string> LocalPostgres::CreateDatabase(
    const std::string& name) {
  TS_RETURN_IF_ERROR(
      Psql("postgres", absl::StrCat("CREATE DATABASE \"", name, "\""))
          .status());
  return Dsn(name);
}

absl::Status LocalPostgres::StopServer(bool immediate) {
  return cluster_->Stop(immediate);
}

absl::Status LocalPostgres::StartServer() {
  return cluster_->Start(cluster_->port());
}

absl::StatusOr<std::unique_ptr<ops::PgBouncerProcess>>
LocalPostgres::StartBouncerFor(int server_port, const std::string& name,
                               int* port) {
  const std::string dir = absl::StrCat(dir_, "/", name);
  TS_RETURN_IF_ERROR(ops::MakeServiceDir(dir, user_));
  auto bouncer = std::make_unique<ops::PgBouncerProcess>(dir, user_);
  TS_RETURN_IF_ERROR(ops::OnFreePort(port, [&] {
    TS_RETURN_IF_ERROR(WriteBouncerConfig(dir, *port, server_port,
                                          /*pool_size=*/4));
    return bouncer->Start(dir + "/pgbouncer.ini", *port);
  }));
  return bouncer;
}

absl::Status LocalPostgres::StartBouncer() {
  if (bouncer_ == nullptr) return absl::FailedPreconditionError("no pgbouncer");
  return bouncer_->Start(dir_ + "/bouncer/pgbouncer.ini", bouncer_port_);
}

absl::Status LocalPostgres::StopBouncer() {
  return bouncer_ == nullptr ? absl::OkStatus() : bouncer_->Stop();
}

}  // namespace tradestore
