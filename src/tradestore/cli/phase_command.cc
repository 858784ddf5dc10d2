// tradestore phase: show, move or roll back the migration phase.
#include <pwd.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "tradestore/cli/cli.h"
#include "tradestore/cli/command.h"
#include "tradestore/migration/phase.h"
#include "tradestore/sqlite/phase_mirror.h"

namespace tradestore::cli {
namespace {

// The operating-system user (not $USER, which a sudo or a cron job may not
// set) and the host, for the history.
std::string Who() {
  const passwd* pw = getpwuid(getuid());
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return absl::StrCat(pw != nullptr ? pw->pw_name : std::to_string(getuid()),
                      "@", host);
}

void PrintState(std::ostream& out, const PhaseState& s) {
  out << PhaseName(s.phase) << " (version " << s.version << ", since "
      << s.changed_at.ToIso8601() << ", by " << s.changed_by << ": " << s.reason
      << ")\n";
}

// Postgres unreachable: the phase the SQLite file mirrors, which the
// embedded store follows while Postgres is down, said to be the mirror.
int ShowMirror(Invocation& call, const absl::Status& unreachable) {
  auto mirrored = ReadSqlitePhase(call.sqlite);
  if (!mirrored.ok() || !*mirrored) return call.Fail(unreachable);
  call.Log(LogLevel::kWarning,
           absl::StrCat("Postgres unreachable (", unreachable.message(),
                        "); showing the phase mirrored in the SQLite file"));
  call.out << "phase: ";
  PrintState(call.out, **mirrored);
  call.out << "(the SQLite file's mirror: Postgres could not be reached)\n";
  return kExitOk;
}

int Show(Invocation& call, PhaseStore& store) {
  auto current = store.Current();
  if (absl::IsUnavailable(current.status())) {
    return ShowMirror(call, current.status());
  }
  if (!current.ok()) return call.Fail(current.status());
  call.out << "phase: ";
  PrintState(call.out, *current);
  auto mirrored = ReadSqlitePhase(call.sqlite);
  if (mirrored.ok() && *mirrored && (*mirrored)->version != current->version) {
    call.out << "the SQLite mirror says " << PhaseName((*mirrored)->phase)
             << " (version " << (*mirrored)->version
             << "): it is refreshed by the next phase set\n";
  }
  return kExitOk;
}

int History(Invocation& call, PhaseStore& store) {
  auto history = store.History();
  if (!history.ok()) return call.Fail(history.status());
  for (const PhaseChange& c : *history) {
    call.out << c.version << "  " << c.changed_at.ToIso8601() << "  "
             << (c.from ? PhaseName(*c.from) : "-") << " -> " << PhaseName(c.to)
             << "  by " << c.changed_by << (c.forced ? "  FORCED" : "") << ": "
             << c.reason << "\n";
  }
  return kExitOk;
}

int Set(Invocation& call, PhaseStore& store, PhaseMoveOptions move) {
  auto result = store.Move(move);
  if (!result.ok()) return call.Fail(result.status());
  for (const GateCheck& g : result->gates) {
    call.out << (g.passed ? "  ok      " : "  FAILED  ") << g.name << ": "
             << g.detail << "\n";
  }
  if (result->refused) {
    call.out << "phase stays " << PhaseName(result->before.phase) << ": "
             << result->refusal << "\n";
    return kExitFailed;
  }
  if (move.dry_run) {
    call.out << "dry run: " << PhaseName(result->before.phase) << " -> "
             << PhaseName(move.target) << " would be allowed"
             << (move.force ? " (forced)" : "") << "; nothing changed\n";
    return kExitOk;
  }
  call.out << "phase: " << PhaseName(result->before.phase) << " -> ";
  PrintState(call.out, *result->after);
  if (!result->mirror_warning.empty()) {
    call.err << "tradestore phase: warning: " << result->mirror_warning << "\n";
  }
  return kExitOk;
}

int Run(Invocation& call) {
  PhaseMoveOptions move;
  move.sqlite_path = call.sqlite;
  auto seconds = [](std::chrono::milliseconds d) {
    return std::chrono::duration_cast<std::chrono::seconds>(d);
  };
  if (auto d = call.args.Duration("min-soak")) move.min_soak = seconds(*d);
  if (auto d = call.args.Duration("max-verify-age")) {
    move.max_verify_age = seconds(*d);
  }
  if (auto d = call.args.Duration("max-outbox-lag")) move.max_outbox_lag = *d;
  move.dry_run = call.args.Has("dry-run");
  move.force = call.args.Has("force");
  move.reason = call.args.Get("reason").value_or("");
  move.changed_by = Who();
  if (move.force && move.reason.empty()) {
    return call.UsageError("--force needs --reason TEXT");
  }
  if (call.action == "set") {
    if (call.operands.size() != 1) return call.UsageError("set which phase?");
    auto target = ParsePhase(call.operands[0]);
    if (!target.ok()) return call.UsageError(target.status().message());
    move.target = *target;
  } else if (!call.operands.empty()) {
    return call.UsageError("unexpected argument " + call.operands[0]);
  }
  auto store = PhaseStore::Open(call.pg);
  if (call.action == "show" && !store.ok() &&
      absl::IsUnavailable(store.status())) {
    return ShowMirror(call, store.status());
  }
  if (!store.ok()) return call.Fail(store.status());
  if (call.action == "show") return Show(call, **store);
  if (call.action == "history") return History(call, **store);
  return Set(call, **store, move);
}

}  // namespace

Command PhaseCommand() {
  const auto hour = std::chrono::hours(1);
  return {
      {.name = "phase",
       .summary = "show, move or roll back the migration phase",
       .synopsis = "show|history|set PHASE --sqlite PATH --pg DSN "
                   "[--dry-run] [--force --reason TEXT]",
       .description =
           "Phases, one step at a time: sqlite_only -> dual_write -> "
           "read_postgres -> postgres_only -> archived.\n\n"
           "Forward moves into read_postgres and postgres_only need: the "
           "backfill completed, a clean full verification younger than "
           "--max-verify-age, --min-soak in the current phase, the outbox "
           "drained, and no unresolved quarantined row; into archived a "
           "verified archive. Rolling back read_postgres -> dual_write is "
           "immediate; postgres_only -> read_postgres needs the reverse "
           "catch-up. The phase lives in Postgres and is mirrored into the "
           "SQLite file.",
       .flags = {DurationFlag("min-soak",
                              "time in the current phase before a forward move "
                              "(default 48h)",
                              std::chrono::seconds(0), 24 * 365 * hour),
                 DurationFlag("max-verify-age",
                              "the latest full verification must be younger "
                              "(default 24h)",
                              std::chrono::seconds(0), 24 * 365 * hour),
                 DurationFlag(
                     "max-outbox-lag",
                     "no outbox entry may have waited longer (default 5s)",
                     std::chrono::seconds(0), 24 * hour),
                 DryRunFlag("print the gate report, change nothing"),
                 BoolFlag("force",
                          "override failed gates (needs --reason; "
                          "recorded)"),
                 TextFlag("reason", "TEXT", "why, recorded in the history")},
       .actions = {{"show", "the phase, and whether the SQLite mirror agrees"},
                   {"history", "every move, who made it and why"},
                   {"set", "move to PHASE, through the gates"}},
       .max_operands = 1,
       .sqlite = true,
       .pg = true,
       .exit_codes = "0 done (or the dry run would pass), 1 refused, 2 "
                     "usage error or could not run."},
      Run};
}

}  // namespace tradestore::cli
