// Dual-write benchmark: in one run, on one throwaway PostgreSQL (fsync on,
// like SQLite's synchronous=FULL) and fresh SQLite files,
//   1. insert latency, one writer: SQLite alone against dual-write through
//      the outbox (relay thread running), --rounds rounds in alternating
//      order with fresh files and databases each, every round printed;
//      then synchronous dual-write and Postgres alone once, for comparison;
//   1b. the same through `tradestore loadgen` at 800 writes/s, one writer
//      thread, for --paced-seconds: sqlite_only against dual_write, --rounds
//      rounds alternating;
//   2. the relay's throughput: an outbox of --relay-rows entries applied to
//      Postgres, trades per second;
//   3. the outbox lag (enqueue to applied) at 2,000 writes/s for --seconds.
// Targets (issues 4 and 25): outbox dual-write p99 <= 1.2x SQLite-alone
// p99 and, through loadgen, <= 1.25x (the median round); relay >= 20k
// trades/s; lag p99 <= 100 ms at 2k/s. Exits 1 when one is not met.
//
// --relay-off times the outbox half without its relay thread (the outbox
// drained after the timing): what the extra row costs by itself.
//
//   build/tools/bench/dualwrite_bench [--writes N] [--rounds R]
//       [--relay-off] [--relay-rows N] [--seconds S] [--paced-seconds S]
//       [--json FILE]
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench_util.h"
#include "nlohmann/json.hpp"
#include "tradestore/migration/loadgen.h"
#include "tradestore/migration/phase.h"
#include "tradestore/migration/phased_trade_store.h"
#include "tradestore/ops/local_postgres.h"
#include "tradestore/postgres/migrator.h"
#include "tradestore/postgres/pg_trade_store.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace {

using namespace tradestore;

void Die(const std::string& what, const absl::Status& s) {
  bench::Die("dualwrite_bench", what, s);
}

// Inserts `n` trades one after another; per-insert latency percentiles.
Percentiles TimeInserts(TradeStore& store, int64_t n, const std::string& what) {
  std::vector<int64_t> us;
  us.reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = store.Insert(bench::BenchTrade(i));
    if (!r.ok()) Die(what, r.status());
    us.push_back(std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::steady_clock::now() - t0)
                     .count());
  }
  return PercentilesOf(us);
}

// A fresh database with the schema, and the phase moved to `phase`.
std::string Database(LocalPostgres& pg, const std::string& name,
                     const std::string& sqlite_path, Phase phase) {
  auto dsn = pg.CreateDatabase(name);
  if (!dsn.ok()) Die("create database", dsn.status());
  PgOptions options;
  options.dsn = *dsn;
  if (auto m = MigrateSchema(options); !m.ok()) Die("migrate", m.status());
  if (auto s = SqliteTradeStore::Open({.path = sqlite_path}); !s.ok()) {
    Die("sqlite", s.status());
  }
  auto phases = PhaseStore::Open(options);
  if (!phases.ok()) Die("phases", phases.status());
  for (Phase p : {Phase::kDualWrite, Phase::kReadPostgres}) {
    if (p > phase) break;
    PhaseMoveOptions move;
    move.sqlite_path = sqlite_path;
    move.target = p;
    move.force = true;
    move.reason = "benchmark";
    auto moved = (*phases)->Move(move);
    if (!moved.ok()) Die("phase", moved.status());
  }
  return *dsn;
}

std::unique_ptr<PhasedTradeStore> Phased(const std::string& sqlite_path,
                                         const std::string& dsn, bool sync,
                                         bool relay) {
  PhasedStoreOptions options;
  options.sqlite_path = sqlite_path;
  options.pg.dsn = dsn;
  options.synchronous = sync;
  options.run_relay = relay;
  auto store = PhasedTradeStore::Open(options);
  if (!store.ok()) Die("phased store", store.status());
  return *std::move(store);
}

nlohmann::json Json(const Percentiles& p) {
  return {{"p50_ms", p.p50_us / 1000.0},
          {"p99_ms", p.p99_us / 1000.0},
          {"p999_ms", p.p999_us / 1000.0},
          {"max_ms", p.max_us / 1000.0}};
}

std::string Ms(const Percentiles& p) {
  return absl::StrFormat("%.3f / %.3f / %.3f ms", p.p50_us / 1000.0,
                         p.p99_us / 1000.0, p.p999_us / 1000.0);
}

double Ratio(int64_t a, int64_t b) {
  return static_cast<double>(a) / static_cast<double>(std::max<int64_t>(1, b));
}

