// Verify benchmark: in one run, on the same throwaway PostgreSQL and the
// same store (backfilled, untimed),
//   1. tradestore verify, full (the real CLI, as a child: time, peak RSS);
//   2. the hand-made way: export both stores to CSV in one canonical form,
//      in parallel (sqlite3 and psql \copy), then compare the two files
//      with cmp, which must find them equal;
//   3. tradestore verify --incremental after 1,000 changed rows.
// The store (--store): `real`, a legacy file whose quantities and prices
// are all REAL (what NUMERIC affinity made of them; the default), `mixed`,
// legacy decimals in every storage class, or `new`, written by
// SqliteTradeStore. Full verify and the hand-made way take turns for
// --repeat rounds (5 by default), the incremental run goes 2 x repeat - 1
// times; each figure is the median, with every round and the spread. Prints
// the machine, the figures and each target's verdict (issue 25), and exits
// 1 when one is not met; with --json FILE, the figures as JSON.
//
//   build/tools/bench/verify_bench --rows 1000000 [--store real|mixed|new]
//       [--repeat 5] [--json FILE]
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

using tradestore::bench::Measured;

// The targets: full verify against the hand-made way, incremental
// against full, peak memory.
constexpr double kHandMadeRatio = 0.4;
constexpr double kIncrementalShare = 1.0 / 50;
constexpr long kPeakMb = 100;

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

int Usage(int code) {
  (code == 0 ? std::cout : std::cerr)
      << "usage: verify_bench [--rows N] [--store real|mixed|new] "
         "[--repeat ROUNDS] [--json FILE] [--log FILE] [--no-baseline]\n";
  return code;
}

// A store as the new code writes it: trades through SqliteTradeStore
// (synchronous=NORMAL: the figures are verify's, not the writes').
void WriteNewStore(const std::string& path, int64_t rows) {
  auto store =
      tradestore::SqliteTradeStore::Open({.path = path, .sync_full = false});
  if (!store.ok()) Die("open", store.status());
  for (int64_t n = 0; n < rows; ++n) {
    tradestore::Trade t = tradestore::bench::BenchTrade(n, "verify");
    if (auto r = (*store)->Insert(t); !r.ok()) Die("insert", r.status());
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tradestore;
  using namespace tradestore::bench;
  int64_t rows = 1000000;
  std::string json_path;
  std::string log = "verify_bench.log";
  bool baseline = true;
  int repeat = 5;
  std::string store_kind = "real";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--store" && i + 1 < argc) {
      store_kind = argv[++i];
      if (store_kind != "real" && store_kind != "mixed" && store_kind != "new")
        return Usage(2);
    } else if (arg == "--rows" && i + 1 < argc) {
      if (!absl::SimpleAtoi(argv[++i], &rows) || rows < 1) return Usage(2);
    } else if (arg == "--json" && i + 1 < argc) {
      json_path = argv[++i];
    } else if (arg == "--log" && i + 1 < argc) {
      log = argv[++i];
    } else if (arg == "--no-baseline") {
      baseline = false;
    } else if (arg == "--repeat" && i + 1 < argc) {
      if (!absl::SimpleAtoi(argv[++i], &repeat) || repeat < 1) return Usage(2);
    } else {
      return Usage(arg == "--help" ? 0 : 2);
    }
  }
  const std::string machine = MachineLine();
  const std::string cli = TradestoreCli();
  auto pg = LocalPostgres::Start({});
  if (!pg.ok()) Die("postgres", pg.status());
  const std::string dir = (*pg)->dir() + "/bench";
  std::filesystem::create_directories(dir);
  std::filesystem::remove(log);
  const std::string sqlite_path = dir + "/trade_store.db";
  std::cerr << "writing a " << store_kind << " store of " << rows
            << " rows and backfilling...\n";
  if (store_kind == "new") {
    WriteNewStore(sqlite_path, rows);
  } else if (auto made =
                 GenerateLegacyStore({.path = sqlite_path,
                                      .rows = rows,
                                      .real_decimals = store_kind == "real"});
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

  const double hand_ratio = baseline ? full.seconds / hand.seconds : 0;
  const double incremental_share = incremental.seconds / full.seconds;
  const bool hand_met = baseline && hand_ratio <= kHandMadeRatio;
  const bool incremental_met = incremental_share <= kIncrementalShare;
  const bool peak_met = peak_kb / 1024 < kPeakMb;
  std::cout << "verify benchmark, " << rows << " rows, " << store_kind
            << " store (PostgreSQL 15), medians of " << repeat << " rounds; "
            << machine << "\n";
  std::cout << RowLine("tradestore verify (full)", full, fulls, peak_kb / 1024);
  if (baseline)
    std::cout << RowLine("hand-made export + compare", hand, hands, -1);
  std::cout << RowLine("tradestore verify --incremental", incremental,
                       incrementals, incremental.peak_rss_kb / 1024, 3);
  if (baseline) {
    std::cout << absl::StrFormat(
        "  full / hand-made %.2fx (target <= %.1fx): %s\n", hand_ratio,
        kHandMadeRatio, Verdict(hand_met));
  }
  std::cout << absl::StrFormat(
      "  incremental / full 1/%.0f (target <= 1/%.0f): %s\n"
      "  peak memory %ld MB (target < %ld MB): %s\n",
      1 / incremental_share, 1 / kIncrementalShare, Verdict(incremental_met),
      peak_kb / 1024, kPeakMb, Verdict(peak_met));
  const bool hands_equal =
      std::all_of(hands.begin(), hands.end(),
                  [](const Measured& m) { return m.exit_code == 0; });
  if (!hands_equal) {
    std::cerr << "the hand-made exports failed or differ (cmp); see " << log
              << "\n";
  }
  // verify exits 0 clean; the incremental run sees the 1,000 new rows as
  // missing in Postgres (nothing relays them here), so it exits 1.
  const bool exits_right = full.exit_code == 0 && incremental.exit_code == 1;
  if (!exits_right) {
    std::cerr << "unexpected exit codes (full " << full.exit_code
              << ", incremental " << incremental.exit_code << "); see " << log
              << "\n";
  }
  if (!json_path.empty()) {
    std::ofstream(json_path)
        << nlohmann::json{{"rows", rows},
                          {"store", store_kind},
                          {"machine", machine},
                          {"full_s", full.seconds},
                          {"full_rounds_s", Seconds(fulls, 3)},
                          {"hand_made_rounds_s", Seconds(hands, 3)},
                          {"rounds", repeat},
                          {"full_peak_rss_mb", peak_kb / 1024},
                          {"full_exit", full.exit_code},
                          {"hand_made_s", hand.seconds},
                          {"hand_made_equal", hands_equal},
                          {"incremental_s", incremental.seconds},
                          {"incremental_exit", incremental.exit_code},
                          {"ratio_hand_made", hand_ratio},
                          {"ratio_incremental", incremental_share},
                          {"targets_met",
                           {{"hand_made", hand_met},
                            {"incremental", incremental_met},
                            {"peak_memory", peak_met}}}}
               .dump(2)
        << "\n";
  }
  if (!exits_right || !hands_equal) return 2;
  return (hand_met || !baseline) && incremental_met && peak_met ? 0 : 1;
}
