#include "tradestore/ops/local_postgres.h"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tradestore/internal/process.h"
#include "tradestore/internal/status_macros.h"

namespace tradestore {
namespace fs = std::filesystem;
using internal::RunChecked;
using internal::RunCommand;

namespace {

std::string FindBinDir() {
  std::string best;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const fs::path bin = entry.path() / "bin";
    if (fs::exists(bin / "initdb") && bin.string() > best) best = bin.string();
  }
  return best;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

absl::Status Write(const std::string& path, const std::string& text,
                   bool append = true) {
  std::ofstream out(path, append ? std::ios::app : std::ios::trunc);
  out << text;
  return out.good() ? absl::OkStatus()
                    : absl::InternalError(absl::StrCat("cannot write ", path));
}

}  // namespace

absl::StatusOr<std::unique_ptr<LocalPostgres>> LocalPostgres::Start(
    const LocalPostgresOptions& options) {
  std::unique_ptr<LocalPostgres> pg(new LocalPostgres());
  absl::Status status = pg->Init(options);
  if (!status.ok()) return status;  // the destructor cleans up what started
  return pg;
}

absl::Status LocalPostgres::Init(const LocalPostgresOptions& options) {
  bin_dir_ = options.bin_dir.empty() ? FindBinDir() : options.bin_dir;
  if (bin_dir_.empty()) {
    return absl::FailedPreconditionError(
        "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); "
        "run tools/setup.sh");
  }
  char tmpl[] = "/tmp/tradestore-pg-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp failed");
  dir_ = tmpl;
  if (internal::RunningAsRoot()) {
    user_ = "postgres";
    const passwd* pw = getpwnam("postgres");
    if (pw == nullptr) {
      return absl::FailedPreconditionError(
          "running as root needs the 'postgres' system user (install "
          "postgresql)");
    }
    if (chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return absl::InternalError("cannot chown the cluster directory");
    }
  }
  // If this process dies without running the destructor, stop the cluster
  // and remove the directory anyway.
  const std::string as = user_.empty() ? "" : "runuser -u postgres -- ";
  TS_RETURN_IF_ERROR(Write(
      dir_ + "/cleanup.sh",
      absl::StrCat(
          "#!/bin/sh\n", "[ -f '", dir_, "/pgbouncer.pid' ] && kill $(cat '",
          dir_, "/pgbouncer.pid') 2>/dev/null\n", "[ -f '", dir_,
          "/data/postmaster.pid' ] && ", as, "'", bin_dir_, "/pg_ctl' -D '",
          dir_, "/data' -m immediate -w stop >/dev/null 2>&1\n", "rm -rf '",
          dir_, "'\n")));
  TS_RETURN_IF_ERROR(internal::SpawnDetached(absl::StrCat(
      "while kill -0 ", getpid(), " 2>/dev/null; do sleep 1; done; sh '", dir_,
      "/cleanup.sh'")));

  TS_RETURN_IF_ERROR(
      RunChecked({bin_dir_ + "/initdb", "-D", dir_ + "/data", "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"},
                 user_));
  TS_RETURN_IF_ERROR(Write(
      dir_ + "/data/postgresql.conf",
      absl::StrCat("\nlisten_addresses = '127.0.0.1'",
                   "\nunix_socket_directories = '", dir_,
                   "'\nmax_connections = 100\nshared_buffers = 128MB\n",
                   // fsync off survives a server crash (the OS keeps the
                   // pages), not an OS crash; synchronous_commit stays on
                   // so that a crash loses no acknowledged commit.
                   options.fsync ? "" : "fsync = off\nfull_page_writes = off\n",
                   "log_min_messages = warning\n",
                   // A bulk load of millions of rows writes gigabytes of
                   // WAL; at the default 1GB a checkpoint lands mid-load.
                   "max_wal_size = 4GB\n", options.ssl ? "ssl = on\n" : "")));
  if (options.ssl) {
    // Made by the cluster's own user so the key has the owner and mode
    // (0600) the server insists on.
    TS_RETURN_IF_ERROR(RunChecked(
        {"openssl", "req", "-new", "-x509", "-days", "2", "-nodes", "-subj",
         "/CN=localhost", "-newkey", "rsa:2048", "-keyout",
         dir_ + "/data/server.key", "-out", dir_ + "/data/server.crt"},
        user_));
  }
  // Members of the role tradestore_password_auth must give a password (tests
  // of password handling create them); everyone else is trusted on loopback.
  std::ofstream(dir_ + "/data/pg_hba.conf")
      << "local all all trust\n"
         "host all +tradestore_password_auth 127.0.0.1/32 scram-sha-256\n"
         "host all all 127.0.0.1/32 trust\n";
  // A port free a moment ago may be taken by the time the server binds it
  // (another test's cluster): try a few.
  TS_RETURN_IF_ERROR(OnFreePort(&port_, [&] {
    TS_RETURN_IF_ERROR(Write(dir_ + "/data/postgresql.auto.conf",
                             absl::StrCat("port = ", port_, "\n"), false));
    return StartServer();
  }));
  TS_RETURN_IF_ERROR(
      Psql("postgres", "CREATE ROLE tradestore_password_auth NOLOGIN")
          .status());
  if (options.start_pgbouncer) {
    TS_RETURN_IF_ERROR(OnFreePort(&bouncer_port_, [&] {
      TS_RETURN_IF_ERROR(WriteBouncerConfig(options.pgbouncer_pool_size));
      return StartBouncer();
    }));
  }
  return absl::OkStatus();
}

