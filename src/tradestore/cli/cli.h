// The `tradestore` command line: subcommands, their help and exit codes.
// tools/tradestore_main.cc is a thin main around RunCli, so tests call
// RunCli with string streams instead of running the binary.
//
// Exit codes (for cron and systemd):
//   0  success
//   1  the command ran and the result is bad (a refused migration, and in
//      later commands: differences found, a gate refused)
//   2  usage error, or the command could not run (unreachable database,
//      unreadable file)
#ifndef TRADESTORE_CLI_CLI_H_
#define TRADESTORE_CLI_CLI_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace tradestore::cli {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// `args` excludes the program name.
int RunCli(const std::vector<std::string>& args, std::ostream& out,
           std::ostream& err);

struct Command;
struct FlagSpec;

// The subcommands, each a spec and a run function (command.h).
Command ArchiveCommand();
Command BackfillCommand();
Command BackupCommand();
Command DemoCommand();
Command LoadgenCommand();
Command PhaseCommand();
Command PrepareCommand();
Command QuarantineCommand();
Command RelayCommand();
Command RestoreCommand();
Command SchemaCommand();
Command StackCommand();
Command StatusCommand();
Command VerifyCommand();

// The same --drain-timeout for relay and loadgen.
FlagSpec DrainTimeoutFlag();

// 1 for a refusal the operator must act on (kFailedPrecondition), else 2.
int ExitCodeFor(const absl::Status& status);

}  // namespace tradestore::cli

#endif  // TRADESTORE_CLI_CLI_H_
