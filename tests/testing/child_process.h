// A helper process a test starts and stops (the storage emulators): killed
// when the object goes, and by a detached watchdog if the test binary dies
// first.
#ifndef TRADESTORE_TESTS_TESTING_CHILD_PROCESS_H_
#define TRADESTORE_TESTS_TESTING_CHILD_PROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tradestore/internal/process.h"

namespace tradestore::testing {

class ChildProcess {
 public:
  // Starts argv (argv[0] a path) with its output in `log`, in a process
  // group of its own.
  ChildProcess(std::vector<std::string> argv, const std::string& log) {
    // Built before fork: the child of a threaded process must not allocate.
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(out, 1);
      dup2(out, 2);
      execv(args[0], args.data());
      _exit(127);
    }
    setpgid(pid_, pid_);
    internal::SpawnDetached(
        absl::StrCat("while kill -0 ", getpid(),
                     " 2>/dev/null; do sleep 1; done; kill -9 -", pid_,
                     " 2>/dev/null"))
        .IgnoreError();
  }
  ~ChildProcess() {
    if (pid_ <= 0) return;
    kill(-pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool running() const {
    return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0;
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace tradestore::testing

#endif  // TRADESTORE_TESTS_TESTING_CHILD_PROCESS_H_
