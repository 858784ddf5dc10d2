// tradestore verify: compare the two stores and report every difference.
#include <ostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "tradestore/cli/cli.h"
#include "tradestore/cli/flags.h"
#include "tradestore/cli/output.h"
#include "tradestore/internal/progress.h"
#include "tradestore/verify/verifier.h"

namespace tradestore::cli {
namespace {

const std::vector<FlagSpec>& VerifyFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      SqliteFlag(),
      PgFlag(),
      {"json", "FILE", "write the report as JSON to FILE (atomically)"},
      {"prom", "FILE",
       "write Prometheus metrics to FILE (atomically; node_exporter textfile)"},
      {"ids", "A-B", "only ids A to B (inclusive)"},
      {"since", "TIME", "only rows changed at or after TIME (ISO 8601, UTC)"},
      {"incremental", "", "only rows changed since the last clean run"},
      {"min-age", "SECONDS",
       "differences on rows changed this recently are read again once they "
       "settle (default 5)"},
      {"max-samples", "N",
       "list at most N ids per kind of difference (default 100; counts are "
       "always complete)"},
      {"repair", "",
       "make the secondary store match the source of truth (SQLite through "
       "read_postgres, Postgres in postgres_only): version-guarded writes; "
       "rows only in the secondary move to trades_quarantine"},
      {"outbox-wait", "DURATION",
       "differences on rows waiting in the dual-write outbox are read again "
       "once it has drained; wait at most this long (default 30s)"},
      {"no-record", "", "do not record the run in verification_runs"},
      {"batch-rows", "N",
       "rows per chunk read from each store (default 15000; memory grows "
       "with it)"},
      {"deadline", "SECONDS",
       "give up reaching Postgres after this long (default 30)"},
      HelpFlag(),
  };
  return *flags;
}

void VerifyUsage(std::ostream& os) {
  os << "usage: tradestore verify --sqlite PATH --pg DSN [--json FILE] "
        "[--prom FILE]\n"
        "         [--ids A-B | --since TIME | --incremental] [--repair]\n\n"
        "Compares every trade in the SQLite store with Postgres, column by\n"
        "column and exactly, and reports rows missing on either side and rows\n"
        "that differ, with money totals per symbol and side. Legacy values are\n"
        "read with the backfill's rules; rows the backfill quarantined are\n"
        "counted, not reported. Each run is recorded in verification_runs.\n\n"
        "Exit codes: 0 the stores agree, 1 differences found, 2 usage error\n"
        "or could not run.\n\nflags:\n"
     << FlagHelp(VerifyFlags());
}

int Usage(std::ostream& err, absl::string_view message) {
  err << "tradestore verify: " << message << "\n\n";
  VerifyUsage(err);
  return kExitUsage;
}

}  // namespace

int RunVerifyCommand(const std::vector<std::string>& args, std::ostream& out,
                     std::ostream& err) {
  auto parsed = ParseFlags(args, VerifyFlags());
  if (!parsed.ok()) return Usage(err, parsed.status().message());
  if (!parsed->positional.empty()) {
    return Usage(err, "unexpected argument " + parsed->positional[0]);
  }
  if (parsed->Has("help")) {
    VerifyUsage(out);
    return kExitOk;
  }
  auto sqlite = SqlitePathFrom(*parsed);
  if (!sqlite.ok()) return Usage(err, sqlite.status().message());
  VerifyOptions options;
  options.sqlite_path = *sqlite;
  options.pg.dsn = PgDsnFrom(*parsed);
  if (absl::Status w = DurationFrom(*parsed, "outbox-wait", &options.outbox_wait);
      !w.ok()) {
    return Usage(err, w.message());
  }
  options.progress_tty = StderrIsTerminal();
  options.repair = parsed->Has("repair");
  options.record_run = !parsed->Has("no-record");
  int windows = 0;
  if (auto ids = parsed->Get("ids")) {
    ++windows;
    std::vector<std::string> parts = absl::StrSplit(*ids, '-');
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &options.id_from) ||
        !absl::SimpleAtoi(parts[1], &options.id_to) || options.id_from < 1 ||
        options.id_to < options.id_from) {
      return Usage(err, "--ids: \"" + *ids + "\" is not a range A-B of ids");
    }
    options.mode = VerifyMode::kIds;
  }
  if (auto since = parsed->Get("since")) {
    ++windows;
    auto t = Timestamp::Parse(*since);
    if (!t.ok()) return Usage(err, "--since: " + std::string(t.status().message()));
    options.since = *t;
    options.mode = VerifyMode::kSince;
  }
  if (parsed->Has("incremental")) {
    ++windows;
    options.mode = VerifyMode::kIncremental;
  }
  if (windows > 1) {
    return Usage(err, "--ids, --since and --incremental exclude each other");
  }
  if (auto age = parsed->Get("min-age")) {
    double seconds = 0;
    if (!absl::SimpleAtod(*age, &seconds) || seconds < 0 || seconds > 3600) {
      return Usage(err, "--min-age: \"" + *age + "\" is not 0..3600 seconds");
    }
    options.min_age =
        std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6));
  }
  if (auto n = parsed->Get("max-samples")) {
    if (!absl::SimpleAtoi(*n, &options.max_samples) || options.max_samples < 0) {
      return Usage(err, "--max-samples: \"" + *n + "\" is not a count");
    }
  }
  if (auto n = parsed->Get("batch-rows")) {
    if (!absl::SimpleAtoi(*n, &options.batch_rows) ||
        options.batch_rows < 1000 || options.batch_rows > 1000000) {
      return Usage(err, "--batch-rows: \"" + *n + "\" is not 1000..1000000");
    }
  }
  if (auto s = DeadlineFrom(*parsed, &options.pg.backoff.deadline); !s.ok()) {
    return Usage(err, s.message());
  }
  auto report = RunVerify(options, err);
  if (!report.ok()) {
    err << "tradestore verify: " << report.status().message() << "\n";
    return kExitUsage;  // could not run: never mistaken for "differences"
  }
  report->PrintSummary(out);
  for (const auto& [flag, text] :
       {std::pair{"json", report->ToJson() + "\n"},
        std::pair{"prom", report->ToPrometheus()}}) {
    if (auto path = parsed->Get(flag)) {
      if (auto s = WriteReport(*path, text, out, *sqlite); !s.ok()) {
        err << "tradestore verify: " << s.message() << "\n";
        return kExitUsage;
      }
    }
  }
  return report->clean() ? kExitOk : kExitFailed;
}

}  // namespace tradestore::cli
