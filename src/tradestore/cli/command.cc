#include "tradestore/cli/command.h"

#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "tradestore/cli/cli.h"
#include "tradestore/cli/config_file.h"
#include "tradestore/cli/job_metrics.h"
#include "tradestore/cli/output.h"
#include "tradestore/internal/mutex.h"
#include "tradestore/internal/progress.h"
#include "tradestore/internal/quote.h"
#include "tradestore/postgres/dsn.h"
#include "tradestore/version.h"

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

FlagSpec ConfigFlag() {
  return TextFlag("config", "FILE",
                  "defaults for these flags (default: $TRADESTORE_CONFIG)");
}

// The config file's defaults, from --config or $TRADESTORE_CONFIG.
absl::Status ApplyConfigFile(const CommandSpec& spec,
                             const std::vector<std::string>& known_flags,
                             const std::vector<std::string>& known_commands,
                             ParsedArgs& args) {
  std::optional<std::string> path = args.Get("config");
  if (const char* env = std::getenv("TRADESTORE_CONFIG");
      !path && env != nullptr && *env != '\0') {
    path = env;
  }
  if (!path) return absl::OkStatus();
  auto config = ReadConfigFile(*path);
  if (!config.ok()) return config.status();
  return ApplyConfig(*config, spec.name, AllFlags(spec), known_flags, args,
                     known_commands);
}

std::vector<FlagSpec> LogFlags() {
  return {BoolFlag("quiet", "log only warnings and errors"),
          BoolFlag("verbose",
                   "log debug lines too: the settings used, every retry"),
          TextFlag("log-format", "FORMAT",
                   "text (default; timestamped unless on a terminal) or "
                   "json: one object per line on standard error")};
}

absl::StatusOr<LogOptions> LogOptionsFrom(const ParsedArgs& args,
                                          const std::string& command) {
  LogOptions log;
  log.command = command;
  const std::string format = args.Get("log-format").value_or("text");
  if (format == "json") {
    log.format = LogFormat::kJson;
  } else if (format != "text") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--log-format: ", internal::Quote(format), " is not text or json"));
  }
  if (args.Has("quiet") && args.Has("verbose")) {
    return absl::InvalidArgumentError("--quiet and --verbose contradict");
  }
  if (args.Has("quiet")) log.threshold = LogLevel::kWarning;
  if (args.Has("verbose")) log.threshold = LogLevel::kDebug;
  return log;
}

// Logs Postgres retries: the first at once as a warning, then at most one
// warning every 5 s while they go on (the rest at debug level).
std::function<void(const absl::Status&, int, std::chrono::milliseconds,
                   std::chrono::milliseconds)>
RetryLogger(const Invocation& call) {
  struct State {
    internal::Mutex mu;
    std::optional<std::chrono::steady_clock::time_point> last
        ABSL_GUARDED_BY(mu);
  };
  auto state = std::make_shared<State>();
  return [&call, state](const absl::Status& why, int attempt,
                        std::chrono::milliseconds waited,
                        std::chrono::milliseconds elapsed) {
    const std::string line = absl::StrCat(
        "Postgres not reachable, retrying after a ",
        absl::FormatDuration(absl::FromChrono(waited)), " wait (attempt ",
        attempt + 1, ", ", absl::FormatDuration(absl::FromChrono(elapsed)),
        " so far): ", why.message());
    const auto now = std::chrono::steady_clock::now();
    bool warn = false;
    {
      internal::ScopedLock lock(state->mu);
      if (!state->last || now - *state->last >= std::chrono::seconds(5)) {
        state->last = now;
        warn = true;
      }
    }
    call.Log(warn ? LogLevel::kWarning : LogLevel::kDebug, line);
  };
}

