#include "tradestore/ops/pid_file.h"

#include <signal.h>

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tradestore/internal/poll.h"
#include "tradestore/internal/process.h"
#include "tradestore/internal/safe_file.h"

namespace tradestore::ops {
namespace {

bool WaitGone(int pid, std::chrono::milliseconds limit) {
  return internal::PollUntilOk(
             std::chrono::milliseconds(20), limit,
             [pid] {
               return internal::ProcessAlive(pid)
                          ? absl::UnavailableError("still running")
                          : absl::OkStatus();
             })
      .ok();
}

}  // namespace

int PidFile::Pid() const {
  std::ifstream in(path_);
  std::string text;
  std::getline(in, text);
  int pid = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &pid)) return 0;
  return internal::ProcessAlive(pid) ? pid : 0;
}

absl::Status PidFile::Write(int pid) const {
  return internal::WriteFileSafely(path_, absl::StrCat(pid, "\n"),
                                   {.mode = 0644});
}

void PidFile::Signal(int signal) const {
  if (const int pid = Pid(); pid != 0) kill(pid, signal);
}

absl::Status PidFile::Stop(std::chrono::milliseconds grace) const {
  const int pid = Pid();
  if (pid == 0) return absl::OkStatus();
  kill(pid, SIGTERM);
  if (WaitGone(pid, grace)) return absl::OkStatus();
  kill(pid, SIGKILL);
  if (WaitGone(pid, std::chrono::seconds(10))) return absl::OkStatus();
  return absl::DeadlineExceededError(
      absl::StrCat("process ", pid, " (", path_, ") does not end"));
}

}  // namespace tradestore::ops