// One round of the SQLite-alone and outbox halves.
struct Round {
  Percentiles sqlite_alone, outbox;
  double p99_ratio = 0, p999_ratio = 0;
};

constexpr double kOutboxP99Ratio = 1.2;
constexpr double kPacedP99Ratio = 1.25;
constexpr double kPacedRate = 800;

struct Args {
  int64_t writes = 20000, relay_rows = 200000;
  int seconds = 10, n_rounds = 5, paced_seconds = 10;
  bool relay_on = true;
  std::string json_path;
};

Args Parse(int argc, char** argv) {
  Args a;
  bench::ParseFlagPairs(
      argc, argv,
      "usage: dualwrite_bench [--writes N] [--rounds R] [--relay-off] "
      "[--relay-rows N] [--seconds S] [--paced-seconds S] [--json FILE]\n",
      [&](const std::string& flag, const std::string& value) {
        if (flag == "--writes") {
          return absl::SimpleAtoi(value, &a.writes) && a.writes > 0;
        } else if (flag == "--relay-off") {
          a.relay_on = false;
          return true;
        } else if (flag == "--rounds") {
          return absl::SimpleAtoi(value, &a.n_rounds) && a.n_rounds >= 1;
        } else if (flag == "--relay-rows") {
          return absl::SimpleAtoi(value, &a.relay_rows) && a.relay_rows > 0;
        } else if (flag == "--seconds") {
          return absl::SimpleAtoi(value, &a.seconds) && a.seconds > 0;
        } else if (flag == "--paced-seconds") {
          return absl::SimpleAtoi(value, &a.paced_seconds) &&
                 a.paced_seconds > 0;
        } else if (flag == "--json") {
          a.json_path = value;
          return true;
        }
        return false;
      },
      {"--relay-off"});
  return a;
}

// Round `r` (from 0): the two halves in an order alternating from round
// to round, their ratios, printed as "PREFIXround N: NAMES[0] ... |
// NAMES[1] ...".
Round Alternate(int r, const std::string& prefix,
                const std::array<const char*, 2>& names,
                const std::function<Percentiles()>& alone,
                const std::function<Percentiles()>& dual) {
  Round round;
  if (r % 2 == 0) {
    round.sqlite_alone = alone();
    round.outbox = dual();
  } else {
    round.outbox = dual();
    round.sqlite_alone = alone();
  }
  round.p99_ratio = Ratio(round.outbox.p99_us, round.sqlite_alone.p99_us);
  round.p999_ratio = Ratio(round.outbox.p999_us, round.sqlite_alone.p999_us);
  std::cout << absl::StrFormat(
      "%sround %d: %s p50/p99/p99.9 %s | %s %s | p99 %.2fx, p99.9 %.2fx\n",
      prefix, r + 1, names[0], Ms(round.sqlite_alone), names[1],
      Ms(round.outbox), round.p99_ratio, round.p999_ratio);
  return round;
}

// SQLite alone and the outbox on fresh files and a fresh database.
Round RunRound(const Args& a, LocalPostgres& pg, const std::string& dir,
               int r) {
  const std::string n = absl::StrCat(r + 1);
  const auto alone = [&] {
    auto store = SqliteTradeStore::Open({.path = dir + "/alone" + n + ".db"});
    if (!store.ok()) Die("sqlite", store.status());
    return TimeInserts(**store, a.writes, "sqlite alone");
  };
  const auto dual = [&] {
    const std::string path = dir + "/outbox" + n + ".db";
    const std::string dsn = Database(pg, "outbox" + n, path, Phase::kDualWrite);
    auto store = Phased(path, dsn, false, a.relay_on);
    Percentiles p = TimeInserts(*store, a.writes, "outbox dual-write");
    if (auto s = store->DrainOutbox(std::chrono::minutes(5)); !s.ok()) {
      Die("drain", s);
    }
    return p;
  };
  return Alternate(r, "", {"SQLite alone", "outbox"}, alone, dual);
}

// Loadgen on a fresh store `name` and database in `phase`.
LoadgenReport Load(LocalPostgres& pg, const std::string& dir,
                   const std::string& name, Phase phase, double rate,
                   int threads, int seconds) {
  LoadgenOptions load;
  load.store.sqlite_path = dir + "/" + name + ".db";
  load.store.pg.dsn = Database(pg, name, load.store.sqlite_path, phase);
  load.rate = rate;
  load.threads = threads;
  load.duration = std::chrono::seconds(seconds);
  std::ostringstream quiet;
  auto report = RunLoadgen(load, quiet);
  if (!report.ok()) Die("loadgen", report.status());
  return *report;
}

