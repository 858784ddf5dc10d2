// A server process of the stack, found again by its pid file: the stack
// outlives the command that started it, and `stack status` and `stack down`
// run later, in other processes.
//
// Thread-safety: not thread-safe; one owner controls it.
#ifndef TRADESTORE_OPS_PID_FILE_H_
#define TRADESTORE_OPS_PID_FILE_H_

#include <chrono>
#include <string>

#include "absl/status/status.h"

namespace tradestore::ops {

class PidFile {
 public:
  explicit PidFile(std::string path) : path_(std::move(path)) {}

  // The pid in the file when that process is alive, else 0.
  int Pid() const;
  absl::Status Write(int pid) const;
  // Sends `signal` to the process; fine when it is not running.
  void Signal(int signal) const;
  // SIGTERM, then SIGKILL once `grace` has passed; returns when it is
  // gone (kDeadlineExceeded if even SIGKILL does not end it in 10 s).
  absl::Status Stop(std::chrono::milliseconds grace) const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace tradestore::ops

#endif  // TRADESTORE_OPS_PID_FILE_H_
