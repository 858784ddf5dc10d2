#include "testing/hang_reporter.h"

#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

extern char** environ;

namespace tradestore::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Runs `argv` with its output on our stderr and waits for it.
void Show(std::vector<std::string> argv) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  pid_t child = 0;
  if (posix_spawnp(&child, args[0], &actions, nullptr, args.data(), environ) !=
      0) {
    std::fprintf(stderr, "hang reporter: %s could not be started\n", args[0]);
  } else {
    int status = 0;
    waitpid(child, &status, 0);
  }
  posix_spawn_file_actions_destroy(&actions);
}

// Our children: a test blocked in waitpid waits on one of them.
std::vector<std::string> Children() {
  std::vector<std::string> kids;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator(
           absl::StrCat("/proc/", getpid(), "/task"), ec)) {
    std::ifstream in(task.path() / "children");
    for (std::string pid; in >> pid;) kids.push_back(pid);
  }
  return kids;
}

void PrintBacktraces() {
  // Let gdb attach to us where Yama restricts ptrace to descendants.
  prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
  const std::vector<std::string> kids = Children();
  Show({"gdb", "-p", std::to_string(getpid()), "-batch", "-nx", "-ex",
        "thread apply all bt"});
  for (const auto& kid : kids) {
    std::fprintf(stderr, "\nour child %s:\n", kid.c_str());
    std::fflush(stderr);
    Show({"gdb", "-p", kid, "-batch", "-nx", "-ex", "bt"});
  }
  // Every process's state: a server that stopped answering shows here
  // (the postmaster's children name what each backend is doing).
  std::fprintf(stderr, "\nprocesses:\n");
  std::fflush(stderr);
  Show({"ps", "-N", "--ppid", "2", "-ww", "--forest", "-o",
        "pid,ppid,stat,wchan:22,etimes,args"});
}

std::chrono::seconds EnvSeconds(const char* name, std::chrono::seconds dflt) {
  const char* v = std::getenv(name);
  int64_t s = 0;
  if (v == nullptr || !absl::SimpleAtoi(v, &s) || s < 0) return dflt;
  return std::chrono::seconds(s);
}

// Leaked: its thread waits on it until the process ends.
class Watch {
 public:
  Watch(std::chrono::seconds per_test, std::chrono::seconds budget)
      : per_test_(per_test),
        end_(budget.count() > 0 ? Clock::now() + budget
                                : Clock::time_point::max()) {
    std::thread([this] { Loop(); }).detach();
  }

  // A test that failed before the hang: named in the last line too, since
  // the backtraces push its messages out of a log's tail.
  void Failed(std::string name) {
    std::lock_guard<std::mutex> lock(mu_);
    failed_.push_back(std::move(name));
  }

  // `what` is running from now on; empty when nothing is.
  void Running(std::string what) {
    std::lock_guard<std::mutex> lock(mu_);
    what_ = std::move(what);
    deadline_ = std::min(Clock::now() + per_test_, end_);
    changed_.notify_one();
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      if (what_.empty()) {
        changed_.wait(lock);
      } else if (Clock::now() < deadline_) {
        changed_.wait_until(lock, deadline_);
      } else {
        Fire();
      }
    }
  }

  [[noreturn]] void Fire() {
    const std::string line = absl::StrCat(
        "HANG: ", what_, " is still running ",
        deadline_ == end_ ? "at the end of the binary's time budget"
                          : absl::StrCat("after ", per_test_.count(), " s"));
    std::fprintf(stderr, "\n%s; every thread's backtrace follows\n",
                 line.c_str());
    std::fflush(stderr);
    PrintBacktraces();
    // Again at the end: CI shows the log's tail.
    const std::string before =
        failed_.empty() ? "none"
                        : absl::StrCat(failed_.size(), " (",
                                       absl::StrJoin(failed_, ", "), ")");
    std::fprintf(stderr,
                 "\n%s (backtraces above); tests failed before it: %s; "
                 "aborting\n",
                 line.c_str(), before.c_str());
    std::fflush(stderr);
    std::abort();
  }

  const std::chrono::seconds per_test_;
  const Clock::time_point end_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::string what_;
  Clock::time_point deadline_;
  std::vector<std::string> failed_;
};

// Owned (and deleted) by gtest; the state it reports to is not.
class Listener : public ::testing::EmptyTestEventListener {
 public:
  explicit Listener(Watch* watch) : watch_(watch) {}
  void OnEnvironmentsSetUpStart(const ::testing::UnitTest&) override {
    watch_->Running("the test environment's set-up");
  }
  void OnEnvironmentsSetUpEnd(const ::testing::UnitTest&) override {
    watch_->Running("");
  }
  void OnTestStart(const ::testing::TestInfo& t) override {
    watch_->Running(absl::StrCat(t.test_suite_name(), ".", t.name()));
  }
  void OnTestEnd(const ::testing::TestInfo& t) override {
    if (t.result() != nullptr && t.result()->Failed()) {
      watch_->Failed(absl::StrCat(t.test_suite_name(), ".", t.name()));
    }
    watch_->Running("");
  }
  void OnEnvironmentsTearDownStart(const ::testing::UnitTest&) override {
    watch_->Running("the test environment's tear-down");
  }
  void OnEnvironmentsTearDownEnd(const ::testing::UnitTest&) override {
    watch_->Running("");
  }

 private:
  Watch* const watch_;
};

}  // namespace

void InstallHangReporter(std::chrono::seconds per_test) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  per_test *= 2;  // everything runs slower under the sanitizers
#endif
  per_test = EnvSeconds("TRADESTORE_TEST_HANG_LIMIT_S", per_test);
  if (per_test.count() == 0) return;
  auto* watch = new Watch(per_test, EnvSeconds("TRADESTORE_TEST_BUDGET_S",
                                               std::chrono::seconds(0)));
  ::testing::UnitTest::GetInstance()->listeners().Append(new Listener(watch));
}

}  // namespace tradestore::testing