// Loadgen at 800 writes/s, one writer, for --paced-seconds.
Percentiles Paced(const Args& a, LocalPostgres& pg, const std::string& name,
                  const std::string& dir, Phase phase) {
  const LoadgenReport report =
      Load(pg, dir, name, phase, kPacedRate, 1, a.paced_seconds);
  if (report.failed > 0) Die(name, absl::InternalError("failed writes"));
  return report.latency;
}

// sqlite_only against dual_write, both through loadgen, on fresh files and
// databases.
Round RunPacedRound(const Args& a, LocalPostgres& pg, const std::string& dir,
                    int r) {
  const std::string n = absl::StrCat(r + 1);
  return Alternate(
      r, "loadgen ", {"sqlite_only", "dual_write"},
      [&] { return Paced(a, pg, "paced_alone" + n, dir, Phase::kSqliteOnly); },
      [&] { return Paced(a, pg, "paced_dual" + n, dir, Phase::kDualWrite); });
}

Percentiles TimePostgresAlone(const Args& a, LocalPostgres& pg) {
  auto dsn = pg.CreateDatabase("alone");
  if (!dsn.ok()) Die("create database", dsn.status());
  PgOptions options;
  options.dsn = *dsn;
  if (auto m = MigrateSchema(options); !m.ok()) Die("migrate", m.status());
  auto store = PgTradeStore::Open(options);
  if (!store.ok()) Die("postgres store", store.status());
  return TimeInserts(**store, a.writes, "postgres alone");
}

// Trades per second: the outbox filled with the relay off, then drained.
double RelayThroughput(const Args& a, LocalPostgres& pg,
                       const std::string& dir) {
  const std::string path = dir + "/relay.db";
  const std::string dsn = Database(pg, "relay", path, Phase::kDualWrite);
  PhasedStoreOptions options;
  options.sqlite_path = path;
  options.pg.dsn = dsn;
  options.run_relay = false;
  options.sqlite_sync_full = false;  // filling only; not what is timed
  auto store = PhasedTradeStore::Open(options);
  if (!store.ok()) Die("phased store", store.status());
  for (int64_t i = 0; i < a.relay_rows; ++i) {
    if (auto r = (*store)->Insert(bench::BenchTrade(i)); !r.ok())
      Die("fill", r.status());
  }
  const auto t0 = std::chrono::steady_clock::now();
  if (auto s = (*store)->DrainOutbox(std::chrono::minutes(10)); !s.ok()) {
    Die("relay drain", s);
  }
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  return static_cast<double>(a.relay_rows) / took;
}

// The outbox lag at 2,000 writes/s for --seconds.
LoadgenReport Lag(const Args& a, LocalPostgres& pg, const std::string& dir) {
  return Load(pg, dir, "lag", Phase::kDualWrite, 2000, LoadgenOptions().threads,
              a.seconds);
}

struct Results {
  std::vector<Round> rounds, paced;
  Percentiles sync, pg_alone;
  double relay_per_s = 0;
  LoadgenReport lag;
};

// The rounds, each half under its key.
nlohmann::json RoundsJson(const std::vector<Round>& rounds,
                          const char* alone_key, const char* dual_key) {
  nlohmann::json out = nlohmann::json::array();
  for (const Round& r : rounds) {
    out.push_back({{alone_key, Json(r.sqlite_alone)},
                   {dual_key, Json(r.outbox)},
                   {"p99_ratio", r.p99_ratio},
                   {"p999_ratio", r.p999_ratio}});
  }
  return out;
}

void WriteJson(const Args& a, const std::string& machine, const Results& res,
               double ratio, const nlohmann::json& targets) {
  nlohmann::json j = {
      {"writes", a.writes},
      {"loadgen_rounds", RoundsJson(res.paced, "sqlite_only", "dual_write")},
      {"loadgen_writes_per_s", kPacedRate},
      {"loadgen_seconds", a.paced_seconds},
      {"machine", machine},
      {"relay_running", a.relay_on},
      {"rounds", RoundsJson(res.rounds, "sqlite_alone", "outbox_dual_write")},
      {"sync_dual_write", Json(res.sync)},
      {"postgres_alone", Json(res.pg_alone)},
      {"outbox_p99_over_sqlite_p99", ratio},
      {"relay_trades_per_s", res.relay_per_s},
      {"lag_writes_per_s", res.lag.writes_per_s},
      {"outbox_lag", Json(res.lag.relay_lag)},
      {"lag_run_failed_writes", res.lag.failed},
      {"targets_met", targets},
  };
  std::ofstream(a.json_path) << j.dump(2) << "\n";
}

