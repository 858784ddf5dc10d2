#include "tradestore/cli/cli.h"

#include <algorithm>
#include <cstring>
#include <functional>

#include "absl/strings/str_cat.h"

namespace tradestore::cli {
namespace {

struct Command {
  const char* name;
  const char* summary;
  // Null while the command is not built yet.
  std::function<int(const std::vector<std::string>&, std::ostream&,
                    std::ostream&)>
      run;
};

const std::vector<Command>& Commands() {
  static const auto* commands = new std::vector<Command>{
      {"backfill", "copy every trade of a legacy SQLite store into Postgres",
       RunBackfillCommand},
      {"verify", "compare the SQLite and Postgres stores and report differences",
       RunVerifyCommand},
      {"phase", "show, move or roll back the migration phase",
       RunPhaseCommand},
      {"archive", "write and check a compressed backup of the SQLite store",
       RunArchiveCommand},
      {"quarantine", "list rows that could not be copied; retry or accept them",
       RunQuarantineCommand},
      {"relay", "apply the dual-write outbox to Postgres", RunRelayCommand},
      {"loadgen", "write realistic trades through the embedded store",
       RunLoadgenCommand},
      {"demo", "a whole migration on a generated store, end to end", RunDemo},
      {"schema", "apply or show the Postgres schema migrations", RunSchema},
  };
  return *commands;
}

void Usage(std::ostream& os) {
  os << "usage: tradestore COMMAND [FLAGS]\n\n"
        "Moves a trade store from SQLite to PostgreSQL while trading goes "
        "on.\n\ncommands:\n";
  // Summaries line up two spaces past the longest name.
  size_t width = 0;
  for (const Command& c : Commands()) {
    width = std::max(width, std::strlen(c.name));
  }
  for (const Command& c : Commands()) {
    std::string name = c.name;
    name.resize(width + 2, ' ');
    os << "  " << name << c.summary << "\n";
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
    Usage(err);
    return kExitUsage;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    Usage(out);
    return kExitOk;
  }
  for (const Command& c : Commands()) {
    if (args[0] != c.name) continue;
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (c.run) return c.run(rest, out, err);
    const bool help = !rest.empty() && rest[0] == "--help";
    (help ? out : err) << "tradestore " << c.name << ": " << c.summary
                       << "\n(not available in this build yet)\n";
    return help ? kExitOk : kExitUsage;
  }
  err << "tradestore: unknown command \"" << args[0] << "\"\n\n";
  Usage(err);
  return kExitUsage;
}

}  // namespace tradestore::cli