// A JSON report as an object that names the build which wrote it first:
// the field goes in as text, so the report keeps its layout.
std::string WithVersion(const std::string& json) {
  constexpr char kSpace[] = " \t\r\n";
  const size_t open = json.find_first_not_of(kSpace);
  if (open == std::string::npos || json[open] != '{' ||
      absl::StrContains(json, "\"tradestore_version\"")) {
    return json;
  }
  const size_t next = json.find_first_not_of(kSpace, open + 1);
  const bool empty = next != std::string::npos && json[next] == '}';
  const bool pretty = json.compare(open + 1, 1, "\n") == 0;
  const std::string field =
      absl::StrCat(pretty ? "\n  " : "", "\"tradestore_version\": \"", kVersion,
                   "\"", empty ? "" : ",");
  std::string out = json;
  out.insert(open + 1, field);
  return out;
}

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
  for (FlagSpec& f : LogFlags()) flags.push_back(std::move(f));
  flags.push_back(ConfigFlag());
  flags.push_back(HelpFlag());
  return flags;
}

std::string ExitCodesOf(const CommandSpec& spec) {
  return spec.exit_codes.empty() ? kCommonExitCodes : spec.exit_codes;
}

int Invocation::Fail(const absl::Status& status) const {
  const std::string line =
      absl::StrCat("tradestore ", spec.name, ": ", status.message());
  if (terminal) {
    usage << line << "\n";
  } else {
    usage << LogRecord(log_options, Clock::Real()->Now(), LogLevel::kError,
                       line);
  }
  return ExitCodeFor(status);
}

int Invocation::UsageError(absl::string_view message) const {
  usage << "tradestore " << spec.name << ": " << message << "\nsee: tradestore "
        << spec.name << " --help\n";
  return kExitUsage;
}

void Invocation::Log(LogLevel level, absl::string_view message) const {
  if (level < log_options.threshold) return;
  const std::string line = absl::StrCat(spec.name, ": ", message);
  // One write: whole lines even when threads log at once.
  if (terminal) {
    usage << absl::StrCat(level == LogLevel::kInfo
                              ? ""
                              : absl::StrCat(LogLevelName(level), ": "),
                          line, "\n")
          << std::flush;
  } else {
    usage << LogRecord(log_options, Clock::Real()->Now(), level, line)
          << std::flush;
  }
}

