// Verify benchmark: in one run, on the same throwaway PostgreSQL and the
// same store (generated legacy rows, backfilled, untimed),
//   1. tradestore verify, full (the real CLI, as a child: time, peak RSS);
//   2. the hand-made way: export both stores to CSV in one canonical form,
//      in parallel (sqlite3 and psql \copy), then compare the two files
//      with cmp;
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
#include "tradestore/local_postgres.h"
#include "tradestore/sqlite/legacy_generator.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace {

void Die(const std::string& what, const absl::Status& s) {
  tradestore::bench::Die("verify_bench", what, s);
}

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
    // Fewer columns than verify compares, so the baseline's work is lighter.
    // The two exports differ in their timestamp text, so cmp stops early;
    // on two equal files of this size it reads both in about 0.05 s. (The
    // README's figures before 2026-11-25 compared sha256 sums instead, which
    // took 0.5 s of the baseline's 2 s: more than a comparison needs.)
    const std::string script = absl::StrCat(
        "set -e; cd '", dir, "'; "
        "sqlite3 -csv trade_store.db \"SELECT id, symbol, upper(side), "
        "printf('%.8f', quantity), printf('%.8f', price), timestamp, status "
        "FROM trades ORDER BY id\" > sqlite.csv & "
        "psql -X -q -d '", *dsn, "' -c \"\\copy (SELECT id, symbol, side, "
        "quantity, price, \\\"timestamp\\\", status FROM trades ORDER BY id) "
        "TO 'postgres.csv' CSV\" & wait; cmp -s sqlite.csv postgres.csv || true");
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
    incrementals.push_back(RunMeasured(
        {cli, "verify", "--sqlite", sqlite_path, "--pg", *dsn, "--incremental",
         "--min-age", "0", "--no-record"},
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
                          {"incremental_s", incremental.seconds},
                          {"incremental_exit", incremental.exit_code},
                          {"ratio_hand_made",
                           baseline ? full.seconds / hand.seconds : 0.0},
                          {"ratio_incremental",
                           incremental.seconds / full.seconds}}
                   .dump(2)
        << "\n";
  }
  return full.exit_code == 0 ? 0 : 1;
}
