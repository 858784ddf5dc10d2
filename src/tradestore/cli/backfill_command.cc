// tradestore backfill: every trade of a legacy SQLite store into Postgres.
#include <ostream>

#include "absl/strings/numbers.h"
#include "tradestore/cli/cli.h"
#include "tradestore/cli/flags.h"
#include "tradestore/cli/output.h"
#include "tradestore/migration/backfill.h"
#include "tradestore/internal/progress.h"

namespace tradestore::cli {
namespace {

const std::vector<FlagSpec>& BackfillFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      SqliteFlag(),
      PgFlag(),
      {"json", "FILE", "write the report as JSON to FILE (atomically)"},
      {"dry-run", "", "read and validate everything, write nothing"},
      {"batch-rows", "N", "rows per batch and checkpoint (default 20000)"},
      {"deadline", "SECONDS",
       "give up reaching Postgres after this long (default 30)"},
      HelpFlag(),
  };
  return *flags;
}

void BackfillUsage(std::ostream& os) {
  os << "usage: tradestore backfill --sqlite PATH --pg DSN [--json FILE] "
        "[--dry-run] [--batch-rows N]\n\n"
        "Copies every trade of the SQLite store into Postgres, exactly.\n"
        "Rows that cannot be copied exactly go to trades_quarantine with the\n"
        "reason; the run goes on. Safe to stop at any moment and to run again:\n"
        "it resumes from its checkpoint and never overwrites a newer version.\n"
        "Applies missing schema migrations first. Into an empty trades\n"
        "table it builds the indexes after the load, in sqlite_only and\n"
        "dual_write the primary key too: until then every other write to\n"
        "trades is refused (if the run stopped, run it again to finish).\n\n"
        "Exit codes: 0 done (quarantined rows are reported, not an error),\n"
        "1 refused (e.g. another run of the same store), 2 usage error or\n"
        "could not run (unreadable file, Postgres unreachable).\n\nflags:\n"
     << FlagHelp(BackfillFlags());
}

}  // namespace

int RunBackfillCommand(const std::vector<std::string>& args, std::ostream& out,
                       std::ostream& err) {
  auto parsed = ParseFlags(args, BackfillFlags());
  if (!parsed.ok() || !parsed->positional.empty()) {
    err << "tradestore backfill: "
        << (parsed.ok() ? "unexpected argument " + parsed->positional[0]
                        : std::string(parsed.status().message()))
        << "\n\n";
    BackfillUsage(err);
    return kExitUsage;
  }
  if (parsed->Has("help")) {
    BackfillUsage(out);
    return kExitOk;
  }
  auto sqlite = SqlitePathFrom(*parsed);
  if (!sqlite.ok()) {
    err << "tradestore backfill: " << sqlite.status().message() << "\n\n";
    BackfillUsage(err);
    return kExitUsage;
  }
  BackfillOptions options;
  options.sqlite_path = *sqlite;
  options.pg.dsn = PgDsnFrom(*parsed);
  options.dry_run = parsed->Has("dry-run");
  options.progress_tty = StderrIsTerminal();
  if (auto rows = parsed->Get("batch-rows")) {
    if (!absl::SimpleAtoi(*rows, &options.batch_rows) ||
        options.batch_rows < 1) {
      err << "tradestore backfill: --batch-rows: \"" << *rows
          << "\" is not a positive count\n";
      return kExitUsage;
    }
  }
  if (auto s = DeadlineFrom(*parsed, &options.pg.backoff.deadline); !s.ok()) {
    err << "tradestore backfill: " << s.message() << "\n";
    return kExitUsage;
  }
  auto report = RunBackfill(options, err);
  if (!report.ok()) {
    err << "tradestore backfill: " << report.status().message() << "\n";
    return ExitCodeFor(report.status());
  }
  report->PrintSummary(out);
  if (auto json = parsed->Get("json")) {
    if (auto s = WriteReport(*json, report->ToJson() + "\n", out, *sqlite); !s.ok()) {
      err << "tradestore backfill: " << s.message() << "\n";
      return kExitUsage;
    }
  }
  return kExitOk;
}

}  // namespace tradestore::cli
