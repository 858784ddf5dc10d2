// tradestore phase: show, move or roll back the migration phase.
#include <unistd.h>

#include <ostream>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tradestore/cli/cli.h"
#include "tradestore/cli/flags.h"
#include "tradestore/migration/phase.h"
#include "tradestore/sqlite/phase_mirror.h"

namespace tradestore::cli {
namespace {

const std::vector<FlagSpec>& PhaseFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      SqliteFlag(),
      PgFlag(),
      {"min-soak", "DURATION",
       "time in the current phase before a forward move (default 48h)"},
      {"max-verify-age", "DURATION",
       "the latest full verification must be younger (default 24h)"},
      {"max-outbox-lag", "DURATION",
       "no outbox entry may have waited longer (default 5s)"},
      {"dry-run", "", "print the gate report, change nothing"},
      {"force", "", "override failed gates (needs --reason; recorded)"},
      {"reason", "TEXT", "why, recorded in the history"},
      {"deadline", "SECONDS",
       "give up reaching Postgres after this long (default 30)"},
      HelpFlag(),
  };
  return *flags;
}

void PhaseUsage(std::ostream& os) {
  os << "usage: tradestore phase show|history --sqlite PATH --pg DSN\n"
        "       tradestore phase set PHASE --sqlite PATH --pg DSN "
        "[--min-soak 48h]\n"
        "            [--max-verify-age 24h] [--max-outbox-lag 5s] [--dry-run]\n"
        "            [--force --reason TEXT]\n\n"
        "Phases, one step at a time:\n"
        "  sqlite_only -> dual_write -> read_postgres -> postgres_only -> "
        "archived\n"
        "Forward moves into read_postgres and postgres_only need: the backfill\n"
        "completed, a clean full verification younger than --max-verify-age,\n"
        "--min-soak in the current phase, the outbox drained, and no\n"
        "unresolved quarantined row. Rolling back read_postgres -> dual_write\n"
        "is immediate; postgres_only -> read_postgres needs the reverse\n"
        "catch-up. The phase lives in Postgres and is mirrored into the\n"
        "SQLite file.\n\n"
        "Exit codes: 0 done (or the dry run would pass), 1 refused, 2 usage\n"
        "error or could not run.\n\nflags:\n"
     << FlagHelp(PhaseFlags());
}

int Usage(std::ostream& err, absl::string_view message) {
  err << "tradestore phase: " << message << "\n\n";
  PhaseUsage(err);
  return kExitUsage;
}

bool ParseSeconds(const std::optional<std::string>& text,
                  std::chrono::seconds* out) {
  if (!text) return true;
  absl::Duration d;
  if (!absl::ParseDuration(*text, &d) || d < absl::ZeroDuration()) return false;
  *out = std::chrono::seconds(absl::ToInt64Seconds(d));
  return true;
}

std::string Who() {
  const char* user = std::getenv("USER");
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return absl::StrCat(user != nullptr ? user : "unknown", "@", host);
}

void PrintState(std::ostream& out, const PhaseState& s) {
  out << PhaseName(s.phase) << " (version " << s.version << ", since "
      << s.changed_at.ToIso8601() << ", by " << s.changed_by << ": "
      << s.reason << ")\n";
}

}  // namespace

