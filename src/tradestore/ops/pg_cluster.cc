#include "tradestore/ops/pg_cluster.h"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tradestore/internal/process.h"
#include "tradestore/internal/read_file.h"
#include "tradestore/internal/status_macros.h"

namespace tradestore::ops {
namespace fs = std::filesystem;
using internal::RunChecked;
using internal::RunCommand;

namespace {

// tradestore's postgresql.conf defaults: loopback only, the socket in the
// cluster's directory.
std::string Defaults(const PgClusterOptions& o) {
  std::string conf =
      absl::StrCat("\n# tradestore\nlisten_addresses = '127.0.0.1'\n",
                   "unix_socket_directories = '", o.dir, "'\n",
                   "max_connections = 200\nshared_buffers = 128MB\n",
                   "password_encryption = scram-sha-256\n",
                   // fsync off survives a server crash (the OS keeps the
                   // pages), not an OS crash; synchronous_commit stays on, so a
                   // crash loses no acknowledged commit.
                   o.fsync ? "" : "fsync = off\nfull_page_writes = off\n",
                   "log_min_messages = warning\n",
                   // A bulk load of millions of rows writes gigabytes of WAL;
                   // at the default 1GB a checkpoint lands mid-load.
                   "max_wal_size = 4GB\n", o.ssl ? "ssl = on\n" : "");
  for (const std::string& line : o.settings) absl::StrAppend(&conf, line, "\n");
  return conf;
}

}  // namespace

std::string FindPostgresBinDir() {
  std::string best;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const fs::path bin = entry.path() / "bin";
    if (fs::exists(bin / "initdb") && bin.string() > best) best = bin.string();
  }
  return best;
}

absl::StatusOr<std::string> ServiceUser() {
  if (!internal::RunningAsRoot()) return std::string();
  if (getpwnam("postgres") == nullptr) {
    return absl::FailedPreconditionError(
        "running as root needs the 'postgres' system user (install "
        "postgresql)");
  }
  return std::string("postgres");
}

absl::Status MakeServiceDir(const std::string& dir, const std::string& user) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::InternalError(
        absl::StrCat("cannot create ", dir, ": ", std::strerror(errno)));
  }
  if (!user.empty()) {
    const passwd* pw = getpwnam(user.c_str());
    if (pw == nullptr || chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return absl::InternalError(
          absl::StrCat("cannot give ", dir, " to ", user));
    }
  }
  return absl::OkStatus();
}