absl::Status LocalPostgres::OnFreePort(
    int* port, const std::function<absl::Status()>& start) {
  absl::Status status;
  for (int attempt = 0; attempt < 5; ++attempt) {
    TS_ASSIGN_OR_RETURN(*port, internal::FreeLoopbackPort());
    status = start();
    if (status.ok() || !absl::StrContains(status.message(), "in use")) {
      return status;
    }
  }
  return status;
}

absl::Status LocalPostgres::WriteBouncerConfig(int pool_size) {
  std::ofstream(dir_ + "/userlist.txt")
      << "\"postgres\" \"\"\n\"tradestore_app\" \"\"\n\"tradestore_ro\" \"\"\n";
  std::ofstream(dir_ + "/pgbouncer.ini")
      << "[databases]\n* = host=127.0.0.1 port=" << port_ << "\n"
      << "[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = " << bouncer_port_
      << "\nunix_socket_dir = " << dir_
      << "\nauth_type = trust\nauth_file = " << dir_
      << "/userlist.txt\npool_mode = transaction\nmax_client_conn = 500\n"
      << "default_pool_size = " << pool_size
      << "\nignore_startup_parameters = extra_float_digits\n"
      << "server_reset_query =\nlogfile = " << dir_
      << "/pgbouncer.log\npidfile = " << dir_ << "/pgbouncer.pid\n"
      << "admin_users = postgres\n";
  if (!user_.empty()) {
    TS_RETURN_IF_ERROR(
        RunChecked({"chown", "postgres:postgres", dir_ + "/userlist.txt",
                    dir_ + "/pgbouncer.ini", dir_ + "/cleanup.sh"}));
  }
  return absl::OkStatus();
}

LocalPostgres::~LocalPostgres() { Cleanup(); }

void LocalPostgres::Cleanup() {
  if (dir_.empty()) return;
  StopBouncer().IgnoreError();
  if (fs::exists(dir_ + "/data/postmaster.pid")) {
    RunCommand({bin_dir_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "fast", "-w",
                "stop"},
               user_)
        .IgnoreError();
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
  dir_.clear();
}

std::string LocalPostgres::Dsn(const std::string& dbname) const {
  return absl::StrCat("host=127.0.0.1 port=", port_, " dbname=", dbname,
                      " user=postgres");
}

std::string LocalPostgres::BouncerDsn(const std::string& dbname) const {
  return absl::StrCat("host=127.0.0.1 port=", bouncer_port_, " dbname=", dbname,
                      " user=postgres");
}

absl::StatusOr<std::string> LocalPostgres::Psql(const std::string& dbname,
                                                const std::string& sql) {
  TS_ASSIGN_OR_RETURN(
      auto r, RunCommand({bin_dir_ + "/psql", "-X", "-q", "-A", "-t", "-v",
                          "ON_ERROR_STOP=1", "-d", Dsn(dbname), "-c", sql}));
  if (r.exit_code != 0) {
    return absl::InternalError(absl::StrCat("psql: ", r.output));
  }
  return r.output;
}

absl::StatusOr<std::string> LocalPostgres::CreateDatabase(
    const std::string& name) {
  TS_RETURN_IF_ERROR(
      Psql("postgres", absl::StrCat("CREATE DATABASE \"", name, "\""))
          .status());
  return Dsn(name);
}

absl::Status LocalPostgres::StopServer(bool immediate) {
  return RunChecked({bin_dir_ + "/pg_ctl", "-D", dir_ + "/data", "-m",
                     immediate ? "immediate" : "fast", "-w", "stop"},
                    user_);
}

absl::Status LocalPostgres::StartServer() {
  auto r = RunCommand({bin_dir_ + "/pg_ctl", "-D", dir_ + "/data", "-l",
                       dir_ + "/postgres.log", "-w", "-t", "60", "start"},
                      user_);
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) {
    return absl::InternalError(absl::StrCat("pg_ctl start failed: ", r->output,
                                            ReadFile(dir_ + "/postgres.log")));
  }
  return absl::OkStatus();
}

absl::Status LocalPostgres::StartBouncer() {
  auto r = RunCommand({"pgbouncer", "-d", dir_ + "/pgbouncer.ini"}, user_);
  if (!r.ok()) {
    return absl::FailedPreconditionError(
        "pgbouncer is not installed; run tools/setup.sh");
  }
  if (r->exit_code != 0) {
    return absl::InternalError(absl::StrCat("pgbouncer failed: ", r->output,
                                            ReadFile(dir_ + "/pgbouncer.log")));
  }
  // -d returns once daemonized; wait until it accepts connections.
  for (int i = 0; i < 100; ++i) {
    auto probe = RunCommand({bin_dir_ + "/pg_isready", "-q", "-h", "127.0.0.1",
                             "-p", std::to_string(bouncer_port_)});
    if (probe.ok() && probe->exit_code == 0) {
      bouncer_running_ = true;
      return absl::OkStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::InternalError(absl::StrCat("pgbouncer did not come up: ",
                                          ReadFile(dir_ + "/pgbouncer.log")));
}

absl::Status LocalPostgres::StopBouncer() {
  if (!bouncer_running_) return absl::OkStatus();
  const std::string text = ReadFile(dir_ + "/pgbouncer.pid");
  const pid_t pid = std::atoi(text.c_str());
  bouncer_running_ = false;
  if (pid <= 0) return absl::InternalError("no pgbouncer pid");
  kill(pid, SIGTERM);
  for (int i = 0; i < 200 && kill(pid, 0) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  if (kill(pid, 0) == 0) kill(pid, SIGKILL);
  return absl::OkStatus();
}

}  // namespace tradestore
