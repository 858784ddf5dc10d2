#include "tradestore/internal/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tradestore/internal/poll.h"
#include "tradestore/internal/read_file.h"
#include "tradestore/internal/status_macros.h"

namespace tradestore::internal {

bool RunningAsRoot() { return geteuid() == 0; }

namespace {

std::string ReadAndRemove(const char* path) {
  std::string text = ReadWholeFile(path);
  unlink(path);
  return text;
}

// Our environment with `changes` applied: a value sets, nullopt removes.
std::vector<std::string> ChangedEnvironment(const EnvChanges& changes) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) out.emplace_back(*e);
  for (const auto& [name, value] : changes) {
    const std::string prefix = name + "=";
    std::erase_if(out, [&prefix](const std::string& entry) {
      return entry.compare(0, prefix.size(), prefix) == 0;
    });
    if (value) out.push_back(prefix + *value);
  }
  return out;
}

// argv and envp as exec wants them, built before fork: after fork in a
// threaded process only async-signal-safe calls may run (a malloc there
// hangs the child for good when another thread held the allocator's lock,
// and the parent waits for it for ever).
class ExecArgs {
 public:
  ExecArgs(std::vector<std::string> argv, std::vector<std::string> env)
      : argv_(std::move(argv)), env_(std::move(env)) {
    for (auto& a : argv_) args_.push_back(a.data());
    args_.push_back(nullptr);
    for (auto& e : env_) envp_.push_back(e.data());
    envp_.push_back(nullptr);
  }
  char* const* args() { return args_.data(); }
  char* const* envp() { return envp_.data(); }

 private:
  std::vector<std::string> argv_, env_;
  std::vector<char*> args_, envp_;
};

