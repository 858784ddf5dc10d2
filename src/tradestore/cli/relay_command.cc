// tradestore relay: apply the dual-write outbox to Postgres, for operators
// (the embedding service runs the same relay on a thread of its own).
#include <csignal>
#include <ostream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "tradestore/cli/cli.h"
#include "tradestore/cli/flags.h"
#include "tradestore/cli/output.h"
#include "tradestore/migration/loadgen.h"
#include "tradestore/migration/outbox_relay.h"
#include "tradestore/postgres/pg_mirror.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore::cli {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void OnStopSignal(int) { g_stop = true; }

const std::vector<FlagSpec>& RelayFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      SqliteFlag(),
      PgFlag(),
      {"until-drained", "",
       "apply what the outbox holds, then exit (else run until SIGTERM)"},
      {"drain-timeout", "DURATION",
       "with --until-drained: give up after this long (default 5m)"},
      {"batch-rows", "N", "entries per round (default 5000)"},
      {"json", "FILE", "write the final counts as JSON to FILE"},
      {"deadline", "SECONDS",
       "per-round retry deadline towards Postgres (default 30)"},
      HelpFlag(),
  };
  return *flags;
}

void RelayUsage(std::ostream& os) {
  os << "usage: tradestore relay --sqlite PATH --pg DSN [--until-drained]\n"
        "         [--drain-timeout D] [--batch-rows N] [--json FILE]\n\n"
        "Applies the dual-write outbox of the SQLite store to Postgres:\n"
        "version-guarded upserts by id, so running it beside the service's\n"
        "own relay, or again after a crash, is harmless. While Postgres is\n"
        "down it backs off and retries.\n\n"
        "Exit codes: 0 drained (or stopped by a signal), 1 not drained\n"
        "within --drain-timeout, 2 usage error or could not run.\n\nflags:\n"
     << FlagHelp(RelayFlags());
}

int Usage(std::ostream& err, absl::string_view message) {
  err << "tradestore relay: " << message << "\n\n";
  RelayUsage(err);
  return kExitUsage;
}

std::string StatsLine(const RelayStats& s, const OutboxStatus& left) {
  return absl::StrFormat(
      "applied %d entries (%d rows written, %d already there, %d "
      "quarantined); %d waiting; %d failed rounds",
      s.entries_applied, s.rows_written, s.rows_skipped, s.rows_quarantined,
      left.entries, s.failures);
}

}  // namespace

int RunRelayCommand(const std::vector<std::string>& args, std::ostream& out,
                    std::ostream& err) {
  auto parsed = ParseFlags(args, RelayFlags());
  if (!parsed.ok()) return Usage(err, parsed.status().message());
  if (!parsed->positional.empty()) {
    return Usage(err, "unexpected argument " + parsed->positional[0]);
  }
  if (parsed->Has("help")) {
    RelayUsage(out);
    return kExitOk;
  }
  auto path = SqlitePathFrom(*parsed);
  if (!path.ok()) return Usage(err, path.status().message());
  PgOptions pg;
  pg.dsn = PgDsnFrom(*parsed);
  pg.connect_at_open = false;  // Postgres may be down: retry, not refuse
  RelayOptions relay_options;
  std::chrono::milliseconds drain_timeout = std::chrono::minutes(5);
  for (absl::Status s : {DurationFrom(*parsed, "drain-timeout", &drain_timeout),
                         DeadlineFrom(*parsed, &pg.backoff.deadline)}) {
    if (!s.ok()) return Usage(err, s.message());
  }
  if (auto rows = parsed->Get("batch-rows");
      rows && (!absl::SimpleAtoi(*rows, &relay_options.batch_rows) ||
               relay_options.batch_rows < 1)) {
    return Usage(err, "--batch-rows: \"" + *rows + "\" is not a positive count");
  }
  auto sqlite = SqliteTradeStore::Open(
      {.path = *path, .create_if_missing = false, .reader_connections = 1});
  if (!sqlite.ok()) {
    err << "tradestore relay: " << sqlite.status().message() << "\n";
    return kExitUsage;
  }
  auto pool = PgPool::Create(pg);
  if (!pool.ok()) {
    err << "tradestore relay: " << pool.status().message() << "\n";
    return kExitUsage;
  }
  PgMirror mirror(pool->get());
  OutboxRelay relay(sqlite->get(), &mirror, relay_options);
  err << "tradestore relay: " << (*path) << " -> " << (*pool)->masked_dsn()
      << "\n";

  int code = kExitOk;
  if (parsed->Has("until-drained")) {
    absl::Status drained = relay.Drain(drain_timeout);
    if (!drained.ok()) {
      err << "tradestore relay: " << drained.message() << "\n";
      code = kExitFailed;
    }
  } else {
    g_stop = false;
    auto old_int = std::signal(SIGINT, OnStopSignal);
    auto old_term = std::signal(SIGTERM, OnStopSignal);
    relay.Start();
    auto last_log = std::chrono::steady_clock::now();
    while (!g_stop) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (std::chrono::steady_clock::now() - last_log >= std::chrono::seconds(10)) {
        last_log = std::chrono::steady_clock::now();
        auto left = (*sqlite)->GetOutboxStatus();
        err << "tradestore relay: "
            << StatsLine(relay.stats(), left.value_or(OutboxStatus())) << "\n";
      }
    }
    relay.Stop();
    std::signal(SIGINT, old_int);
    std::signal(SIGTERM, old_term);
  }
  RelayStats stats = relay.stats();
  auto left = (*sqlite)->GetOutboxStatus();
  out << "relay: " << StatsLine(stats, left.value_or(OutboxStatus())) << "\n";
  if (!stats.last_error.empty() && code != kExitOk) {
    out << "  last error: " << stats.last_error << "\n";
  }
  if (auto json = parsed->Get("json")) {
    const Percentiles lag = PercentilesOf(stats.lag_us);
    nlohmann::json j = {{"entries_applied", stats.entries_applied},
                        {"rows_written", stats.rows_written},
                        {"rows_skipped", stats.rows_skipped},
                        {"rows_quarantined", stats.rows_quarantined},
                        {"failed_rounds", stats.failures},
                        {"last_error", stats.last_error},
                        {"outbox_left", left.ok() ? left->entries : -1},
                        {"drained", code == kExitOk},
                        {"lag_p99_ms", lag.p99_us / 1000.0}};
    if (absl::Status s = WriteReport(*json, j.dump(2) + "\n", out, *path); !s.ok()) {
      err << "tradestore relay: " << s.message() << "\n";
      return kExitUsage;
    }
  }
  return code;
}

}  // namespace tradestore::cli
