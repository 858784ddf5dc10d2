// tradestore loadgen: realistic trades through the embedded store.
#include <ostream>

#include "absl/strings/numbers.h"
#include "tradestore/cli/cli.h"
#include "tradestore/cli/flags.h"
#include "tradestore/cli/output.h"
#include "tradestore/migration/loadgen.h"
#include "tradestore/internal/progress.h"

namespace tradestore::cli {
namespace {

const std::vector<FlagSpec>& LoadgenFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      SqliteFlag(),
      PgFlag(),
      {"rate", "N", "writes per second, inserts and updates (default 1000)"},
      {"duration", "DURATION", "how long to write (default 10s)"},
      {"threads", "N", "writer threads (default 2)"},
      {"json", "FILE", "write the report as JSON to FILE (atomically)"},
      {"ack-log", "FILE",
       "append \"ID VERSION\" per acknowledged write, as it is acknowledged"},
      {"drain-timeout", "DURATION",
       "wait at most this long for the outbox to drain at the end "
       "(default 30s)"},
      {"sync", "", "synchronous dual-write: each write waits for Postgres"},
      {"no-relay", "",
       "leave the outbox to a `tradestore relay` running beside it"},
      {"deadline", "SECONDS",
       "give up reaching Postgres after this long (default 30)"},
      HelpFlag(),
  };
  return *flags;
}

void LoadgenUsage(std::ostream& os) {
  os << "usage: tradestore loadgen --sqlite PATH --pg DSN --rate N "
        "--duration D\n"
        "         [--json FILE] [--ack-log FILE] [--drain-timeout D] "
        "[--sync]\n\n"
        "Writes realistic trades (new trades and status updates of recent\n"
        "ones) through the embedded store, in whatever phase is set; creates\n"
        "the SQLite store when it does not exist. At the end it drains the\n"
        "outbox and reports latencies and the outbox lag.\n\n"
        "Exit codes: 0 every write acknowledged and the outbox drained,\n"
        "1 failed writes or the outbox did not drain, 2 usage error or could\n"
        "not run.\n\nflags:\n"
     << FlagHelp(LoadgenFlags());
}

int Usage(std::ostream& err, absl::string_view message) {
  err << "tradestore loadgen: " << message << "\n\n";
  LoadgenUsage(err);
  return kExitUsage;
}

}  // namespace

int RunLoadgenCommand(const std::vector<std::string>& args, std::ostream& out,
                      std::ostream& err) {
  auto parsed = ParseFlags(args, LoadgenFlags());
  if (!parsed.ok()) return Usage(err, parsed.status().message());
  if (!parsed->positional.empty()) {
    return Usage(err, "unexpected argument " + parsed->positional[0]);
  }
  if (parsed->Has("help")) {
    LoadgenUsage(out);
    return kExitOk;
  }
  auto sqlite = SqlitePathFrom(*parsed);
  if (!sqlite.ok()) return Usage(err, sqlite.status().message());
  LoadgenOptions options;
  options.store.sqlite_path = *sqlite;
  options.store.pg.dsn = PgDsnFrom(*parsed);
  options.store.synchronous = parsed->Has("sync");
  options.store.run_relay = !parsed->Has("no-relay");
  options.store.log = &err;
  options.ack_log = parsed->Get("ack-log").value_or("");
  options.progress_tty = StderrIsTerminal();
  if (auto rate = parsed->Get("rate");
      rate && (!absl::SimpleAtod(*rate, &options.rate) || !(options.rate > 0))) {
    return Usage(err, "--rate: \"" + *rate + "\" is not a positive number");
  }
  if (auto threads = parsed->Get("threads");
      threads && (!absl::SimpleAtoi(*threads, &options.threads) ||
                  options.threads < 1 || options.threads > 64)) {
    return Usage(err, "--threads: \"" + *threads + "\" is not in 1..64");
  }
  for (absl::Status s :
       {DurationFrom(*parsed, "duration", &options.duration),
        DurationFrom(*parsed, "drain-timeout", &options.drain_timeout),
        DeadlineFrom(*parsed, &options.store.pg.backoff.deadline)}) {
    if (!s.ok()) return Usage(err, s.message());
  }
  if (options.duration.count() <= 0) return Usage(err, "--duration must be > 0");

  auto report = RunLoadgen(options, err);
  if (!report.ok()) {
    err << "tradestore loadgen: " << report.status().message() << "\n";
    return kExitUsage;
  }
  PrintLoadgenSummary(*report, out);
  if (auto json = parsed->Get("json")) {
    if (absl::Status s = WriteReport(*json, LoadgenJson(*report), out, *sqlite);
        !s.ok()) {
      err << "tradestore loadgen: " << s.message() << "\n";
      return kExitUsage;
    }
  }
  return report->failed == 0 && report->drained ? kExitOk : kExitFailed;
}

}  // namespace tradestore::cli
