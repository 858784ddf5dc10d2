// Verify benchmark: in one run, on the same throwaway PostgreSQL and the
// same store (generated legacy rows, backfilled, untimed),
//   1. tradestore verify, full (the real CLI, as a child: time, peak RSS);
//   2. the hand-made way: export both stores to CSV in one canonical form,
//      in parallel (sqlite3 and psql \copy), then compare the two files
//      with cmp, which must find them equal;
//   3. tradestore verify --incremental after 1,000 changed rows.
// Full verify and the hand-made way take turns for --repeat rounds (3 by
// default), the incremental run goes 2 x repeat - 1 times; each figure is
// the median (one run of the same work varies by 10-15% here). Prints a
// table and, with --json FILE, the figures as JSON.
//
//   build/tools/bench/verify_bench --rows 1000000 [--repeat 3] [--json FILE]
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench_util.h"
#include "nlohmann/json.hpp"
#include "tradestore/ops/local_postgres.h"
#include "tradestore/sqlite/legacy_generator.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace {

void Die(const std::string& what, const absl::Status& s) {
  tradestore::bench::Die("verify_bench", what, s);
}

// The hand-made way's one canonical form, which both exports print byte for
// byte the same for equal rows, so cmp proves them equal (the bench checks
// that it does): id, symbol, upper-case side, decimals with 8 places, the
// timestamp in UTC as "YYYY-MM-DD HH:MM:SS.ffffff", status. The SQLite side
// is written for the forms GenerateLegacyStore writes, as such a script
// would be, and as cheap as we found: REAL decimals rounded by printf like
// the backfill, INTEGER ones padded, text ones as they are; timestamps by
// their length or epoch magnitude (legacy_row.h's rule). Both go into a
// double-quoted shell argument, hence the Postgres side's \" around timestamp.
constexpr const char* kCanonicalSqlite =
    "SELECT id, symbol, upper(side), "
    "CASE typeof(quantity) WHEN 'real' THEN printf('%.8f', quantity) "
    "WHEN 'integer' THEN quantity || '.00000000' "
    "ELSE CAST(quantity AS TEXT) END, "
    "CASE typeof(price) WHEN 'real' THEN printf('%.8f', price) "
    "WHEN 'integer' THEN price || '.00000000' ELSE CAST(price AS TEXT) END, "
    "CASE typeof(timestamp) WHEN 'integer' THEN "
    "CASE WHEN abs(timestamp) >= 100000000000 THEN "
    "strftime('%Y-%m-%d %H:%M:%S', timestamp / 1000, 'unixepoch') || "
    "printf('.%06d', timestamp % 1000 * 1000) "
    "ELSE strftime('%Y-%m-%d %H:%M:%S', timestamp, 'unixepoch') || "
    "'.000000' END "
    "WHEN 'text' THEN CASE length(timestamp) WHEN 26 THEN timestamp "
    "WHEN 27 THEN replace(substr(timestamp, 1, 26), 'T', ' ') "
    "ELSE replace(substr(timestamp, 1, 19), 'T', ' ') || '.000000' END END, "
    "status FROM trades ORDER BY id";
constexpr const char* kCanonicalPostgres =
    "SELECT id, symbol, side, quantity, price, "
    "to_char(\\\"timestamp\\\" AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD HH24:MI:SS.US'), status FROM trades ORDER BY id";

}  // namespace

