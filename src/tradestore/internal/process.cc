#include "tradestore/internal/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tradestore::internal {

bool RunningAsRoot() { return geteuid() == 0; }

namespace {

std::string ReadAndRemove(const char* path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  unlink(path);
  return text.str();
}

}  // namespace

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         const std::string& run_as,
                                         const EnvChanges& env) {
  std::vector<std::string> full;
  if (!run_as.empty() && RunningAsRoot()) {
    full = {"runuser", "-u", run_as, "--"};
  }
  full.insert(full.end(), argv.begin(), argv.end());

  // Output goes to files, not pipes: daemons started by the command (the
  // postmaster, pgbouncer) would otherwise hold a pipe open.
  char out_path[] = "/tmp/tradestore-out-XXXXXX";
  char err_path[] = "/tmp/tradestore-err-XXXXXX";
  const int out = mkstemp(out_path);
  const int err = mkstemp(err_path);
  if (out < 0 || err < 0) return absl::InternalError("mkstemp failed");
  const pid_t pid = fork();
  if (pid < 0) {
    close(out);
    close(err);
    unlink(out_path);
    unlink(err_path);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    const int in = open("/dev/null", O_RDONLY);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    for (const auto& [name, value] : env) {
      if (value) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
    std::vector<char*> args;
    for (auto& a : full) args.push_back(a.data());
    args.push_back(nullptr);
    execvp(args[0], args.data());
    std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  close(out);
  close(err);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  CommandResult result;
  result.exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128;
  result.out = ReadAndRemove(out_path);
  const std::string errors = ReadAndRemove(err_path);
  result.output = result.out + errors;
  if (result.exit_code == 127 && errors.find("cannot run") == 0) {
    return absl::InternalError(errors);
  }
  return result;
}

absl::Status RunChecked(const std::vector<std::string>& argv,
                        const std::string& run_as) {
  auto r = RunCommand(argv, run_as);
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) {
    return absl::InternalError(absl::StrCat(
        absl::StrJoin(argv, " "), " exited ", r->exit_code, ": ", r->output));
  }
  return absl::OkStatus();
}

absl::Status SpawnDetached(const std::string& script) {
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    // Double fork so the watchdog is not our child and never a zombie.
    if (fork() != 0) _exit(0);
    setsid();
    const int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    for (int fd = 3; fd < 1024; ++fd) close(fd);
    execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  return absl::OkStatus();
}

absl::StatusOr<int> FreeLoopbackPort() {
  // Ports 20000-32767: above the usual services, below the ephemeral range.
  constexpr int kLow = 20000, kHigh = 32767;
  std::random_device seed;
  std::mt19937 random(seed());
  std::uniform_int_distribution<int> pick(kLow, kHigh);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int port = pick(random);
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return absl::InternalError("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool free =
        bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    if (free) return port;
  }
  return absl::UnavailableError("no free loopback port in 20000-32767");
}

}  // namespace tradestore::internal
