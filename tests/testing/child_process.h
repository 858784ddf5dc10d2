// A helper process a test starts and stops (the storage emulators, the CLI
// under a kill loop): killed with its process group when the object goes,
// and when the test binary dies first.
#ifndef TRADESTORE_TESTS_TESTING_CHILD_PROCESS_H_
#define TRADESTORE_TESTS_TESTING_CHILD_PROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tradestore/internal/process.h"

namespace tradestore::testing {

class ChildProcess {
 public:
  // How the child is ended when the test binary dies first.
  enum class Orphan {
    // A detached shell waits for this process to end and kills the
    // child's group: also the grandchildren a server may start.
    kWatchdogKillsGroup,
    // The kernel kills the child (PR_SET_PDEATHSIG) when the thread that
    // started it ends: no extra process, for children started by the
    // hundred.
    kKernelKillsChild,
  };

  // Starts argv (argv[0] a path) with its output in `log`, in a process
  // group of its own.
  ChildProcess(std::vector<std::string> argv, const std::string& log,
               Orphan orphan = Orphan::kWatchdogKillsGroup) {
    // Built before fork: the child of a threaded process must not allocate.
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    const pid_t parent = getpid();
    const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      if (orphan == Orphan::kKernelKillsChild) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);  // it died before prctl
      }
      dup2(out, 1);
      dup2(out, 2);
      execv(args[0], args.data());
      _exit(127);
    }
    close(out);
    setpgid(pid_, pid_);
    if (orphan == Orphan::kWatchdogKillsGroup) {
      internal::SpawnDetached(
          absl::StrCat("while kill -0 ", getpid(),
                       " 2>/dev/null; do sleep 1; done; kill -9 -", pid_,
                       " 2>/dev/null"))
          .IgnoreError();
    }
  }
  ~ChildProcess() { KillAndWait(); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool running() {
    if (pid_ <= 0 || ended_) return false;
    ended_ = waitpid(pid_, &status_, WNOHANG) == pid_;
    return !ended_;
  }

  // How it ended, for a failure message.
  std::string Ended() const {
    if (ended_ && WIFEXITED(status_)) {
      return absl::StrCat("exited ", WEXITSTATUS(status_));
    }
    if (ended_ && WIFSIGNALED(status_)) {
      return absl::StrCat("signal ", WTERMSIG(status_));
    }
    return "still running";
  }

  // Kills the group and reaps the child; the signal that ended it
  // (SIGKILL when this kill did), or 0.
  int KillAndWait() {
    if (pid_ <= 0) return 0;
    if (running()) {
      kill(-pid_, SIGKILL);
      ended_ = waitpid(pid_, &status_, 0) == pid_;
    }
    pid_ = -1;
    return ended_ && WIFSIGNALED(status_) ? WTERMSIG(status_) : 0;
  }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool ended_ = false;
};

}  // namespace tradestore::testing

#endif  // TRADESTORE_TESTS_TESTING_CHILD_PROCESS_H_