int main(int argc, char** argv) {
  using namespace tradestore;
  using namespace tradestore::bench;
  int64_t rows = 1000000;
  std::string json_path;
  std::string log = "verify_bench.log";
  bool baseline = true;
  int repeat = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--rows" && i + 1 < argc) {
      if (!absl::SimpleAtoi(argv[++i], &rows)) return 2;
    } else if (arg == "--json" && i + 1 < argc) {
      json_path = argv[++i];
    } else if (arg == "--log" && i + 1 < argc) {
      log = argv[++i];
    } else if (arg == "--no-baseline") {
      baseline = false;
    } else if (arg == "--repeat" && i + 1 < argc) {
      if (!absl::SimpleAtoi(argv[++i], &repeat) || repeat < 1) return 2;
    } else {
      std::cerr << "usage: verify_bench [--rows N] [--repeat ROUNDS] "
                   "[--json FILE] [--log FILE] [--no-baseline]\n";
      return arg == "--help" ? 0 : 2;
    }
  }
  const std::string cli = TradestoreCli();
  auto pg = LocalPostgres::Start({});
  if (!pg.ok()) Die("postgres", pg.status());
  const std::string dir = (*pg)->dir() + "/bench";
  std::filesystem::create_directories(dir);
  std::filesystem::remove(log);
  const std::string sqlite_path = dir + "/trade_store.db";
  std::cerr << "generating " << rows << " legacy rows and backfilling...\n";
  if (auto made = GenerateLegacyStore({.path = sqlite_path, .rows = rows});
      !made.ok()) {
    Die("generate", made.status());
  }
  auto dsn = (*pg)->CreateDatabase("bench_verify");
  if (!dsn.ok()) Die("createdb", dsn.status());
  if (RunMeasured({cli, "backfill", "--sqlite", sqlite_path, "--pg", *dsn}, log)
          .exit_code != 0) {
    std::cerr << "backfill failed; see " << log << "\n";
    return 2;
  }

  // Settle the freshly loaded table (hint bits, visibility map, statistics)
  // the way autovacuum would, so verify and the baseline read the same
  // state: the first reader after a bulk load otherwise pays for it alone.
  if (auto v = (*pg)->Psql("bench_verify", "VACUUM ANALYZE trades"); !v.ok()) {
    Die("vacuum", v.status());
  }

  // Full verify and the hand-made way take turns, round after round, so a
  // slow spell of the machine hits both; each figure is the median.
  std::vector<Measured> fulls, hands, incrementals;
  for (int round = 1; round <= repeat; ++round) {
    std::cerr << "round " << round << " of " << repeat
              << ": tradestore verify (full)...\n";
    fulls.push_back(RunMeasured({cli, "verify", "--sqlite", sqlite_path, "--pg",
                                 *dsn, "--json", dir + "/full.json"},
                                log));
    if (!baseline) continue;
    std::cerr << "round " << round << ": hand-made export and compare...\n";
    const std::string script =
        absl::StrCat("set -e; cd '", dir,
                     "'; "
                     "sqlite3 -list -separator , trade_store.db \"",
                     kCanonicalSqlite,
                     "\" > sqlite.csv & s=$!; "
                     "psql -X -q -d '",
                     *dsn, "' -c \"\\copy (", kCanonicalPostgres,
                     ") TO 'postgres.csv' CSV\" & p=$!; "
                     "wait $s; wait $p; cmp -s sqlite.csv postgres.csv");
    hands.push_back(RunMeasured({"bash", "-c", script}, log));
  }
  const Measured full = Median(fulls);
  const Measured hand = Median(hands);
  long peak_kb = 0;
  for (const Measured& m : fulls) peak_kb = std::max(peak_kb, m.peak_rss_kb);

  std::cerr << "1,000 changes, then tradestore verify --incremental...\n";
  {
    auto store = SqliteTradeStore::Open({.path = sqlite_path});
    if (!store.ok()) Die("open", store.status());
    for (int i = 0; i < 1000; ++i) {
      Trade t;
      t.symbol = "BENCH";
      t.side = Side::kBuy;
      t.quantity = *Decimal::Parse("1.5");
      t.price = *Decimal::Parse("100.25");
      t.timestamp = *Timestamp::Parse("2026-01-01T00:00:00Z");
      if (auto r = (*store)->Insert(t); !r.ok()) Die("insert", r.status());
    }
  }
  // --no-record: every round checks the same 1,000 changes.
  for (int round = 1; round <= 2 * repeat - 1; ++round) {
    incrementals.push_back(
        RunMeasured({cli, "verify", "--sqlite", sqlite_path, "--pg", *dsn,
                     "--incremental", "--min-age", "0", "--no-record"},
                    log));
  }
  const Measured incremental = Median(incrementals);

  std::cout << absl::StrFormat(
      "verify benchmark, %d rows (PostgreSQL 15), medians\n"
      "  %-34s %8s %12s   %s\n"
      "  %-34s %7.3fs %9ld MB   %s\n"
      "  %-34s %7.3fs %12s   %s\n"
      "  %-34s %7.3fs %9ld MB   %s\n",
      rows, "", "time", "peak memory", "rounds", "tradestore verify (full)",
      full.seconds, peak_kb / 1024, Seconds(fulls),
      "hand-made export + compare", hand.seconds, "-", Seconds(hands),
      "tradestore verify --incremental", incremental.seconds,
      incremental.peak_rss_kb / 1024, Seconds(incrementals, 3));
  if (baseline) {
    std::cout << absl::StrFormat(
        "  full / hand-made = %.2f (target <= 0.5), incremental / full = "
        "1/%.0f (target <= 1/50), peak %ld MB (target < 100)\n",
        full.seconds / hand.seconds, full.seconds / incremental.seconds,
        peak_kb / 1024);
  }
  const bool hands_equal =
      std::all_of(hands.begin(), hands.end(),
                  [](const Measured& m) { return m.exit_code == 0; });
  if (!hands_equal) {
    std::cerr << "the hand-made exports failed or differ (cmp); see " << log
              << "\n";
  }
  // verify exits 0 clean; the incremental run sees the 1,000 new rows as
  // missing in Postgres (nothing relays them here), so it exits 1.
  if (full.exit_code != 0 || incremental.exit_code != 1) {
    std::cerr << "unexpected exit codes (full " << full.exit_code
              << ", incremental " << incremental.exit_code << "); see " << log
              << "\n";
  }
  if (!json_path.empty()) {
    std::ofstream(json_path)
        << nlohmann::json{{"rows", rows},
                          {"full_s", full.seconds},
                          {"rounds", repeat},
                          {"full_peak_rss_mb", peak_kb / 1024},
                          {"full_exit", full.exit_code},
                          {"hand_made_s", hand.seconds},
                          {"hand_made_equal", hands_equal},
                          {"incremental_s", incremental.seconds},
                          {"incremental_exit", incremental.exit_code},
                          {"ratio_hand_made",
                           baseline ? full.seconds / hand.seconds : 0.0},
                          {"ratio_incremental",
                           incremental.seconds / full.seconds}}
               .dump(2)
        << "\n";
  }
  return full.exit_code == 0 && hands_equal ? 0 : 1;
}
