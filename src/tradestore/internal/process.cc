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
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tradestore::internal {

bool RunningAsRoot() { return geteuid() == 0; }

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         const std::string& run_as) {
  std::vector<std::string> full;
  if (!run_as.empty() && RunningAsRoot()) {
    full = {"runuser", "-u", run_as, "--"};
  }
  full.insert(full.end(), argv.begin(), argv.end());

  // Output goes to a file, not a pipe: daemons started by the command (the
  // postmaster, pgbouncer) would otherwise hold the pipe open.
  char path[] = "/tmp/tradestore-cmd-XXXXXX";
  const int out = mkstemp(path);
  if (out < 0) return absl::InternalError("mkstemp failed");
  const pid_t pid = fork();
  if (pid < 0) {
    close(out);
    unlink(path);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    const int in = open("/dev/null", O_RDONLY);
    dup2(in, 0);
    dup2(out, 1);
    dup2(out, 2);
    std::vector<char*> args;
    for (auto& a : full) args.push_back(a.data());
    args.push_back(nullptr);
    execvp(args[0], args.data());
    std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  close(out);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  unlink(path);
  CommandResult result;
  result.exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128;
  result.output = text.str();
  if (result.exit_code == 127 && result.output.find("cannot run") == 0) {
    return absl::InternalError(result.output);
  }
  return result;
}

absl::Status RunChecked(const std::vector<std::string>& argv,
                        const std::string& run_as) {
  auto r = RunCommand(argv, run_as);
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) {
    return absl::InternalError(absl::StrCat(absl::StrJoin(argv, " "),
                                            " exited ", r->exit_code, ": ",
                                            r->output));
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
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return absl::InternalError("cannot bind a loopback port");
  }
  const int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

}  // namespace tradestore::internal
