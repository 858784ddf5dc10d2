#include "tradestore/cli/cli.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "tradestore/cli/command.h"
#include "tradestore/cli/docs.h"
#include "tradestore/internal/quote.h"
#include "tradestore/version.h"

namespace tradestore::cli {
namespace {

const std::vector<Command>& Commands();

Command ManCommand() {
  return {.spec = {.name = "man",
                   .summary = "print the man page, tradestore(1), in troff",
                   .synopsis = "",
                   .description = "Try: tradestore man | man -l -"},
          .run = [](Invocation& call) {
            call.out << ManPage(Commands());
            return kExitOk;
          }};
}

Command CompletionCommand() {
  return {.spec = {.name = "completion",
                   .summary = "print the shell completion script",
                   .synopsis = "bash",
                   .description = "Try: source <(tradestore completion "
                                  "bash). The build installs it for "
                                  "bash-completion.",
                   .actions = {{"bash", "the bash completion script"}}},
          .run = [](Invocation& call) {
            call.out << BashCompletion(Commands());
            return kExitOk;
          }};
}

const std::vector<Command>& Commands() {
  static const auto* commands = new std::vector<Command>{
      StatusCommand(),  PrepareCommand(), BackfillCommand(),   VerifyCommand(),
      PhaseCommand(),   ArchiveCommand(), QuarantineCommand(), RelayCommand(),
      LoadgenCommand(), DemoCommand(),    SchemaCommand(),     StackCommand(),
      BackupCommand(),  RestoreCommand(), CompletionCommand(), ManCommand(),
  };
  return *commands;
}

// Every command's flag names, for the config file's keys.
std::vector<std::string> FlagNames() {
  std::vector<std::string> names;
  for (const Command& c : Commands()) {
    for (const FlagSpec& f : AllFlags(c.spec)) {
      if (std::find(names.begin(), names.end(), f.name) == names.end()) {
        names.push_back(f.name);
      }
    }
  }
  return names;
}

void Usage(std::ostream& os) {
  os << "usage: tradestore COMMAND [FLAGS]\n\n"
        "Moves a trade store from SQLite to PostgreSQL while trading goes "
        "on.\n\ncommands:\n";
  // Summaries line up two spaces past the longest name.
  size_t width = 0;
  for (const Command& c : Commands()) {
    width = std::max(width, c.spec.name.size());
  }
  for (const Command& c : Commands()) {
    std::string name = c.spec.name;
    name.resize(width + 2, ' ');
    os << "  " << name << c.spec.summary << "\n";
  }
  os << "\nRun `tradestore COMMAND --help` for a command's flags.\n"
        "Exit codes: 0 ok, 1 ran and found a problem, 2 usage error or could "
        "not run.\n";
}

}  // namespace

int ExitCodeFor(const absl::Status& status) {
  if (status.ok()) return kExitOk;
  return absl::IsFailedPrecondition(status) ? kExitFailed : kExitUsage;
}

int RunCli(const std::vector<std::string>& args, std::ostream& out,
           std::ostream& err) {
  if (args.empty()) {
    err << "tradestore: which command?\nsee: tradestore --help\n";
    return kExitUsage;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    Usage(out);
    return kExitOk;
  }
  if (args[0] == "--version" || args[0] == "version") {
    out << "tradestore " << kVersion << "\n";
    return kExitOk;
  }
  std::vector<std::string> names;
  for (const Command& c : Commands()) names.push_back(c.spec.name);
  for (const Command& c : Commands()) {
    if (args[0] == c.spec.name) {
      return RunCommand(c, {args.begin() + 1, args.end()}, out, err,
                        FlagNames(), names);
    }
  }
  const std::string near = Nearest(args[0], names);
  err << "tradestore: unknown command " << internal::Quote(args[0])
      << (near.empty() ? "" : absl::StrCat(" (did you mean ", near, "?)"))
      << "\nsee: tradestore --help\n";
  return kExitUsage;
}

}  // namespace tradestore::cli