int RunPhaseCommand(const std::vector<std::string>& args, std::ostream& out,
                    std::ostream& err) {
  auto parsed = ParseFlags(args, PhaseFlags());
  if (!parsed.ok()) return Usage(err, parsed.status().message());
  if (parsed->Has("help")) {
    PhaseUsage(out);
    return kExitOk;
  }
  const auto& pos = parsed->positional;
  if (pos.empty()) return Usage(err, "show, set PHASE or history?");
  const std::string verb = pos[0];
  if (!(verb == "show" && pos.size() == 1) &&
      !(verb == "history" && pos.size() == 1) &&
      !(verb == "set" && pos.size() == 2)) {
    return Usage(err, "expected show, history or set PHASE");
  }
  auto sqlite = SqlitePathFrom(*parsed);
  if (!sqlite.ok()) return Usage(err, sqlite.status().message());
  PgOptions pg;
  pg.dsn = PgDsnFrom(*parsed);
  if (auto s = DeadlineFrom(*parsed, &pg.backoff.deadline); !s.ok()) {
    return Usage(err, s.message());
  }
  PhaseMoveOptions move;
  move.sqlite_path = *sqlite;
  if (!ParseSeconds(parsed->Get("min-soak"), &move.min_soak)) {
    return Usage(err, "--min-soak: not a duration like 48h or 30m");
  }
  if (!ParseSeconds(parsed->Get("max-verify-age"), &move.max_verify_age)) {
    return Usage(err, "--max-verify-age: not a duration like 24h or 90m");
  }
  if (auto lag = parsed->Get("max-outbox-lag")) {
    absl::Duration d;
    if (!absl::ParseDuration(*lag, &d) || d < absl::ZeroDuration()) {
      return Usage(err, "--max-outbox-lag: not a duration like 5s or 500ms");
    }
    move.max_outbox_lag = std::chrono::milliseconds(absl::ToInt64Milliseconds(d));
  }
  move.dry_run = parsed->Has("dry-run");
  move.force = parsed->Has("force");
  move.reason = parsed->Get("reason").value_or("");
  move.changed_by = Who();
  if (move.force && move.reason.empty()) {
    return Usage(err, "--force needs --reason TEXT");
  }
  auto store = PhaseStore::Open(pg);
  if (!store.ok()) {
    err << "tradestore phase: " << store.status().message() << "\n";
    return ExitCodeFor(store.status());
  }
  if (verb == "show") {
    auto current = (*store)->Current();
    if (!current.ok()) {
      err << "tradestore phase: " << current.status().message() << "\n";
      return ExitCodeFor(current.status());
    }
    out << "phase: ";
    PrintState(out, *current);
    auto mirrored = ReadSqlitePhase(*sqlite);
    if (mirrored.ok() && *mirrored &&
        (*mirrored)->version != current->version) {
      out << "the SQLite mirror says " << PhaseName((*mirrored)->phase)
          << " (version " << (*mirrored)->version
          << "): it is refreshed by the next phase set\n";
    }
    return kExitOk;
  }
  if (verb == "history") {
    auto history = (*store)->History();
    if (!history.ok()) {
      err << "tradestore phase: " << history.status().message() << "\n";
      return ExitCodeFor(history.status());
    }
    for (const PhaseChange& c : *history) {
      out << c.version << "  " << c.changed_at.ToIso8601() << "  "
          << (c.from ? PhaseName(*c.from) : "-") << " -> " << PhaseName(c.to)
          << "  by " << c.changed_by << (c.forced ? "  FORCED" : "") << ": "
          << c.reason << "\n";
    }
    return kExitOk;
  }
  auto target = ParsePhase(pos[1]);
  if (!target.ok()) return Usage(err, target.status().message());
  move.target = *target;
  auto result = (*store)->Move(move);
  if (!result.ok()) {
    err << "tradestore phase: " << result.status().message() << "\n";
    return ExitCodeFor(result.status());
  }
  for (const GateCheck& g : result->gates) {
    out << (g.passed ? "  ok      " : "  FAILED  ") << g.name << ": "
        << g.detail << "\n";
  }
  if (result->refused) {
    out << "phase stays " << PhaseName(result->before.phase) << ": "
        << result->refusal << "\n";
    return kExitFailed;
  }
  if (move.dry_run) {
    out << "dry run: " << PhaseName(result->before.phase) << " -> "
        << PhaseName(move.target) << " would be allowed"
        << (move.force ? " (forced)" : "") << "; nothing changed\n";
    return kExitOk;
  }
  out << "phase: " << PhaseName(result->before.phase) << " -> ";
  PrintState(out, *result->after);
  if (!result->mirror_warning.empty()) {
    err << "tradestore phase: warning: " << result->mirror_warning << "\n";
  }
  return kExitOk;
}

}  // namespace tradestore::cli
