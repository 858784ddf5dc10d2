// tradestore loadgen: realistic trades through the embedded store.
#include "tradestore/cli/cli.h"
#include "tradestore/cli/command.h"
#include "tradestore/migration/loadgen.h"

namespace tradestore::cli {
namespace {

int Run(Invocation& call) {
  LoadgenOptions options;
  options.store.sqlite_path = call.sqlite;
  options.store.pg = call.pg;
  options.store.synchronous = call.args.Has("sync");
  options.store.run_relay = !call.args.Has("no-relay");
  options.store.log = &call.err;
  options.ack_log = call.args.Get("ack-log").value_or("");
  options.progress_tty = call.terminal;
  if (auto rate = call.args.Count("rate")) {
    options.rate = static_cast<double>(*rate);
  }
  if (auto threads = call.args.Count("threads")) {
    options.threads = static_cast<int>(*threads);
  }
  if (auto d = call.args.Duration("duration")) options.duration = *d;
  if (auto d = call.args.Duration("drain-timeout")) options.drain_timeout = *d;
  auto report = RunLoadgen(options, call.err);
  if (!report.ok()) return call.Fail(report.status()), kExitUsage;
  PrintLoadgenSummary(*report, call.out);
  if (!call.WriteReport("json", LoadgenJson(*report))) return kExitUsage;
  return report->failed == 0 && report->drained ? kExitOk : kExitFailed;
}

}  // namespace

FlagSpec DrainTimeoutFlag() {
  return DurationFlag("drain-timeout",
                      "wait at most this long for the outbox to drain at the "
                      "end (default 5m)",
                      std::chrono::seconds(0), std::chrono::hours(24));
}

Command LoadgenCommand() {
  return {
      {.name = "loadgen",
       .summary = "write realistic trades through the embedded store",
       .synopsis = "--sqlite PATH --pg DSN [--rate N] [--duration D] "
                   "[--json FILE] [--ack-log FILE] [--sync]",
       .description =
           "Writes realistic trades (new trades and status updates of recent "
           "ones) through the embedded store, in whatever phase is set; "
           "creates the SQLite store when it does not exist. At the end it "
           "drains the outbox and reports latencies and the outbox lag.",
       .flags =
           {CountFlag("rate",
                      "writes per second, inserts and updates (default 1000)",
                      1, 1'000'000),
            DurationFlag("duration", "how long to write (default 10s)",
                         std::chrono::milliseconds(1), std::chrono::hours(24)),
            CountFlag("threads", "writer threads (default 2)", 1, 64),
            JsonFlag(),
            TextFlag("ack-log", "FILE",
                     "append \"ID VERSION\" per acknowledged write, as it is "
                     "acknowledged"),
            DrainTimeoutFlag(),
            BoolFlag("sync",
                     "synchronous dual-write: each write waits for Postgres"),
            BoolFlag("no-relay",
                     "leave the outbox to a `tradestore relay` "
                     "running beside it")},
       .sqlite = true,
       .pg = true,
       .exit_codes = "0 every write acknowledged and the outbox drained, 1 "
                     "failed writes or the outbox did not drain, 2 usage "
                     "error or could not run."},
      Run};
}

}  // namespace tradestore::cli