// Starts the program with standard output and error on `out` and `err`;
// 0 or an errno. posix_spawn, not fork: the child runs no pthread_atfork
// handler and copies no page table, so a child of a threaded process cannot
// hang on a lock another thread held (a fork handler that allocated once
// did).
int Spawn(ExecArgs& exec_args, int out, int err, const std::string& work_dir,
          pid_t* pid) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out, 1);
  posix_spawn_file_actions_adddup2(&actions, err, 2);
  if (!work_dir.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, work_dir.c_str());
  }
  const int spawned = posix_spawnp(pid, exec_args.args()[0], &actions, nullptr,
                                   exec_args.args(), exec_args.envp());
  posix_spawn_file_actions_destroy(&actions);
  return spawned;
}

}  // namespace

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         const std::string& run_as,
                                         const EnvChanges& env,
                                         const std::string& work_dir) {
  std::vector<std::string> full;
  if (!run_as.empty() && RunningAsRoot()) {
    full = {"runuser", "-u", run_as, "--"};
  }
  full.insert(full.end(), argv.begin(), argv.end());
  if (full.empty()) return absl::InvalidArgumentError("no program");
  ExecArgs exec_args(full, ChangedEnvironment(env));
  const std::string cannot_enter =
      absl::StrCat("cannot enter ", work_dir, "\n");
  const std::string cannot_run = absl::StrCat("cannot run ", full[0], ": ");

  // Output goes to files, not pipes: daemons started by the command (the
  // postmaster, pgbouncer) would otherwise hold a pipe open.
  char out_path[] = "/tmp/tradestore-out-XXXXXX";
  char err_path[] = "/tmp/tradestore-err-XXXXXX";
  // Close-on-exec: only the child's copies on 1 and 2 stay open in it.
  const int out = mkostemp(out_path, O_CLOEXEC);
  const int err = mkostemp(err_path, O_CLOEXEC);
  if (out < 0 || err < 0) return absl::InternalError("mkstemp failed");
  pid_t pid = 0;
  const int spawned = Spawn(exec_args, out, err, work_dir, &pid);
  if (spawned != 0) {
    close(out);
    close(err);
    unlink(out_path);
    unlink(err_path);
    // The same outcome as a shell's: 127 with the reason for a directory
    // it cannot enter, an error for a program that cannot start.
    if (!work_dir.empty() && access(work_dir.c_str(), X_OK) != 0) {
      CommandResult result;
      result.exit_code = 127;
      result.output = cannot_enter;
      return result;
    }
    return absl::InternalError(
        absl::StrCat(cannot_run, strerrordesc_np(spawned)));
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
  return result;
}

absl::Status RunChecked(const std::vector<std::string>& argv,
                        const std::string& run_as,
                        const std::string& work_dir) {
  auto r = RunCommand(argv, run_as, {}, work_dir);
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

namespace {

// Who the daemon becomes; looked up before fork, as only async-signal-safe
// calls may follow fork in a threaded process.
struct Identity {
  bool change = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  std::string home;
};

absl::StatusOr<Identity> LookUp(const std::string& user) {
  Identity id;
  if (user.empty() || !RunningAsRoot()) return id;
  const passwd* pw = getpwnam(user.c_str());
  if (pw == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("no user ", user));
  }
  id.change = true;
  id.uid = pw->pw_uid;
  id.gid = pw->pw_gid;
  id.home = pw->pw_dir;
  int count = 64;
  id.groups.resize(count);
  if (getgrouplist(user.c_str(), id.gid, id.groups.data(), &count) < 0) {
    id.groups.resize(count);
    getgrouplist(user.c_str(), id.gid, id.groups.data(), &count);
  }
  id.groups.resize(count);
  return id;
}

// The daemon's environment: ours, changed.
std::vector<std::string> Environment(const DaemonOptions& o, const Identity& id,
                                     const std::string& user) {
  EnvChanges changes;
  if (id.change) {
    changes = {{"HOME", id.home}, {"USER", user}, {"LOGNAME", user}};
  }
  changes.insert(changes.end(), o.env.begin(), o.env.end());
  return ChangedEnvironment(changes);
}

int OpenLog(const DaemonOptions& o, const Identity& id) {
  if (o.log_path.empty()) return open("/dev/null", O_WRONLY | O_CLOEXEC);
  const int fd =
      open(o.log_path.c_str(),
           O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd >= 0 && id.change && fchown(fd, id.uid, id.gid) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// In the child of fork(): forks the daemon and reports its pid on
// `report`, then exits, so the daemon is adopted by init and reaped there.
// The daemon reports a negative errno when its start fails.
[[noreturn]] void BecomeDaemon(int report, int log, const DaemonOptions& o,
                               const Identity& id, ExecArgs& exec_args) {
  const pid_t daemon = fork();
  if (daemon != 0) {
    const int32_t value = daemon;
    (void)!write(report, &value, sizeof value);
    _exit(0);
  }
  setsid();
  const int null = open("/dev/null", O_RDONLY);
  dup2(null, 0);
  dup2(log, 1);
  dup2(log, 2);
  int error = 0;
  if (!o.work_dir.empty() && chdir(o.work_dir.c_str()) != 0) error = errno;
  if (error == 0 && id.change &&
      (setgroups(id.groups.size(), id.groups.data()) != 0 ||
       setgid(id.gid) != 0 || setuid(id.uid) != 0)) {
    error = errno;
  }
  if (error == 0) {
    execvpe(exec_args.args()[0], exec_args.args(), exec_args.envp());
    error = errno;
  }
  const int32_t value = -error;
  (void)!write(report, &value, sizeof value);
  _exit(127);
}

}  // namespace

absl::StatusOr<int> StartDaemon(const std::vector<std::string>& argv,
                                const DaemonOptions& o) {
  if (argv.empty()) return absl::InvalidArgumentError("no program");
  TS_ASSIGN_OR_RETURN(const Identity id, LookUp(o.run_as));
  ExecArgs exec_args(argv, Environment(o, id, o.run_as));
  const int log = OpenLog(o, id);
  if (log < 0) {
    return absl::InternalError(
        absl::StrCat("cannot open ", o.log_path, ": ", std::strerror(errno)));
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    close(log);
    return absl::InternalError("pipe failed");
  }
  const pid_t pid = fork();
  if (pid < 0) {
    close(log);
    close(fds[0]);
    close(fds[1]);
    return absl::InternalError("fork failed");
  }
  if (pid == 0) {
    close(fds[0]);
    BecomeDaemon(fds[1], log, o, id, exec_args);
  }
  close(log);
  close(fds[1]);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  // The pid, then (only when the start failed) a negative errno; end of
  // file once the daemon has exec'd.
  int32_t daemon = 0, failure = 0;
  const bool got_pid = read(fds[0], &daemon, sizeof daemon) == sizeof daemon;
  const bool failed = read(fds[0], &failure, sizeof failure) == sizeof failure;
  close(fds[0]);
  if (!got_pid || daemon <= 0) {
    return absl::InternalError(absl::StrCat("cannot start ", argv[0]));
  }
  if (failed) {
    return absl::InternalError(
        absl::StrCat("cannot run ", argv[0], ": ", std::strerror(-failure)));
  }
  return static_cast<int>(daemon);
}

namespace {

// The state letter and parent of a process, from /proc/PID/stat; state
// '?' when it cannot be read (gone).
struct ProcStat {
  char state = '?';
  int ppid = 0;
};

ProcStat ReadProcStat(int pid) {
  const std::string text = ReadWholeFile(absl::StrCat("/proc/", pid, "/stat"));
  // "pid (comm) S ppid ...": comm may hold spaces and parentheses.
  const size_t paren = text.rfind(')');
  ProcStat s;
  if (paren == std::string::npos || paren + 4 >= text.size()) return s;
  s.state = text[paren + 2];
  s.ppid = std::atoi(text.c_str() + paren + 4);
  return s;
}

std::vector<int> ChildrenOf(int pid) {
  std::vector<int> children;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    int n = 0;
    if (absl::SimpleAtoi(entry.path().filename().string(), &n) &&
        ReadProcStat(n).ppid == pid) {
      children.push_back(n);
    }
  }
  return children;
}

}  // namespace

bool ProcessAlive(int pid) {
  if (pid <= 0 || kill(pid, 0) != 0) return false;
  // kill(0) succeeds on a zombie: read its state.
  const ProcStat s = ReadProcStat(pid);
  return s.state != 'Z';
}

void KillProcessTree(int pid) {
  if (pid <= 0 || kill(pid, SIGSTOP) != 0) return;
  // Stopped ('T'), it has finished any fork under way; a second bounds the
  // wait for one blocked in the kernel.
  PollUntilOk(std::chrono::milliseconds(1), std::chrono::seconds(1), [pid] {
    const char state = ReadProcStat(pid).state;
    return state == 'T' || state == 't' || state == 'Z' || state == '?'
               ? absl::OkStatus()
               : absl::UnavailableError("not stopped yet");
  }).IgnoreError();
  std::vector<int> tree = {pid};
  for (size_t i = 0; i < tree.size(); ++i) {
    for (int child : ChildrenOf(tree[i])) tree.push_back(child);
  }
  for (int p : tree) kill(p, SIGKILL);
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
