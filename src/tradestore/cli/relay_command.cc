// tradestore relay: apply the dual-write outbox to Postgres, for operators
// (the embedding service runs the same relay on a thread of its own).
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "tradestore/cli/cli.h"
#include "tradestore/cli/command.h"
#include "tradestore/cli/stop_signals.h"
#include "tradestore/clock.h"
#include "tradestore/internal/prom_text.h"
#include "tradestore/migration/loadgen.h"
#include "tradestore/migration/outbox_relay.h"
#include "tradestore/postgres/pg_mirror.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore::cli {
namespace {

std::string StatsLine(const RelayStats& s, const OutboxStatus& left) {
  return absl::StrFormat(
      "applied %d entries (%d rows written, %d already there, %d "
      "quarantined); %d waiting; %d failed rounds",
      s.entries_applied, s.rows_written, s.rows_skipped, s.rows_quarantined,
      left.entries, s.failures);
}

// mode="service" for a relay that runs until stopped, "once" for
// --until-drained: alerts watch the service's freshness only.
std::string RelayLabels(const Invocation& call) {
  return PromLabels(
      {{"mode", call.args.Has("until-drained") ? "once" : "service"}});
}

// The run's counts, for the --prom textfile beside the job metrics.
std::string RelayFigures(const RelayStats& stats, int64_t left,
                         const std::string& labels) {
  return PromText()
      .Gauge("tradestore_relay_entries_applied",
             "Outbox entries the run applied (so far, while it runs).",
             stats.entries_applied, labels)
      .Gauge("tradestore_relay_failed_rounds",
             "Rounds of the run that failed (Postgres unreachable).",
             stats.failures, labels)
      .Gauge("tradestore_relay_outbox_left",
             "Outbox entries waiting (-1: unknown).", left, labels)
      .Take();
}

// Runs the relay until SIGINT or SIGTERM, logging its counts and
// refreshing its --prom textfile every 10 s: up 1 while no round failed
// since the last refresh, so an alert sees a relay that is stuck or gone.
void RunUntilStopped(OutboxRelay& relay, SqliteTradeStore& sqlite,
                     Invocation& call) {
  Clock* clock = Clock::Real();
  const StopSignals signals;
  relay.Start();
  auto last_log = clock->Monotonic();
  int64_t failures = 0;
  while (!signals.stopped()) {
    clock->SleepFor(std::chrono::milliseconds(200));
    if (clock->Monotonic() - last_log >= std::chrono::seconds(10)) {
      last_log = clock->Monotonic();
      auto left = sqlite.GetOutboxStatus();
      const RelayStats stats = relay.stats();
      call.err << "tradestore relay: "
               << StatsLine(stats, left.value_or(OutboxStatus())) << "\n";
      const std::string labels = RelayLabels(call);
      (void)call.WriteJobMetrics(
          "relay", stats.failures == failures && left.ok(),
          call.ElapsedSeconds(),
          RelayFigures(stats, left.ok() ? left->entries : -1, labels), labels);
      failures = stats.failures;
    }
  }
  relay.Stop();
}

int Run(Invocation& call) {
  PgOptions pg = call.pg;
  pg.connect_at_open = false;  // Postgres may be down: retry, not refuse
  RelayOptions relay_options;
  if (auto rows = call.args.Count("batch-rows")) {
    relay_options.batch_rows = static_cast<int>(*rows);
  }
  auto sqlite = SqliteTradeStore::Open({.path = call.sqlite,
                                        .create_if_missing = false,
                                        .reader_connections = 1});
  const auto could_not_run = [&](const absl::Status& why) {
    (void)call.WriteJobMetrics("relay", false, call.ElapsedSeconds(), "",
                               RelayLabels(call));
    return call.Fail(why), kExitUsage;
  };
  if (!sqlite.ok()) return could_not_run(sqlite.status());
  auto pool = PgPool::Create(pg);
  if (!pool.ok()) return could_not_run(pool.status());
  PgMirror mirror(pool->get());
  OutboxRelay relay(sqlite->get(), &mirror, relay_options);
  call.err << "tradestore relay: " << call.sqlite << " -> "
           << (*pool)->masked_dsn() << "\n";
  int code = kExitOk;
  if (call.args.Has("until-drained")) {
    absl::Status drained = relay.Drain(
        call.args.Duration("drain-timeout").value_or(std::chrono::minutes(5)));
    if (!drained.ok()) {
      call.err << "tradestore relay: " << drained.message() << "\n";
      code = kExitFailed;
    }
  } else {
    RunUntilStopped(relay, **sqlite, call);
  }
  RelayStats stats = relay.stats();
  auto left = (*sqlite)->GetOutboxStatus();
  call.out << "relay: " << StatsLine(stats, left.value_or(OutboxStatus()))
           << "\n";
  if (!stats.last_error.empty() && code != kExitOk) {
    call.out << "  last error: " << stats.last_error << "\n";
  }
  const Percentiles lag = PercentilesOf(stats.lag_us);
  const nlohmann::json j = {{"entries_applied", stats.entries_applied},
                            {"rows_written", stats.rows_written},
                            {"rows_skipped", stats.rows_skipped},
                            {"rows_quarantined", stats.rows_quarantined},
                            {"failed_rounds", stats.failures},
                            {"replays", stats.replays},
                            {"last_error", stats.last_error},
                            {"outbox_left", left.ok() ? left->entries : -1},
                            {"drained", code == kExitOk},
                            {"lag_p99_ms", lag.p99_us / 1000.0}};
  const std::string labels = RelayLabels(call);
  if (!call.WriteReport("json", j.dump(2) + "\n") ||
      !call.WriteJobMetrics(
          "relay", code == kExitOk, call.ElapsedSeconds(),
          RelayFigures(stats, left.ok() ? left->entries : -1, labels),
          labels)) {
    return kExitUsage;
  }
  return code;
}

}  // namespace

Command RelayCommand() {
  return {
      {.name = "relay",
       .summary = "apply the dual-write outbox to Postgres",
       .synopsis = "--sqlite PATH --pg DSN [--until-drained] "
                   "[--drain-timeout D] [--batch-rows N] [--json FILE] "
                   "[--prom FILE]",
       .description =
           "Applies the dual-write outbox of the SQLite store to Postgres: "
           "version-guarded upserts by id, so running it beside the "
           "service's own relay, or again after a crash, is harmless. While "
           "Postgres is down it backs off and retries. Run as a service, it "
           "refreshes its --prom file every 10 s (up 0 after a failed "
           "round).",
       .flags = {BoolFlag("until-drained",
                          "apply what the outbox holds, then exit (else run "
                          "until SIGTERM)"),
                 DrainTimeoutFlag(),
                 CountFlag("batch-rows", "entries per round (default 5000)", 1,
                           1'000'000),
                 JsonFlag("write the final counts as JSON to FILE (\"-\": "
                          "standard output)"),
                 PromFlag()},
       .sqlite = true,
       .pg = true,
       .exit_codes = "0 drained (or stopped by a signal), 1 not drained "
                     "within --drain-timeout, 2 usage error or could not "
                     "run."},
      Run};
}

}  // namespace tradestore::cli
