// tradestore restore: a logical backup back into a database, or a drill
// into a scratch one that measures the RTO.
#include "tradestore/cli/cli.h"
#include "tradestore/cli/command.h"
#include "tradestore/ops/restore.h"
#include "tradestore/postgres/backup_log.h"
#include "tradestore/postgres/pg_pool.h"

namespace tradestore::cli {
namespace {

// Records the drill in the live database's backup_runs, for `tradestore
// status`; a failure to record is said, not fatal.
void Record(Invocation& call, const std::string& dsn,
            const absl::StatusOr<ops::RestoreReport>& report) {
  PgOptions options = call.pg;
  options.dsn = dsn;
  auto pool = PgPool::Create(options);
  absl::Status recorded = pool.status();
  if (pool.ok()) {
    BackupRun run{
        .kind = "drill",
        .ok = report.ok() && report->matches,
        .detail = report.ok() ? "" : std::string(report.status().message())};
    if (report.ok()) {
      run.name = report->manifest.name;
      run.destination = report->source;
      run.trades_rows = report->restored.rows;
      run.rto_seconds = report->rto_s;
    }
    recorded = RecordBackupRun(**pool, run);
  }
  if (!recorded.ok()) {
    call.err << "tradestore restore: the drill was not recorded: "
             << recorded.message() << "\n";
  }
}

int Run(Invocation& call) {
  ops::RestoreOptions options;
  options.from = call.args.Get("from").value_or("");
  options.backup = call.args.Get("backup").value_or("");
  options.target = call.pg;
  options.jobs = static_cast<int>(call.args.Count("jobs").value_or(2));
  options.clean = call.args.Has("clean");
  options.drill = call.args.Has("drill");
  options.owners = !call.args.Has("no-owner");
  if (options.from.empty()) return call.UsageError("--from DEST is required");
  if (call.args.Has("latest") == !options.backup.empty()) {
    return call.UsageError("give either --latest or --backup NAME");
  }
  if (options.drill && options.clean) {
    return call.UsageError("--drill restores into a new database: no --clean");
  }
  auto report = ops::RunRestore(options, call.err);
  const bool ok = report.ok() && report->matches;
  if (auto record = call.args.Get("record")) Record(call, *record, report);
  if (!call.WriteJobMetrics(options.drill ? "restore_drill" : "restore", ok,
                            report.ok() ? report->rto_s : 0,
                            report.ok() ? report->ToPrometheus() : "")) {
    return kExitUsage;
  }
  if (!report.ok()) {
    // A dump that does not match its manifest is a finding, not a failure
    // to run: the backup is bad.
    if (absl::IsDataLoss(report.status())) {
      call.Fail(report.status());
      return kExitFailed;
    }
    return call.Fail(report.status());
  }
  report->PrintSummary(call.out);
  if (!call.WriteReport("json", report->ToJson())) return kExitUsage;
  return report->matches ? kExitOk : kExitFailed;
}

}  // namespace

Command RestoreCommand() {
  return {
      {.name = "restore",
       .summary = "restore a backup, or drill a restore and measure the RTO",
       .synopsis = "--from DEST (--latest | --backup NAME) --pg TARGET "
                   "[--jobs N] [--clean] [--drill] [--json FILE] [--prom "
                   "FILE]",
       .description =
           "Fetches the backup and its manifest, checks the dump's sha256 "
           "(a mismatch refuses with exit 1 and touches nothing), refuses a "
           "target database that already holds tables unless --clean, runs "
           "pg_restore -j, and checks the restored trades' row count, "
           "largest id and content hash against the manifest. The time from "
           "the start to checked is the RTO.\n\n"
           "--drill restores into a scratch database it creates on the "
           "target's server and drops after: the scheduled proof that the "
           "backups restore.",
       .flags = {TextFlag("from", "DEST", "where the backups are"),
                 BoolFlag("latest", "restore the newest complete backup"),
                 TextFlag("backup", "NAME", "restore this backup"),
                 CountFlag("jobs", "pg_restore jobs (default 2)", 1, 64),
                 BoolFlag("clean", "drop the target's objects first"),
                 BoolFlag("drill", "into a scratch database, dropped after"),
                 BoolFlag("no-owner",
                          "restore without ownership and grants (the "
                          "connecting role owns everything)"),
                 JsonFlag(),
                 TextFlag("prom", "FILE",
                          "write Prometheus metrics to FILE (up, RTO, "
                          "match)"),
                 TextFlag("record", "DSN",
                          "record the run in this (live) database's "
                          "backup_runs, for tradestore status")},
       .pg = true,
       .exit_codes = "0 restored and equal to the backup, 1 the dump or the "
                     "restored data differs from the manifest, or the "
                     "target holds tables, 2 usage error or could not run."},
      Run};
}

}  // namespace tradestore::cli
