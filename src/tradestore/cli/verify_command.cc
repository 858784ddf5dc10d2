// tradestore verify: compare the two stores and report every difference.
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "tradestore/cli/cli.h"
#include "tradestore/cli/command.h"
#include "tradestore/internal/prom_text.h"
#include "tradestore/internal/quote.h"
#include "tradestore/verify/verifier.h"
#include "tradestore/verify/verify_html.h"

namespace tradestore::cli {
namespace {

// The window the flags ask for; a usage error message when they do not.
std::string ReadWindow(const ParsedArgs& args, VerifyOptions& options) {
  int windows = 0;
  if (auto ids = args.Get("ids")) {
    ++windows;
    std::vector<std::string> parts = absl::StrSplit(*ids, '-');
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &options.id_from) ||
        !absl::SimpleAtoi(parts[1], &options.id_to) || options.id_from < 1 ||
        options.id_to < options.id_from) {
      return "--ids: " + internal::Quote(*ids) + " is not a range A-B of ids";
    }
    options.mode = VerifyMode::kIds;
  }
  if (auto since = args.Get("since")) {
    ++windows;
    auto t = Timestamp::Parse(*since);
    if (!t.ok()) return "--since: " + std::string(t.status().message());
    options.since = *t;
    options.mode = VerifyMode::kSince;
  }
  if (args.Has("incremental")) {
    ++windows;
    options.mode = VerifyMode::kIncremental;
  }
  if (windows > 1) return "--ids, --since and --incremental exclude each other";
  return "";
}

// The options the flags ask for; a usage error message when they do not.
std::string ReadOptions(const Invocation& call, VerifyOptions& options) {
  options.sqlite_path = call.sqlite;
  options.pg = call.pg;
  options.progress_tty = call.terminal;
  options.repair = call.args.Has("repair");
  options.repair_dry_run = call.args.Has("dry-run");
  if (options.repair_dry_run && !options.repair) {
    return "--dry-run goes with --repair";
  }
  // A dry run writes nothing, not even the record of the run.
  options.record_run = !call.args.Has("no-record") && !options.repair_dry_run;
  if (std::string bad = ReadWindow(call.args, options); !bad.empty()) {
    return bad;
  }
  if (auto wait = call.args.Duration("outbox-wait"))
    options.outbox_wait = *wait;
  if (auto age = call.args.Duration("min-age")) options.min_age = *age;
  if (auto n = call.args.Count("max-samples")) {
    options.max_samples = static_cast<int>(*n);
  }
  if (auto n = call.args.Count("batch-rows")) {
    options.batch_rows = static_cast<int>(*n);
  }
  // The page charts the runs recorded before this one and this one.
  if (call.args.Has("html")) options.history_runs = kHtmlHistoryRuns;
  return "";
}

// Verifies; after a repair that changed rows, verifies the same window
// again, reporting only: that report is the one that counts, with what
// the repair did.
absl::StatusOr<VerifyReport> VerifyAndRepair(const VerifyOptions& options,
                                             Invocation& call) {
  auto report = RunVerify(options, call.err);
  if (!report.ok() || !options.repair || report->repaired == 0) return report;
  report->PrintSummary(call.out);
  call.out << "verify: repaired " << report->repaired
           << " row(s); verifying again\n";
  VerifyOptions again = options;
  again.repair = false;
  auto after = RunVerify(again, call.err);
  if (after.ok()) {
    after->repaired = report->repaired;
    after->repair_log = report->repair_log;
  }
  return after;
}

int Run(Invocation& call) {
  VerifyOptions options;
  if (std::string bad = ReadOptions(call, options); !bad.empty()) {
    return call.UsageError(bad);
  }
  auto report = VerifyAndRepair(options, call);
  int code = kExitUsage;  // could not run: never mistaken for "differences"
  if (!report.ok()) {
    call.Fail(report.status());
  } else {
    report->PrintSummary(call.out);
    if (!call.WriteReport("json", report->ToJson() + "\n") ||
        !call.WriteReport("html", VerifyReportHtml(*report))) {
      return kExitUsage;
    }
    code = report->clean() ? kExitOk : kExitFailed;
  }
  // The textfile says whether this run worked: a run that could not look
  // leaves up 0 (and its last success), never the last run's "clean".
  if (!call.WriteJobMetrics(
          "verify", report.ok(), call.ElapsedSeconds(),
          report.ok() ? report->ToPrometheus() : "",
          PromLabels({{"mode", VerifyModeName(options.mode)}}))) {
    return kExitUsage;
  }
  return code;
}

}  // namespace

Command VerifyCommand() {
  return {
      {.name = "verify",
       .summary = "compare the SQLite and Postgres stores and report "
                  "differences",
       .synopsis = "--sqlite PATH --pg DSN [--json FILE] [--html FILE] "
                   "[--prom FILE] "
                   "[--ids A-B | --since TIME | --incremental] [--repair "
                   "[--dry-run]]",
       .description =
           "Compares every trade in the SQLite store with Postgres, column "
           "by column and exactly, and reports rows missing on either side "
           "and rows that differ, with money totals per symbol and side. "
           "Legacy values are read with the backfill's rules; rows the "
           "backfill quarantined are counted, not reported. Each run is "
           "recorded in verification_runs.",
       .flags =
           {JsonFlag(), HtmlFlag(),
            TextFlag("prom", "FILE",
                     "write Prometheus metrics to FILE (node_exporter's "
                     "textfile collector)"),
            TextFlag("ids", "A-B", "only ids A to B (inclusive)"),
            TextFlag("since", "TIME",
                     "only rows changed at or after TIME (ISO 8601, UTC)"),
            BoolFlag("incremental",
                     "only rows changed since the last clean run"),
            DurationFlag("min-age",
                         "differences on rows changed this recently are read "
                         "again once they settle (default 5s)",
                         std::chrono::seconds(0), std::chrono::hours(1)),
            CountFlag("max-samples",
                      "list at most N ids per kind of difference (default "
                      "100; counts are always complete)",
                      0, 1'000'000),
            BoolFlag("repair",
                     "make the secondary store match the source of truth "
                     "(SQLite through read_postgres, Postgres in "
                     "postgres_only): version-guarded writes; rows only in "
                     "the secondary move to trades_quarantine; then verifies "
                     "again, and that run sets the exit code"),
            DryRunFlag("with --repair: list what it would change; change "
                       "nothing and record nothing"),
            DurationFlag("outbox-wait",
                         "differences on rows waiting in the dual-write "
                         "outbox are read again once it has drained; wait "
                         "at most this long (default 30s)",
                         std::chrono::seconds(0), std::chrono::hours(1)),
            BoolFlag("no-record",
                     "do not record the run in "
                     "verification_runs"),
            CountFlag("batch-rows",
                      "rows per chunk read from each store (default 15000; "
                      "memory grows with it)",
                      1000, 1'000'000)},
       .sqlite = true,
       .pg = true,
       .exit_codes = "0 the stores agree, 1 differences found, 2 usage error "
                     "or could not run."},
      Run};
}

}  // namespace tradestore::cli
