// tradestore status: the one view of the migration and its operations.
#include "tradestore/cli/cli.h"
#include "tradestore/cli/command.h"
#include "tradestore/migration/status.h"

namespace tradestore::cli {
namespace {

int Run(Invocation& call) {
  StatusOptions options;
  options.pg = call.pg;
  if (auto sqlite = SqlitePathFrom(call.args); sqlite.ok()) {
    options.sqlite_path = call.sqlite = *sqlite;
  }
  if (call.args.Has("html")) options.history_runs = kHtmlHistoryRuns;
  auto report = RunStatus(options);
  if (!report.ok()) return call.Fail(report.status()), kExitUsage;
  report->Print(call.out);
  if (!call.WriteReport("json", report->ToJson()) ||
      !call.WriteReport("prom", report->ToPrometheus()) ||
      !call.WriteReport("html", report->ToHtml())) {
    return kExitUsage;
  }
  return report->healthy() ? kExitOk : kExitFailed;
}

}  // namespace

Command StatusCommand() {
  return {
      {.name = "status",
       .summary = "what needs attention: phase, verify, backups, drills",
       .synopsis =
           "--pg DSN [--sqlite PATH] [--json FILE] [--html FILE] [--prom FILE]",
       .description =
           "The schema version, the phase (and whether the SQLite mirror "
           "agrees), the backfill and its fence, the outbox, the latest "
           "verifications, the quarantine, the latest backup and restore "
           "drill; each thing that needs attention is listed with why. "
           "Only reads: the SQLite store is opened read-only.",
       .flags = {TextFlag("sqlite", "PATH",
                          "the SQLite trade store (default: "
                          "$TRADESTORE_SQLITE; optional)"),
                 JsonFlag(), HtmlFlag(),
                 TextFlag("prom", "FILE", "write Prometheus metrics to FILE")},
       .pg = true,
       .exit_codes = "0 healthy, 1 something needs attention (each reason "
                     "listed), 2 could not look."},
      Run};
}

}  // namespace tradestore::cli
