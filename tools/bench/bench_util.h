// Helpers for the end-to-end benchmarks: run a command as a child and
// measure its wall time and peak memory (ru_maxrss), the way a user would
// see them.
#ifndef TRADESTORE_TOOLS_BENCH_BENCH_UTIL_H_
#define TRADESTORE_TOOLS_BENCH_BENCH_UTIL_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tradestore/ops/local_postgres.h"
#include "tradestore/trade.h"

namespace tradestore::bench {

// Issue 25's large store: from this many rows, the backfill and verify
// benches also judge its time targets.
constexpr int64_t kLargeRows = 10'000'000;

struct Measured {
  int exit_code = -1;
  double seconds = 0;
  long peak_rss_kb = 0;
};

// A program built with the benchmarks, by its path relative to their
// directory (build/tools/bench).
std::string BuiltProgram(const std::string& relative);

// The tradestore CLI built beside this benchmark (build/tools/tradestore).
std::string TradestoreCli();

// Prints "<program>: <what>: <status>" and exits 2.
[[noreturn]] void Die(const std::string& program, const std::string& what,
                      const absl::Status& status);

// Once this process has ended, however it ended, a detached watchdog stops
// every HA stack (`stack down`), Postgres and PgBouncer that keeps its
// files under `dir` and removes `dir`: a benchmark that dies leaves nothing
// running.
void CleanUpWhenDone(const std::string& dir);

// A new directory /tmp/tradestore-<name>-XXXXXX that the postgres user can
// traverse, cleaned up by CleanUpWhenDone.
std::string BenchDir(const std::string& name);

// The benchmarks' Postgres sized as a deployment's would be, not as
// initdb leaves it: shared_buffers a quarter of the machine's memory, as
// Postgres's manual advises. At initdb's 128MB a 1M-row table and its key
// do not fit, and every scan, the baseline's and tradestore's alike, reads
// them back from the kernel.
LocalPostgresOptions ServerOptions();

// Runs argv with stdout and stderr appended to `log_path`.
Measured RunMeasured(const std::vector<std::string>& argv,
                     const std::string& log_path);

// The run with the median time (the upper middle one of an even count).
Measured Median(std::vector<Measured> runs);
// The median of figures (the upper middle one of an even count).
double Median(std::vector<double> figures);

// The n-th trade the insert benchmarks write: BTC-USD, sides alternating,
// eight-place decimals, now, client_order_id "<key_prefix>-<n>".
Trade BenchTrade(int64_t n, const std::string& key_prefix = "bench");

// Each run's seconds, "4.12 4.40 4.31", for the report.
std::string Seconds(const std::vector<Measured>& runs, int decimals = 2);

// The runs' spread, "4.12-4.40".
std::string Spread(const std::vector<Measured>& runs, int decimals = 2);

// "2 cores, load average 0.12 0.30 0.41 at start": how busy the machine
// was when the figures were taken, for every bench's report.
std::string MachineLine();

// One contender's line of a report: its median time, peak memory (-1: not
// measured), spread and every round.
std::string RowLine(const std::string& what, const Measured& median,
                    const std::vector<Measured>& runs, long peak_mb,
                    int decimals = 2);

// Reads the arguments as "--flag value" pairs, each passed to `take`, which
// returns false for an unknown flag or a bad value; a flag in `switches`
// takes no value and is passed with "". --help or -h prints `usage` and
// exits 0; a flag without its value, or one `take` refuses, prints it to
// stderr and exits 2: a bench never runs on arguments it did not read.
void ParseFlagPairs(int argc, char** argv, const std::string& usage,
                    const std::function<bool(const std::string& flag,
                                             const std::string& value)>& take,
                    const std::vector<std::string>& switches = {});

// A target's verdict for the report: "met" or "NOT met".
const char* Verdict(bool met);

}  // namespace tradestore::bench

#endif  // TRADESTORE_TOOLS_BENCH_BENCH_UTIL_H_
