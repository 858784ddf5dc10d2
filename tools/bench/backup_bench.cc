// The backup figures of issue 21, measured on a stack of its own: a logical
// backup (tradestore backup) of N trades to a directory, its size, a
// restore drill (the RTO: fetch, check, pg_restore -j2, check the
// content), a pgBackRest full backup, and a point-in-time restore into a
// new data directory started and checked. Each step --repeat times; the
// median and every round are printed. --rpo-seconds S also writes trades
// for S seconds and samples the age of the last archived WAL segment: the
// archive's RPO under that load.
//
//   build/tools/bench/backup_bench --rows 1000000 --repeat 3 --json out.json
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "bench_util.h"
#include "nlohmann/json.hpp"
#include "tradestore/clock.h"
#include "tradestore/ops/backup.h"
#include "tradestore/ops/pg_cluster.h"
#include "tradestore/ops/pgbackrest.h"
#include "tradestore/ops/restore.h"
#include "tradestore/ops/stack.h"
#include "tradestore/postgres/pg_trade_store.h"

namespace tradestore::bench {
namespace {

struct Args {
  int64_t rows = 1'000'000;
  int repeat = 3;
  int rpo_seconds = 0;
  std::string json;
};

Args Parse(int argc, char** argv) {
  Args a;
  ParseFlagPairs(
      argc, argv,
      "usage: backup_bench [--rows N] [--repeat R] [--rpo-seconds S] "
      "[--json FILE]\n",
      [&](const std::string& flag, const std::string& value) {
        if (flag == "--rows") {
          return absl::SimpleAtoi(value, &a.rows) && a.rows > 0;
        } else if (flag == "--repeat") {
          return absl::SimpleAtoi(value, &a.repeat) && a.repeat > 0;
        } else if (flag == "--rpo-seconds") {
          return absl::SimpleAtoi(value, &a.rpo_seconds) && a.rpo_seconds >= 0;
        } else if (flag == "--json") {
          a.json = value;
          return true;
        }
        return false;
      });
  return a;
}

[[noreturn]] void Die(const std::string& what, const absl::Status& s) {
  std::cerr << "backup_bench: " << what << ": " << s << "\n";
  std::exit(2);
}

template <typename T>
T Check(absl::StatusOr<T> v, const std::string& what) {
  if (!v.ok()) Die(what, v.status());
  return *std::move(v);
}

std::string Rounds(const std::vector<double>& v) {
  return absl::StrJoin(v, " ", [](std::string* out, double d) {
    absl::StrAppendFormat(out, "%.2f", d);
  });
}

double Time(const std::function<void()>& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

// N realistic trades, loaded by the server itself (the load is not what
// is measured).
void Load(ops::PgCluster& pg, int64_t rows) {
  Check(pg.Psql("trades",
                absl::StrCat(
                    "INSERT INTO trades (id, symbol, side, quantity, price, "
                    "\"timestamp\", status, client_order_id, created_at, "
                    "updated_at) SELECT i, (ARRAY['BTC-USD','ETH-USD','AAPL',"
                    "'MSFT','EURUSD','SOL-USD'])[1 + i % 6], CASE WHEN i % 2 = "
                    "0 THEN 'BUY' ELSE 'SELL' END, (i % 1000 + 1) / "
                    "100.0::numeric, 100 + (i % 100000) / 1000.0, "
                    "'2026-01-01'::timestamptz + i * interval '1 ms', "
                    "'FILLED', 'order-' || i, '2026-01-01'::timestamptz + i "
                    "* interval '1 ms', '2026-01-01'::timestamptz + i * "
                    "interval '1 ms' FROM generate_series(1, ",
                    rows,
                    ") i; SELECT setval(pg_get_serial_sequence('trades', "
                    "'id'), ",
                    rows, ")")),
        "load");
  Check(pg.Psql("trades", "VACUUM ANALYZE trades"), "vacuum");
}

// A point-in-time restore of the newest pgBackRest backup into a copy, to
// a moment after it, timed until the copy answers.
double TimePitr(ops::PgCluster& pg, ops::PgBackRest& backrest,
                const std::string& dir, int round) {
  const auto backups = Check(backrest.Backups(), "pgbackrest info");
  std::string target =
      Check(pg.Psql("trades", "SELECT clock_timestamp()::text"), "now");
  target.pop_back();
  // Recovery stops at the first commit past the target: there must be one.
  Check(pg.Psql("trades", "UPDATE trades SET status = 'FILLED' WHERE id = 1"),
        "a commit past the target");
  std::string segment = Check(
      pg.Psql("trades", "SELECT pg_walfile_name(pg_switch_wal())"), "switch");
  segment.pop_back();
  const std::string copy = absl::StrCat(dir, "/copy", round);
  if (absl::Status s = ops::MakeServiceDir(copy, *ops::ServiceUser());
      !s.ok()) {
    Die("copy dir", s);
  }
  return Time([&] {
    // Waits for the segment holding the target, then restores to it and
    // starts the copy (recovery ends when it accepts connections).
    for (int i = 0; i < 600; ++i) {
      auto done = pg.Psql(
          "trades", absl::StrCat("SELECT coalesce(last_archived_wal >= '",
                                 segment, "', false) FROM pg_stat_archiver"));
      if (done.ok() && *done == "t\n") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (absl::Status s =
            backrest.Restore(copy + "/data", target, backups.back().label);
        !s.ok()) {
      Die("pitr restore", s);
    }
    auto c = Check(ops::PgCluster::Open(copy), "open copy");
    if (absl::Status s = c->SetSetting("unix_socket_directories",
                                       absl::StrCat("'", copy, "'"));
        !s.ok()) {
      Die("copy socket", s);
    }
    if (absl::Status s = c->Start(); !s.ok()) Die("copy start", s);
    Check(c->Psql("trades", "SELECT count(*) FROM trades"), "copy check");
    if (absl::Status s = c->Stop(false); !s.ok()) Die("copy stop", s);
  });
}

// Trades at a steady 200 a second; the age of the newest archived WAL
// segment, sampled each second, is what a crash could lose. The worst age.
double WorstRpo(const Args& args, const ops::StackStatus& stack,
                ops::PgCluster& pg) {
  PgOptions primary;
  primary.dsn = stack.primary_dsn;
  auto store = Check(PgTradeStore::Open(primary), "store");
  double worst = 0;
  const auto end =
      std::chrono::steady_clock::now() + std::chrono::seconds(args.rpo_seconds);
  int n = 0;
  while (std::chrono::steady_clock::now() < end) {
    for (int i = 0; i < 200; ++i) {
      Trade t;
      t.symbol = "BTC-USD";
      t.quantity = *Decimal::Parse("0.5");
      t.price = *Decimal::Parse("43000");
      t.timestamp = Clock::Real()->Now();
      t.client_order_id = absl::StrCat("rpo-", ++n);
      if (!store->Insert(t).ok()) Die("rpo insert", absl::InternalError(""));
    }
    auto age = pg.Psql("trades",
                       "SELECT extract(epoch FROM now() - "
                       "last_archived_time) FROM pg_stat_archiver");
    double a = 0;
    if (age.ok() && absl::SimpleAtod(*age, &a)) worst = std::max(worst, a);
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  std::cout << absl::StrFormat(
      "  RPO of the archive at 200 trades/s for %d s: the last archived "
      "segment was at most %.1f s old (archive_timeout 60 s)\n",
      args.rpo_seconds, worst);
  return worst;
}

// Each round's figures, in seconds; the logical backup's size.
struct Times {
  std::vector<double> backup_s, drill_s, restore_s, physical_s, pitr_s;
  int64_t size = 0;
};

// Per round: a logical backup and its restore drill, a pgBackRest full
// backup, and a point-in-time restore.
Times RunRounds(const Args& args, const ops::StackStatus& stack,
                ops::PgCluster& pg, const std::string& dir, std::ostream& log) {
  PgOptions primary;
  primary.dsn = stack.primary_dsn;
  PgOptions admin;
  admin.dsn = stack.admin_dsn;
  ops::PgBackRest backrest(stack.pgbackrest_config, stack.stanza,
                           *ops::ServiceUser());
  Times r;
  for (int round = 0; round < args.repeat; ++round) {
    const std::string to = absl::StrCat(dir, "/backups", round);
    ops::BackupReport backup;
    r.backup_s.push_back(Time([&] {
      backup =
          Check(ops::RunBackup({.pg = primary, .to = to, .keep_days = 0}, log),
                "backup");
    }));
    r.size = backup.manifest.size;
    const ops::RestoreReport drill = Check(
        ops::RunRestore({.from = to, .target = admin, .drill = true}, log),
        "drill");
    if (!drill.matches) Die("drill", absl::DataLossError("content differs"));
    r.drill_s.push_back(drill.rto_s);
    r.restore_s.push_back(drill.restore_s);
    r.physical_s.push_back(Time([&] {
      if (absl::Status s = backrest.Backup("full"); !s.ok()) {
        Die("pgbackrest backup", s);
      }
    }));
    r.pitr_s.push_back(TimePitr(pg, backrest, dir, round));
  }
  return r;
}

}  // namespace
}  // namespace tradestore::bench

int main(int argc, char** argv) {
  using namespace tradestore;
  using namespace tradestore::bench;
  const Args args = Parse(argc, argv);
  const std::string dir = BenchDir("backup-bench");
  std::ostringstream log;
  const ops::StackStatus stack = Check(
      ops::StackUp({.dir = dir + "/stack", .archive = true}, log), "stack up");
  auto pg = Check(ops::PgCluster::Open(dir + "/stack/pg"), "open");
  const unsigned cores = std::thread::hardware_concurrency();
  double load1 = 0;
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load1) != 1) load1 = -1;
    std::fclose(f);
  }
  std::cout << absl::StrFormat(
      "backup_bench: %d trades, %d rounds; %u cores, "
      "load %.2f\n",
      args.rows, args.repeat, cores, load1);
  const double load_s = Time([&] { Load(*pg, args.rows); });
  std::cout << absl::StrFormat("  loaded in %.1f s\n", load_s);