// The median and spread of the rounds' p99 and p99.9 ratios.
struct Spread {
  double p99 = 0, p99_lo = 0, p99_hi = 0, p999 = 0, p999_lo = 0, p999_hi = 0;
};

Spread SpreadOf(const std::vector<Round>& rounds) {
  std::vector<double> p99s, p999s;
  for (const Round& r : rounds) {
    p99s.push_back(r.p99_ratio);
    p999s.push_back(r.p999_ratio);
  }
  return {bench::Median(p99s),
          *std::min_element(p99s.begin(), p99s.end()),
          *std::max_element(p99s.begin(), p99s.end()),
          bench::Median(p999s),
          *std::min_element(p999s.begin(), p999s.end()),
          *std::max_element(p999s.begin(), p999s.end())};
}

std::string SpreadLine(const Spread& s, int rounds, double target, bool met) {
  return absl::StrFormat(
      "median %.2fx (%.2f-%.2f) over %d rounds (target <= %.2fx): %s; "
      "p99.9: median %.2fx (%.2f-%.2f)",
      s.p99, s.p99_lo, s.p99_hi, rounds, target, bench::Verdict(met), s.p999,
      s.p999_lo, s.p999_hi);
}

// Prints the figures (and writes --json); the exit code.
int Report(const Args& a, const std::string& machine, const Results& res) {
  const Spread outbox = SpreadOf(res.rounds);
  const Spread paced = SpreadOf(res.paced);
  const bool ratio_met = outbox.p99 <= kOutboxP99Ratio;
  const bool paced_met = paced.p99 <= kPacedP99Ratio;
  const bool relay_met = res.relay_per_s >= 20000;
  const LoadgenReport& lag = res.lag;
  const bool lag_met = lag.relay_lag.p99_us <= 100000 && lag.failed == 0;
  std::cout << absl::StrFormat(
      "outbox p99 / SQLite p99: %s\n"
      "loadgen at %.0f writes/s, one writer, dual_write p99 / sqlite_only "
      "p99: %s\n"
      "for comparison, p50/p99/p99.9: synchronous dual-write %s, Postgres "
      "alone %s\n"
      "relay: %.0f trades/s into Postgres (target >= 20000): %s\n"
      "outbox lag at %.0f writes/s: p50 %.1f ms, p99 %.1f ms, max %.1f ms "
      "(target p99 <= 100 ms): %s; %d failed writes\n",
      SpreadLine(outbox, a.n_rounds, kOutboxP99Ratio, ratio_met), kPacedRate,
      SpreadLine(paced, a.n_rounds, kPacedP99Ratio, paced_met), Ms(res.sync),
      Ms(res.pg_alone), res.relay_per_s, bench::Verdict(relay_met),
      lag.writes_per_s, lag.relay_lag.p50_us / 1000.0,
      lag.relay_lag.p99_us / 1000.0, lag.relay_lag.max_us / 1000.0,
      bench::Verdict(lag_met), lag.failed);
  if (!a.json_path.empty()) {
    WriteJson(a, machine, res, outbox.p99,
              {{"outbox_p99", ratio_met},
               {"loadgen_p99", paced_met},
               {"relay", relay_met},
               {"lag", lag_met}});
  }
  return ratio_met && paced_met && relay_met && lag_met ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = Parse(argc, argv);
  LocalPostgresOptions server = bench::ServerOptions();
  server.fsync = true;
  auto pg = LocalPostgres::Start(server);
  if (!pg.ok()) Die("postgres", pg.status());
  const std::string dir = (*pg)->dir() + "/bench";
  std::filesystem::create_directories(dir);
  const std::string machine = bench::MachineLine();
  std::cout << "dualwrite_bench: " << args.writes << " inserts per store and "
            << "round, one writer; PostgreSQL 15 with fsync on; SQLite "
            << "synchronous=FULL; " << machine
            << (args.relay_on ? "" : "; the outbox's relay thread off") << "\n";
  Results res;
  for (int r = 0; r < args.n_rounds; ++r) {
    res.rounds.push_back(RunRound(args, **pg, dir, r));
  }
  for (int r = 0; r < args.n_rounds; ++r) {
    res.paced.push_back(RunPacedRound(args, **pg, dir, r));
  }
  {
    const std::string path = dir + "/sync.db";
    const std::string dsn = Database(**pg, "sync", path, Phase::kDualWrite);
    auto store = Phased(path, dsn, true, true);
    res.sync = TimeInserts(*store, args.writes, "synchronous dual-write");
  }
  res.pg_alone = TimePostgresAlone(args, **pg);
  res.relay_per_s = RelayThroughput(args, **pg, dir);
  res.lag = Lag(args, **pg, dir);
  return Report(args, machine, res);
}
