// tradestore backfill: every trade of a legacy SQLite store into Postgres.
#include "tradestore/cli/cli.h"
#include "tradestore/cli/command.h"
#include "tradestore/cli/stop_signals.h"
#include "tradestore/migration/backfill.h"

namespace tradestore::cli {
namespace {

int Run(Invocation& call) {
  BackfillOptions options;
  options.sqlite_path = call.sqlite;
  options.pg = call.pg;
  options.dry_run = call.args.Has("dry-run");
  options.progress_tty = call.terminal;
  options.batch_rows =
      static_cast<int>(call.args.Count("batch-rows").value_or(20000));
  const StopSignals signals;  // Ctrl-C: stop after the batch in hand
  options.stop = &signals.flag();
  auto report = RunBackfill(options, call.err);
  if (!call.WriteJobMetrics("backfill", report.ok(), call.ElapsedSeconds(),
                            report.ok() ? report->ToPrometheus() : "")) {
    return kExitUsage;
  }
  if (absl::IsCancelled(report.status())) {
    call.Fail(report.status());
    return kExitInterrupted;
  }
  if (!report.ok()) return call.Fail(report.status());
  report->PrintSummary(call.out);
  if (!call.WriteReport("json", report->ToJson() + "\n")) return kExitUsage;
  return kExitOk;
}

}  // namespace

Command BackfillCommand() {
  return {
      {.name = "backfill",
       .summary = "copy every trade of a legacy SQLite store into Postgres",
       .synopsis = "--sqlite PATH --pg DSN [--json FILE] [--prom FILE] "
                   "[--dry-run] [--batch-rows N]",
       .description =
           "Copies every trade of the SQLite store into Postgres, exactly. "
           "Rows that cannot be copied exactly go to trades_quarantine with "
           "the reason; the run goes on. Safe to stop at any moment and to "
           "run again: it resumes from its checkpoint and never overwrites a "
           "newer version. Applies missing schema migrations first.\n\n"
           "Into an empty trades table it builds the indexes after the load, "
           "in sqlite_only and dual_write the primary key too: until then "
           "every other write to trades is refused (if the run stopped, run "
           "it again to finish).",
       .flags = {JsonFlag(), PromFlag(),
                 DryRunFlag("read and validate everything, write nothing"),
                 CountFlag("batch-rows",
                           "rows per batch and checkpoint (default 20000)", 1,
                           1'000'000)},
       .sqlite = true,
       .pg = true,
       .exit_codes = "0 done (quarantined rows are reported, not an error), "
                     "1 refused (another run of the same store, a store it "
                     "cannot take), 2 usage error or could not run "
                     "(unreadable file, Postgres unreachable), 130 stopped "
                     "by Ctrl-C or SIGTERM after a committed batch (the "
                     "same command resumes)."},
      Run};
}

}  // namespace tradestore::cli
