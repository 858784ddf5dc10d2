// One skeleton for every subcommand: a declarative spec (its flags, its
// actions, which stores it needs, its help) and a run function that gets
// the parsed flags and the stores already resolved. The skeleton handles
// --help and -h, usage errors (short, ending with "see --help"), --sqlite
// and $TRADESTORE_SQLITE, --pg, $TRADESTORE_PG_DSN and the PG* environment,
// --deadline, report files, and the log (--quiet, --verbose, --log-format;
// Postgres retries logged with their waits).
//
// Thread-safety: a command runs on one thread.
#ifndef TRADESTORE_CLI_COMMAND_H_
#define TRADESTORE_CLI_COMMAND_H_

#include <chrono>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tradestore/cli/flags.h"
#include "tradestore/clock.h"
#include "tradestore/internal/log_stream.h"
#include "tradestore/postgres/pg_options.h"

namespace tradestore::cli {

struct CommandSpec {
  std::string name;             // "verify"
  std::string summary;          // one line in `tradestore --help`
  std::string synopsis;         // what follows "usage: tradestore NAME "
  std::string description;      // paragraphs separated by "\n\n", wrapped
  std::vector<FlagSpec> flags;  // its own; --help and the stores' added
  // Actions (`phase show|move ...`): the first positional names one.
  std::vector<std::pair<std::string, std::string>> actions;  // name, help
  // Positionals after the action (or without one) it takes at most.
  int max_operands = 0;
  bool sqlite = false;  // takes --sqlite PATH (required)
  bool pg = false;      // takes --pg DSN and --deadline
  // The exit codes in the help; empty for the common ones.
  std::string exit_codes;
  // The action taken when none is named (`archive` writes one).
  std::string default_action;
};

class Invocation {
 public:
  // `out` takes the human text, `reports` a report written to "-": both
  // standard output, except that the human text goes to standard error
  // when a report is written to standard output, so that a script reads
  // pure JSON or Prometheus text there. `err` is the command's log (a
  // LogStream unless standard error is a terminal in plain text mode);
  // `usage` the raw standard error.
  Invocation(const CommandSpec& spec, ParsedArgs args, std::ostream& out,
             std::ostream& err, std::ostream& reports, std::ostream& usage,
             LogOptions log_options, bool terminal)
      : spec(spec),
        args(std::move(args)),
        out(out),
        err(err),
        reports(reports),
        usage(usage),
        log_options(std::move(log_options)),
        terminal(terminal) {}

  const CommandSpec& spec;
  ParsedArgs args;
  std::ostream& out;
  std::ostream& err;
  std::ostream& reports;
  std::ostream& usage;
  const LogOptions log_options;
  // Standard error is a terminal and takes plain text: progress redraws
  // one line in place; otherwise it logs timestamped lines.
  const bool terminal;
  std::string sqlite;  // with spec.sqlite
  PgOptions pg;        // with spec.pg: the DSN and deadline applied
  std::string action;  // with spec.actions
  std::vector<std::string> operands;

  // Prints "tradestore NAME: message" as an error and returns the exit code
  // the status calls for (ExitCodeFor).
  int Fail(const absl::Status& status) const;
  // A usage error: the message and where the help is; exit 2.
  int UsageError(absl::string_view message) const;
  // One log line "NAME: message" at `level`, written whole, from any
  // thread; dropped below the threshold (--quiet, --verbose).
  void Log(LogLevel level, absl::string_view message) const;
  // Writes `content` to the file flag `flag` names, when given ("-" is
  // standard output), never over the store. Returns false (and has printed
  // why) when it could not.
  bool WriteReport(const std::string& flag, const std::string& content) const;
  // Seconds since the command started: a job's duration.
  double ElapsedSeconds() const;
  // The job's textfile for --prom, when given (cli/job_metrics.h): whether
  // it worked, when, how long, and `figures` (its own Prometheus text);
  // `labels` tell apart runs of one job that write files of their own.
  bool WriteJobMetrics(const std::string& job, bool ok, double duration_s,
                       const std::string& figures,
                       const std::string& labels = "") const;

 private:
  const std::chrono::steady_clock::time_point started_ =
      Clock::Real()->Monotonic();
};

struct Command {
  CommandSpec spec;
  std::function<int(Invocation&)> run;
};

// Parses `args` by the spec (with the config file's defaults; `known_flags`
// are every command's flag names, to tell a misspelt key from another
// command's, and `known_commands` every command's name, to tell a misspelt
// [section]), handles help and usage errors, resolves the stores, and runs
// the command. Returns the exit code.
int RunCommand(const Command& command, const std::vector<std::string>& args,
               std::ostream& out, std::ostream& err,
               const std::vector<std::string>& known_flags = {},
               const std::vector<std::string>& known_commands = {});

// The command's full help.
std::string CommandHelp(const CommandSpec& spec);

// Every flag the command takes: its own and the skeleton's (--sqlite, --pg,
// --deadline, --help).
std::vector<FlagSpec> AllFlags(const CommandSpec& spec);

// The exit codes of the help, for a spec that gives none.
std::string ExitCodesOf(const CommandSpec& spec);

// Flags shared by several commands, the same everywhere.
FlagSpec JsonFlag(std::string help =
                      "write the report as JSON to FILE "
                      "(\"-\": standard output)");
FlagSpec DryRunFlag(std::string help);
// The recorded runs an HTML report charts.
inline constexpr int kHtmlHistoryRuns = 60;
FlagSpec HtmlFlag(std::string help =
                      "write the report as one self-contained HTML page to "
                      "FILE, with the recorded runs and the outbox lag as "
                      "charts");
FlagSpec PromFlag(std::string help =
                      "write job metrics for node_exporter's textfile "
                      "collector to FILE: up, last attempt and success, "
                      "duration, the counts");

}  // namespace tradestore::cli

#endif  // TRADESTORE_CLI_COMMAND_H_