absl::Status WriteOwnedFile(const std::string& path, const std::string& text,
                            const std::string& user, int mode) {
  unlink(path.c_str());
  const int fd = open(
      path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  const bool written =
      write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  bool owned = true;
  if (!user.empty()) {
    const passwd* pw = getpwnam(user.c_str());
    owned = pw != nullptr && fchown(fd, pw->pw_uid, pw->pw_gid) == 0;
  }
  close(fd);
  if (!written || !owned) {
    return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

absl::Status OnFreePort(int* port, const std::function<absl::Status()>& start) {
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

absl::StatusOr<std::unique_ptr<PgCluster>> PgCluster::Create(
    const PgClusterOptions& options) {
  const std::string bin =
      options.bin_dir.empty() ? FindPostgresBinDir() : options.bin_dir;
  if (bin.empty()) {
    return absl::FailedPreconditionError(
        "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); "
        "run tools/setup.sh");
  }
  TS_ASSIGN_OR_RETURN(std::string user, ServiceUser());
  TS_RETURN_IF_ERROR(MakeServiceDir(options.dir, user));
  std::unique_ptr<PgCluster> cluster(new PgCluster(options.dir, bin, user));
  std::vector<std::string> initdb = {bin + "/initdb",
                                     "-D",
                                     cluster->data_dir(),
                                     "-U",
                                     "postgres",
                                     "--auth=trust",
                                     "-E",
                                     "UTF8",
                                     "--no-locale",
                                     "--no-sync"};
  if (options.checksums) initdb.push_back("--data-checksums");
  TS_RETURN_IF_ERROR(RunChecked(initdb, user));
  {
    std::ofstream conf(cluster->data_dir() + "/postgresql.conf", std::ios::app);
    conf << Defaults(options);
    if (!conf) return absl::InternalError("cannot write postgresql.conf");
  }
  if (options.ssl) {
    // Made by the cluster's own user so the key has the owner and mode
    // (0600) the server insists on.
    TS_RETURN_IF_ERROR(
        RunChecked({"openssl", "req", "-new", "-x509", "-days", "2", "-nodes",
                    "-subj", "/CN=localhost", "-newkey", "rsa:2048", "-keyout",
                    cluster->data_dir() + "/server.key", "-out",
                    cluster->data_dir() + "/server.crt"},
                   user));
  }
  TS_RETURN_IF_ERROR(WriteOwnedFile(
      cluster->data_dir() + "/pg_hba.conf",
      options.hba.empty() ? "local all all trust\nhost all all 127.0.0.1/32 "
                            "trust\n"
                          : options.hba,
      user));
  return cluster;
}

absl::StatusOr<std::unique_ptr<PgCluster>> PgCluster::Open(
    const std::string& dir, const std::string& bin_dir) {
  const std::string bin = bin_dir.empty() ? FindPostgresBinDir() : bin_dir;
  TS_ASSIGN_OR_RETURN(std::string user, ServiceUser());
  std::unique_ptr<PgCluster> cluster(new PgCluster(dir, bin, user));
  if (!fs::exists(cluster->data_dir() + "/PG_VERSION")) {
    return absl::NotFoundError(absl::StrCat("no Postgres cluster in ", dir));
  }
  // The last "port = N" line wins, as for Postgres; ALTER SYSTEM quotes it.
  const std::string path = cluster->data_dir() + "/postgresql.auto.conf";
  for (absl::string_view line :
       absl::StrSplit(internal::ReadWholeFile(path), '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&line, "port")) continue;
    line = absl::StripLeadingAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&line, "=")) continue;
    line = absl::StripAsciiWhitespace(line);
    if (line.size() >= 2 && line.front() == '\'' && line.back() == '\'') {
      line = line.substr(1, line.size() - 2);
    }
    if (!absl::SimpleAtoi(line, &cluster->port_)) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot read the port in ", path));
    }
  }
  return cluster;
}

std::unique_ptr<PgCluster> PgCluster::Attach(const std::string& dir, int port) {
  std::unique_ptr<PgCluster> cluster(
      new PgCluster(dir, FindPostgresBinDir(), ServiceUser().value_or("")));
  cluster->port_ = port;
  return cluster;
}

absl::Status PgCluster::SetSetting(const std::string& name,
                                   const std::string& value) {
  const std::string path = data_dir() + "/postgresql.auto.conf";
  std::string kept;
  for (absl::string_view line :
       absl::StrSplit(internal::ReadWholeFile(path), '\n')) {
    const absl::string_view t = absl::StripAsciiWhitespace(line);
    if (t.empty() || absl::StartsWith(t, name + " ") ||
        absl::StartsWith(t, name + "=")) {
      continue;
    }
    absl::StrAppend(&kept, line, "\n");
  }
  absl::StrAppend(&kept, name, " = ", value, "\n");
  return WriteOwnedFile(path, kept, user_);
}

absl::Status PgCluster::StartOnce() {
  TS_RETURN_IF_ERROR(SetSetting("port", std::to_string(port_)));
  auto r = RunCommand({Tool("pg_ctl"), "-D", data_dir(), "-l",
                       dir_ + "/postgres.log", "-w", "-t", "60", "start"},
                      user_);
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) {
    return absl::InternalError(
        absl::StrCat("pg_ctl start failed: ", r->output,
                     internal::ReadWholeFile(dir_ + "/postgres.log")));
  }
  return absl::OkStatus();
}

absl::Status PgCluster::Start(int port) {
  if (port > 0) {
    port_ = port;
    return StartOnce();
  }
  return OnFreePort(&port_, [this] { return StartOnce(); });
}

absl::Status PgCluster::Stop(bool immediate) {
  return RunChecked({Tool("pg_ctl"), "-D", data_dir(), "-m",
                     immediate ? "immediate" : "fast", "-w", "stop"},
                    user_);
}

int PgCluster::PostmasterPid() const {
  const std::string text =
      internal::ReadWholeFile(data_dir() + "/postmaster.pid");
  int pid = 0;
  if (!absl::SimpleAtoi(text.substr(0, text.find('\n')), &pid)) return 0;
  return internal::ProcessAlive(pid) ? pid : 0;
}

bool PgCluster::Running() const { return PostmasterPid() != 0; }

std::string PgCluster::Dsn(const std::string& dbname) const {
  return absl::StrCat("host=127.0.0.1 port=", port_, " dbname=", dbname,
                      " user=postgres");
}

absl::StatusOr<std::string> PgCluster::Psql(const std::string& dbname,
                                            const std::string& sql) const {
  TS_ASSIGN_OR_RETURN(
      auto r,
      RunCommand({Tool("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                  "-h", dir_, "-p", std::to_string(port_), "-U", "postgres",
                  "-d", dbname, "-c", sql}));
  if (r.exit_code != 0) {
    return absl::InternalError(absl::StrCat("psql: ", r.output));
  }
  return r.output;
}

}  // namespace tradestore::ops