  const Times r = RunRounds(args, stack, *pg, dir, log);
  std::cout << absl::StrFormat(
      "  logical backup  %.2f s median (%s), %d bytes\n"
      "  restore drill   RTO %.2f s median (%s); pg_restore -j2 %.2f s\n"
      "  pgBackRest full %.2f s median (%s)\n"
      "  PITR restore    %.2f s median (%s), restored, started and checked\n",
      Median(r.backup_s), Rounds(r.backup_s), r.size, Median(r.drill_s),
      Rounds(r.drill_s), Median(r.restore_s), Median(r.physical_s),
      Rounds(r.physical_s), Median(r.pitr_s), Rounds(r.pitr_s));

  nlohmann::json report = {{"rows", args.rows},
                           {"rounds", args.repeat},
                           {"cores", cores},
                           {"load_at_start", load1},
                           {"backup_s", r.backup_s},
                           {"backup_bytes", r.size},
                           {"drill_rto_s", r.drill_s},
                           {"pg_restore_s", r.restore_s},
                           {"pgbackrest_full_s", r.physical_s},
                           {"pitr_restore_s", r.pitr_s}};
  if (args.rpo_seconds > 0) {
    report["rpo_worst_archive_age_s"] = WorstRpo(args, stack, *pg);
  }
  if (!args.json.empty()) std::ofstream(args.json) << report.dump(2) << "\n";
  std::ostringstream down;
  (void)ops::StackDown(dir + "/stack", /*remove=*/true, down);
  std::filesystem::remove_all(dir);
  return 0;
}