bool Invocation::WriteReport(const std::string& flag,
                             const std::string& content) const {
  const auto path = args.Get(flag);
  if (!path) return true;
  const std::string text = flag == "json" ? WithVersion(content) : content;
  if (absl::Status s = cli::WriteReport(*path, text, reports, sqlite);
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

namespace {

// The action (for a command that has actions) and the operands, into
// `call`; a usage error's message, or "".
std::string TakeOperands(const CommandSpec& spec, Invocation& call) {
  std::vector<std::string> positional = call.args.positional;
  if (!spec.actions.empty()) {
    std::vector<std::string> names;
    for (const auto& [name, help] : spec.actions) names.push_back(name);
    if (positional.empty() && !spec.default_action.empty()) {
      positional.push_back(spec.default_action);
    }
    if (positional.empty()) {
      return absl::StrCat("which action? ", absl::StrJoin(names, ", "));
    }
    call.action = positional.front();
    positional.erase(positional.begin());
    if (std::find(names.begin(), names.end(), call.action) == names.end()) {
      const std::string near = Nearest(call.action, names);
      return absl::StrCat(
          "unknown action ", internal::Quote(call.action),
          near.empty() ? "" : absl::StrCat(" (did you mean ", near, "?)"));
    }
  }
  if (static_cast<int>(positional.size()) > spec.max_operands) {
    return absl::StrCat(
        "unexpected argument ",
        internal::Quote(positional[static_cast<size_t>(spec.max_operands)]));
  }
  call.operands = std::move(positional);
  return "";
}

// The SQLite path and the Postgres options the command takes, into `call`;
// a usage error's message, or "".
std::string TakeStores(const CommandSpec& spec, Invocation& call) {
  if (spec.sqlite) {
    auto sqlite = SqlitePathFrom(call.args);
    if (!sqlite.ok()) return std::string(sqlite.status().message());
    call.sqlite = *sqlite;
    call.Log(LogLevel::kDebug, "sqlite: " + call.sqlite);
  }
  if (spec.pg) {
    call.pg.dsn = PgDsnFrom(call.args);
    if (auto deadline = call.args.Duration("deadline")) {
      call.pg.backoff.deadline = *deadline;
    }
    call.pg.on_retry = RetryLogger(call);
    call.Log(LogLevel::kDebug,
             absl::StrCat("postgres: ", MaskDsn(call.pg.dsn), ", deadline ",
                          absl::FormatDuration(
                              absl::FromChrono(call.pg.backoff.deadline))));
  }
  return "";
}

// Why the command cannot run as called, or "" when it can; takes the
// operands and the stores into `call`.
std::string Refusal(const CommandSpec& spec, Invocation& call,
                    const absl::Status& config, const absl::Status& log,
                    const std::vector<std::string>& to_stdout) {
  if (!config.ok()) return std::string(config.message());
  if (!log.ok()) return std::string(log.message());
  if (to_stdout.size() > 1) {
    return absl::StrCat("--", absl::StrJoin(to_stdout, " - and --"),
                        " - would both write to standard output");
  }
  if (std::string bad = TakeOperands(spec, call); !bad.empty()) return bad;
  return TakeStores(spec, call);
}

}  // namespace

int RunCommand(const Command& command, const std::vector<std::string>& args,
               std::ostream& out, std::ostream& err,
               const std::vector<std::string>& known_flags,
               const std::vector<std::string>& known_commands) {
  const CommandSpec& spec = command.spec;
  auto parsed = ParseFlags(args, AllFlags(spec));
  ParsedArgs parsed_args = parsed.ok() ? *std::move(parsed) : ParsedArgs();
  absl::Status config_status;
  if (parsed.ok())
    config_status =
        ApplyConfigFile(spec, known_flags, known_commands, parsed_args);
  auto log_options = LogOptionsFrom(parsed_args, spec.name);
  std::vector<std::string> to_stdout;
  for (const char* flag : kReportFlags) {
    if (parsed_args.Get(flag) == "-") to_stdout.push_back(flag);
  }
  // A terminal in plain text mode gets the progress line redrawn in place;
  // anything else (a pipe, a log file, --log-format json, --quiet or
  // --verbose) gets log records.
  const LogOptions log = log_options.ok() ? *log_options : LogOptions{};
  const bool terminal = &err == &std::cerr && StderrIsTerminal() &&
                        log.format == LogFormat::kText &&
                        log.threshold == LogLevel::kInfo;
  std::optional<LogStream> log_stream;
  if (!terminal) log_stream.emplace(err, log);
  std::ostream& log_out = terminal ? err : *log_stream;
  // Under --quiet the human text that would go to standard error is left
  // out; a report on standard output still comes.
  std::ostream nowhere(nullptr);
  std::ostream& human = to_stdout.empty()
                            ? out
                            : (log.threshold > LogLevel::kInfo ? nowhere : err);
  Invocation call(spec, std::move(parsed_args), human, log_out, out, err, log,
                  terminal);
  if (!parsed.ok()) return call.UsageError(parsed.status().message());
  // Help even with a broken config file.
  if (call.args.Has("help")) {
    out << CommandHelp(spec);
    return kExitOk;
  }
  if (std::string bad =
          Refusal(spec, call, config_status, log_options.status(), to_stdout);
      !bad.empty()) {
    return call.UsageError(bad);
  }
  return command.run(call);
}

FlagSpec JsonFlag(std::string help) {
  return TextFlag("json", "FILE", std::move(help));
}

FlagSpec HtmlFlag(std::string help) {
  return TextFlag("html", "FILE", std::move(help));
}

FlagSpec PromFlag(std::string help) {
  return TextFlag("prom", "FILE", std::move(help));
}

double Invocation::ElapsedSeconds() const {
  return std::chrono::duration<double>(Clock::Real()->Monotonic() - started_)
      .count();
}

bool Invocation::WriteJobMetrics(const std::string& job, bool ok,
                                 double duration_s, const std::string& figures,
                                 const std::string& labels) const {
  const auto path = args.Get("prom");
  if (!path) return true;
  return WriteReport("prom", JobMetrics(*path, job, ok, Clock::Real()->Now(),
                                        duration_s, figures, labels));
}

FlagSpec DryRunFlag(std::string help) {
  return BoolFlag("dry-run", std::move(help));
}

}  // namespace tradestore::cli
