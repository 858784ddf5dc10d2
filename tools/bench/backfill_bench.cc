// Backfill benchmark: in one run, on the same throwaway PostgreSQL and the
// same generated legacy store,
//   1. tradestore backfill (the real CLI, as a child: wall time, peak RSS);
//   2. psql \copy of a ready CSV of the same rows into the same schema;
//   3. pgloader (Debian's) from the SQLite file into the same schema.
// The three take turns for --repeat rounds (3 by default) and each figure is
// the median of its rounds: on a shared 2-core machine one run of the same
// work varies by 10-15%. The store (--store): `real`, a legacy file whose
// quantities and prices are all REAL (what NUMERIC affinity made of them;
// the default), or `mixed` (REAL, INTEGER and TEXT). Prints the machine,
// every round, the medians and spreads, and whether each target is met
// (backfill <= 1.0x COPY, <= 0.33x pgloader, peak < 150 MB); with --json
// FILE, the figures as JSON. Exits 1 when a target is missed, 2 when a run
// failed. Without pgloader (WITH_BENCH=1 tools/setup.sh installs it), or
// with --no-pgloader, that target is left unjudged.
//
//   build/tools/bench/backfill_bench --rows 1000000 [--store real|mixed]
//       [--repeat 3] [--json FILE] [--log FILE] [--no-pgloader]
#include <unistd.h>

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
#include "tradestore/postgres/migrator.h"
#include "tradestore/sqlite/legacy_generator.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore::bench {
namespace {

// The targets (issue 4's): faster than a hand-made COPY of a ready CSV,
// three times pgloader's speed, bounded memory.
constexpr double kCopyRatio = 1.0;
constexpr double kPgloaderRatio = 0.33;
constexpr long kPeakMb = 150;

void Die(const std::string& what, const absl::Status& s) {
  tradestore::bench::Die("backfill_bench", what, s);
}

// The rows as CSV in the target's canonical form: what a hand-made export
// would produce before COPY (not timed).
void WriteCsv(const std::string& sqlite_path, const std::string& csv_path) {
  auto store = SqliteTradeStore::Open({.path = sqlite_path});
  if (!store.ok()) Die("open", store.status());
  std::ofstream out(csv_path);
  int64_t after = 0;
  for (;;) {
    auto rows = (*store)->ScanById(after, 50000);
    if (!rows.ok()) Die("scan", rows.status());
    if (rows->empty()) break;
    for (const Trade& t : *rows) {
      out << t.id << "," << t.symbol << "," << SideName(t.side) << ","
          << t.quantity.ToString() << "," << t.price.ToString() << ","
          << t.timestamp.ToIso8601() << "," << StatusName(t.status) << ","
          << t.version << "," << t.created_at.ToIso8601() << ","
          << t.updated_at.ToIso8601() << "\n";
      after = t.id;
    }
  }
}

}  // namespace
}  // namespace tradestore::bench

