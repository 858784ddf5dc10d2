// Running helper programs (initdb, pg_ctl, pgbouncer, psql) for the local
// throwaway Postgres. Not for the request path.
#ifndef TRADESTORE_INTERNAL_PROCESS_H_
#define TRADESTORE_INTERNAL_PROCESS_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace tradestore::internal {

struct CommandResult {
  int exit_code = 0;
  std::string output;  // stdout, then stderr
  std::string out;     // stdout alone
};

// Changes to the environment the program gets: a value sets the variable,
// nullopt removes it. The program never gets secrets on its command line
// (where `ps` shows them); they go here.
using EnvChanges =
    std::vector<std::pair<std::string, std::optional<std::string>>>;

// Runs argv[0] (looked up in PATH) and waits for it. When `run_as` is not
// empty and this process is root, runs it as that user through runuser.
// `work_dir`, when not empty, is its working directory (a program run as
// another user may need one it can reach: HAProxy refuses to start when it
// cannot return to its initial directory).
// Returns kInternal only when the program could not be started.
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         const std::string& run_as = "",
                                         const EnvChanges& env = {},
                                         const std::string& work_dir = "");

// Like RunCommand, but returns kInternal with the output when the exit code
// is not 0.
absl::Status RunChecked(const std::vector<std::string>& argv,
                        const std::string& run_as = "",
                        const std::string& work_dir = "");

// Starts `script` with /bin/sh in its own session, detached, with no
// standard streams: it outlives this process.
absl::Status SpawnDetached(const std::string& script);

// How StartDaemon runs a long-lived server that does not daemonise itself
// (etcd, Patroni).
struct DaemonOptions {
  std::string run_as;    // when root: this user (its uid, gid and groups)
  std::string log_path;  // standard output and error, appended (0600)
  std::string work_dir;  // its working directory; empty = unchanged
  EnvChanges env;
};

// Starts argv (looked up in PATH) in its own session, detached and not our
// child (it never becomes our zombie), and returns its pid. kInternal when
// it could not be started (with exec's error).
absl::StatusOr<int> StartDaemon(const std::vector<std::string>& argv,
                                const DaemonOptions& options);

// Whether `pid` is a live process: not gone and not a zombie.
bool ProcessAlive(int pid);

// SIGKILLs `pid` and every process descended from it, as the loss of their
// machine would: `pid` is stopped first, so it forks no more while its
// descendants are listed (from /proc).
void KillProcessTree(int pid);

bool RunningAsRoot();

// A TCP port on 127.0.0.1 that was free a moment ago, below Linux's
// ephemeral range (32768 and up), so no client connection is given it as
// its own port before the server binds it. Another server may still take
// it first: callers retry their start on "address in use".
absl::StatusOr<int> FreeLoopbackPort();

}  // namespace tradestore::internal

#endif  // TRADESTORE_INTERNAL_PROCESS_H_
