#include "tradestore/cli/command.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tradestore/cli/cli.h"
#include "tradestore/cli/output.h"
#include "tradestore/internal/quote.h"

namespace tradestore::cli {
namespace {

FlagSpec SqliteFlag() {
  return TextFlag("sqlite", "PATH",
                  "the SQLite trade store (default: $TRADESTORE_SQLITE)");
}

FlagSpec PgFlag() {
  return TextFlag("pg", "DSN",
                  "Postgres conninfo or URI (default: $TRADESTORE_PG_DSN, "
                  "then the PG* environment and ~/.pgpass)");
}

FlagSpec DeadlineFlag() {
  return DurationFlag("deadline",
                      "give up reaching Postgres after this long (default "
                      "30s); refusals such as a wrong password end at once",
                      std::chrono::seconds(1), std::chrono::hours(24));
}

FlagSpec HelpFlag() { return BoolFlag("help", "show this help (also -h)"); }

// The flags that name a report file, where "-" is standard output.
constexpr const char* kReportFlags[] = {"json", "prom"};

constexpr char kCommonExitCodes[] =
    "0 done, 1 the command ran and found a problem (said why), 2 usage "
    "error or could not run (unreadable file, Postgres unreachable).";

}  // namespace

std::vector<FlagSpec> AllFlags(const CommandSpec& spec) {
  std::vector<FlagSpec> flags;
  if (spec.sqlite) flags.push_back(SqliteFlag());
  if (spec.pg) flags.push_back(PgFlag());
  flags.insert(flags.end(), spec.flags.begin(), spec.flags.end());
  if (spec.pg) flags.push_back(DeadlineFlag());
  flags.push_back(HelpFlag());
  return flags;
}

std::string ExitCodesOf(const CommandSpec& spec) {
  return spec.exit_codes.empty() ? kCommonExitCodes : spec.exit_codes;
}

int Invocation::Fail(const absl::Status& status) const {
  err << "tradestore " << spec.name << ": " << status.message() << "\n";
  return ExitCodeFor(status);
}

int Invocation::UsageError(absl::string_view message) const {
  err << "tradestore " << spec.name << ": " << message << "\nsee: tradestore "
      << spec.name << " --help\n";
  return kExitUsage;
}

bool Invocation::WriteReport(const std::string& flag,
                             const std::string& content) const {
  const auto path = args.Get(flag);
  if (!path) return true;
  if (absl::Status s = cli::WriteReport(*path, content, reports, sqlite);
      !s.ok()) {
    err << "tradestore " << spec.name << ": --" << flag << ": " << s.message()
        << "\n";
    return false;
  }
  return true;
}

std::string CommandHelp(const CommandSpec& spec) {
  // The synopsis wrapped, its lines lined up after the command's name.
  const std::string prefix = absl::StrCat("usage: tradestore ", spec.name, " ");
  std::string out = Wrap(spec.synopsis, prefix.size());
  out.replace(0, prefix.size(), prefix);
  out += "\n";
  for (absl::string_view paragraph :
       absl::StrSplit(spec.description, "\n\n", absl::SkipEmpty())) {
    absl::StrAppend(&out, Wrap(paragraph, 0), "\n");
  }
  if (!spec.actions.empty()) {
    absl::StrAppend(&out, "actions:\n");
    for (const auto& [name, help] : spec.actions) {
      std::string left = absl::StrCat("  ", name);
      left.resize(std::max<size_t>(left.size() + 1, 14), ' ');
      absl::StrAppend(&out, left, Wrap(help, left.size()).substr(left.size()));
    }
    absl::StrAppend(&out, "\n");
  }
  absl::StrAppend(&out, "flags:\n", FlagHelp(AllFlags(spec)), "\n",
                  Wrap(absl::StrCat("Exit codes: ", ExitCodesOf(spec)), 0));
  return out;
}

int RunCommand(const Command& command, const std::vector<std::string>& args,
               std::ostream& out, std::ostream& err) {
  const CommandSpec& spec = command.spec;
  auto parsed = ParseFlags(args, AllFlags(spec));
  std::vector<std::string> to_stdout;
  if (parsed.ok()) {
    for (const char* flag : kReportFlags) {
      if (parsed->Get(flag) == "-") to_stdout.push_back(flag);
    }
  }
  Invocation call(spec, parsed.ok() ? *std::move(parsed) : ParsedArgs(),
                  to_stdout.empty() ? out : err, err, out);
  if (!parsed.ok()) return call.UsageError(parsed.status().message());
  if (to_stdout.size() > 1) {
    return call.UsageError(
        absl::StrCat("--", absl::StrJoin(to_stdout, " - and --"),
                     " - would both write to standard output"));
  }
  if (call.args.Has("help")) {
    out << CommandHelp(spec);
    return kExitOk;
  }
  std::vector<std::string> positional = call.args.positional;
  if (!spec.actions.empty()) {
    std::vector<std::string> names;
    for (const auto& [name, help] : spec.actions) names.push_back(name);
    if (positional.empty()) {
      return call.UsageError(
          absl::StrCat("which action? ", absl::StrJoin(names, ", ")));
    }
    call.action = positional.front();
    positional.erase(positional.begin());
    if (std::find(names.begin(), names.end(), call.action) == names.end()) {
      const std::string near = Nearest(call.action, names);
      return call.UsageError(absl::StrCat(
          "unknown action ", internal::Quote(call.action),
          near.empty() ? "" : absl::StrCat(" (did you mean ", near, "?)")));
    }
  }
  if (static_cast<int>(positional.size()) > spec.max_operands) {
    return call.UsageError(absl::StrCat(
        "unexpected argument ",
        internal::Quote(positional[static_cast<size_t>(spec.max_operands)])));
  }
  call.operands = std::move(positional);
  if (spec.sqlite) {
    auto sqlite = SqlitePathFrom(call.args);
    if (!sqlite.ok()) return call.UsageError(sqlite.status().message());
    call.sqlite = *sqlite;
  }
  if (spec.pg) {
    call.pg.dsn = PgDsnFrom(call.args);
    if (auto deadline = call.args.Duration("deadline")) {
      call.pg.backoff.deadline = *deadline;
    }
  }
  return command.run(call);
}

FlagSpec JsonFlag(std::string help) {
  return TextFlag("json", "FILE", std::move(help));
}

FlagSpec DryRunFlag(std::string help) {
  return BoolFlag("dry-run", std::move(help));
}

}  // namespace tradestore::cli