int main(int argc, char** argv) {
  using namespace tradestore;
  using namespace tradestore::bench;
  int64_t rows = 1000000;
  std::string json_path;
  // Outside the throwaway cluster's directory, so it outlives the run.
  std::string log = "backfill_bench.log";
  int repeat = 3;
  std::string store_kind = "real";
  bool pgloader_on = true;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--store" && i + 1 < argc) {
      store_kind = argv[++i];
      if (store_kind != "real" && store_kind != "mixed") return 2;
    } else if (arg == "--no-pgloader") {
      pgloader_on = false;
    } else if (arg == "--rows" && i + 1 < argc) {
      if (!absl::SimpleAtoi(argv[++i], &rows)) return 2;
    } else if (arg == "--json" && i + 1 < argc) {
      json_path = argv[++i];
    } else if (arg == "--log" && i + 1 < argc) {
      log = argv[++i];
    } else if (arg == "--repeat" && i + 1 < argc) {
      if (!absl::SimpleAtoi(argv[++i], &repeat) || repeat < 1) return 2;
    } else {
      std::cerr << "usage: backfill_bench [--rows N] [--store real|mixed] "
                   "[--repeat ROUNDS] [--json FILE] [--log FILE] "
                   "[--no-pgloader]\n";
      return arg == "--help" ? 0 : 2;
    }
  }
  const std::string machine = MachineLine();
  if (pgloader_on && access("/usr/bin/pgloader", X_OK) != 0) {
    std::cerr << "pgloader is not installed (WITH_BENCH=1 tools/setup.sh): "
                 "its target is left unjudged\n";
    pgloader_on = false;
  }
  const std::string cli = TradestoreCli();
  auto pg = LocalPostgres::Start({});
  if (!pg.ok()) Die("postgres", pg.status());
  const std::string dir = (*pg)->dir() + "/bench";
  std::filesystem::create_directories(dir);
  const std::string sqlite_path = dir + "/trade_store.db";
  std::filesystem::remove(log);
  std::cerr << "generating " << rows << " legacy rows (" << store_kind
            << " store)...\n";
  auto made = GenerateLegacyStore({.path = sqlite_path,
                                   .rows = rows,
                                   .real_decimals = store_kind == "real"});
  if (!made.ok()) Die("generate", made.status());
  // Opening once upgrades the file the way the running service would have,
  // so the backfill run times the copy, not the upgrade. pgloader reads the
  // same file: the store as it is when the migration runs.
  { auto s = SqliteTradeStore::Open({.path = sqlite_path}); }
  WriteCsv(sqlite_path, dir + "/trades.csv");

  auto fresh = [&](const std::string& name) {
    auto dsn = (*pg)->CreateDatabase(name);
    if (!dsn.ok()) Die("createdb", dsn.status());
    PgOptions options;
    options.dsn = *dsn;
    auto migrated = MigrateSchema(options);
    if (!migrated.ok()) Die("migrate", migrated.status());
    return *dsn;
  };
  auto count = [&](const std::string& db) {
    auto n = (*pg)->Psql(db, "SELECT count(*) FROM trades");
    return n.ok() ? int64_t{std::atoll(n->c_str())} : int64_t{-1};
  };
  auto drop = [&](const std::string& db) {
    if (auto s = (*pg)->Psql("postgres", absl::StrCat("DROP DATABASE ", db));
        !s.ok()) {
      Die("dropdb", s.status());
    }
  };

  const std::string load = dir + "/trades.load";
  std::ofstream(load)
      << "LOAD DATABASE\n  FROM sqlite://" << sqlite_path
      << "\n  INTO postgresql://postgres@127.0.0.1:" << (*pg)->port()
      << "/bench_pgloader\n"
      << "  WITH data only, include no drop, create no tables, create no "
         "indexes, reset no sequences\n"
      << "  CAST column trades.quantity to numeric drop typemod using "
         "tradestore-decimal,\n"
      << "       column trades.price to numeric drop typemod using "
         "tradestore-decimal,\n"
      << "       column trades.side to text using tradestore-side,\n"
      << "       column trades.timestamp to timestamptz using "
         "tradestore-timestamp\n"
      << "  INCLUDING ONLY TABLE NAMES LIKE 'trades';\n";
  // pgloader compiles the transforms next to the file it loads: a copy in
  // the throwaway directory keeps the source tree untouched.
  const std::string transforms = dir + "/pgloader_transforms.lisp";
  std::filesystem::copy_file(std::filesystem::path(__FILE__).parent_path() /
                                 "pgloader_transforms.lisp",
                             transforms,
                             std::filesystem::copy_options::overwrite_existing);

  // The three contenders take turns, round after round, so a slow spell of
  // the machine hits all of them; each figure is the median of its rounds.
  std::vector<Measured> backfills, copies, pgloaders;
  int64_t n_backfill = rows, n_copy = rows, n_pgloader = rows;
  for (int round = 1; round <= repeat; ++round) {
    std::cerr << "round " << round << " of " << repeat
              << ": tradestore backfill...\n";
    const std::string bf_dsn = fresh("bench_backfill");
    backfills.push_back(RunMeasured(
        {cli, "backfill", "--sqlite", sqlite_path, "--pg", bf_dsn}, log));
    n_backfill = std::min(n_backfill, count("bench_backfill"));
    drop("bench_backfill");

    std::cerr << "round " << round << ": psql \\copy...\n";
    const std::string copy_dsn = fresh("bench_copy");
    copies.push_back(RunMeasured(
        {"psql", "-X", "-q", "-d", copy_dsn, "-c",
         absl::StrCat("\\copy trades (id, symbol, side, quantity, price, "
                      "\"timestamp\", status, version, created_at, updated_at) "
                      "FROM '",
                      dir, "/trades.csv' CSV")},
        log));
    n_copy = std::min(n_copy, count("bench_copy"));
    drop("bench_copy");

    if (!pgloader_on) continue;
    std::cerr << "round " << round << ": pgloader...\n";
    fresh("bench_pgloader");
    // pgloader names every target column in its COPY, sending NULL for the
    // ones the legacy table lacks, so the defaults never apply; letting those
    // three be NULL only makes its work lighter, never heavier.
    if (auto s = (*pg)->Psql("bench_pgloader",
                             "ALTER TABLE trades ALTER version DROP NOT NULL, "
                             "ALTER created_at DROP NOT NULL, "
                             "ALTER updated_at DROP NOT NULL");
        !s.ok()) {
      Die("alter", s.status());
    }
    // A bound keeps the run finite should pgloader stall.
    pgloaders.push_back(RunMeasured(
        {"timeout", "600", "pgloader", "--load-lisp-file", transforms, load},
        log));
    n_pgloader = std::min(n_pgloader, count("bench_pgloader"));
    drop("bench_pgloader");
  }
  const Measured backfill = Median(backfills);
  const Measured copy = Median(copies);
  const Measured pgloader = pgloader_on ? Median(pgloaders) : Measured{};
  long peak_kb = 0;
  for (const Measured& m : backfills)
    peak_kb = std::max(peak_kb, m.peak_rss_kb);
  const double copy_ratio = backfill.seconds / copy.seconds;
  const double pgloader_ratio =
      pgloader_on ? backfill.seconds / pgloader.seconds : 0;
  const bool copy_met = copy_ratio <= kCopyRatio;
  const bool pgloader_met = pgloader_ratio <= kPgloaderRatio;
  const bool peak_met = peak_kb / 1024 < kPeakMb;

  std::cout << "backfill benchmark, " << rows << " rows, " << store_kind
            << " store (PostgreSQL 15, fsync off), medians of " << repeat
            << " rounds; " << machine << "\n";
  std::cout << RowLine("tradestore backfill", backfill, backfills,
                       peak_kb / 1024);
  std::cout << RowLine("psql \\copy (ready CSV)", copy, copies, -1);
  if (pgloader_on) std::cout << RowLine("pgloader", pgloader, pgloaders, -1);
  std::cout << absl::StrFormat(
      "  backfill / COPY %.2fx (target <= %.1fx): %s\n", copy_ratio, kCopyRatio,
      Verdict(copy_met));
  if (pgloader_on) {
    std::cout << absl::StrFormat(
        "  backfill / pgloader %.2fx (target <= %.2fx): %s\n", pgloader_ratio,
        kPgloaderRatio, Verdict(pgloader_met));
  }
  std::cout << absl::StrFormat("  peak memory %ld MB (target < %ld MB): %s\n",
                               peak_kb / 1024, kPeakMb, Verdict(peak_met));
  // Every contender must have loaded every row for its time to count.
  const bool runs_right =
      backfill.exit_code == 0 && n_backfill == rows && copy.exit_code == 0 &&
      n_copy == rows &&
      (!pgloader_on || (pgloader.exit_code == 0 && n_pgloader == rows));
  if (!runs_right) {
    std::cerr << "a run failed or loaded fewer rows (backfill " << n_backfill
              << ", COPY " << n_copy << ", pgloader "
              << (pgloader_on ? absl::StrCat(n_pgloader) : "not run") << " of "
              << rows << "); see " << log << "\n";
  }
  if (!json_path.empty()) {
    nlohmann::json j{
        {"rows", rows},
        {"store", store_kind},
        {"machine", machine},
        {"rounds", repeat},
        {"backfill_s", backfill.seconds},
        {"backfill_rounds_s", Seconds(backfills)},
        {"backfill_peak_rss_mb", peak_kb / 1024},
        {"backfill_rows", n_backfill},
        {"copy_s", copy.seconds},
        {"copy_rows", n_copy},
        {"ratio_copy", copy_ratio},
        {"targets_met", {{"copy", copy_met}, {"peak_memory", peak_met}}}};
    if (pgloader_on) {
      j["pgloader_s"] = pgloader.seconds;
      j["pgloader_rows"] = n_pgloader;
      j["pgloader_exit"] = pgloader.exit_code;
      j["ratio_pgloader"] = pgloader_ratio;
      j["targets_met"]["pgloader"] = pgloader_met;
    }
    std::ofstream(json_path) << j.dump(2) << "\n";
  }
  if (!runs_right) return 2;
  return copy_met && (pgloader_met || !pgloader_on) && peak_met ? 0 : 1;
}
