// Failover figures of issue 22, over many trials on an HA stack of its own:
// writers insert trades through PgBouncer, or through a libpq multi-host
// DSN (target_session_attrs=read-write), while the leader's postmaster is
// SIGKILLed, the leader node is lost (Patroni too), or a switchover is
// asked for. Per trial: the write pause (the longest gap between
// acknowledged writes from the fault on) and Jepsen's accounting of every
// write (acknowledged, failed, unknown) against the new leader. Prints
// every trial, then min/median/max per fault and path; exits 1 when a
// trade was lost or doubled, a trial hung, or a pause exceeded the plan's
// RTO of 30 s (--max-pause; 0 reports pauses without judging them, as CI
// does: it judges losses, never time).
//
//   build/tools/bench/failover_bench --trials 10 --json failover.json
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "bench_util.h"
#include "nlohmann/json.hpp"
#include "testing/ha_health.h"
#include "testing/write_load.h"
#include "tradestore/internal/process.h"
#include "tradestore/ops/ha_stack.h"
#include "tradestore/postgres/pg_trade_store.h"

namespace tradestore::bench {
namespace {

using testing::Steady;

struct Args {
  int trials = 10, nodes = 3, writers = 4;
  std::vector<std::string> faults = {"crash", "loss", "switchover"};
  std::vector<std::string> paths = {"pgbouncer", "multihost"};
  std::string json;
  double max_pause = 30;  // the plan's RTO; 0: no limit
};

Args Parse(int argc, char** argv) {
  Args a;
  ParseFlagPairs(
      argc, argv,
      "usage: failover_bench [--trials N] [--nodes N] [--writers N]\n"
      "         [--faults crash,loss,switchover]\n"
      "         [--paths pgbouncer,multihost] [--json FILE]\n"
      "         [--max-pause SECONDS (30; 0: no limit)]\n",
      [&](const std::string& flag, const std::string& value) {
        bool ok = true;
        if (flag == "--trials") {
          ok = absl::SimpleAtoi(value, &a.trials) && a.trials > 0;
        } else if (flag == "--nodes") {
          ok =
              absl::SimpleAtoi(value, &a.nodes) && a.nodes >= 2 && a.nodes <= 9;
        } else if (flag == "--writers") {
          ok = absl::SimpleAtoi(value, &a.writers) && a.writers > 0;
        } else if (flag == "--faults") {
          a.faults = absl::StrSplit(value, ',');
          for (const auto& f : a.faults) {
            ok &= f == "crash" || f == "loss" || f == "switchover";
          }
        } else if (flag == "--paths") {
          a.paths = absl::StrSplit(value, ',');
          for (const auto& p : a.paths) {
            ok &= p == "pgbouncer" || p == "multihost";
          }
        } else if (flag == "--json") {
          a.json = value;
        } else if (flag == "--max-pause") {
          ok = absl::SimpleAtod(value, &a.max_pause) && a.max_pause >= 0;
        } else {
          ok = false;
        }
        return ok;
      });
  return a;
}

std::string Leader(const ops::StackStatus& s) {
  for (const auto& n : s.nodes) {
    if (n.role == "leader") return n.name;
  }
  return "";
}

// testing::HaHealthy, or dies after 3 minutes.
ops::StackStatus WaitHealthy(const std::string& dir) {
  const auto until = Steady::now() + std::chrono::minutes(3);
  for (;;) {
    auto s = ops::GetStackStatus(dir);
    if (s.ok() && testing::HaHealthy(*s)) return *s;
    if (Steady::now() > until) {
      Die("failover_bench", "wait for a healthy stack",
          s.ok() ? absl::DeadlineExceededError(s->ToJson()) : s.status());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

std::string MultiHostDsn(const ops::StackStatus& s, const std::string& dir) {
  std::vector<std::string> hosts, ports;
  for (const auto& n : s.nodes) {
    hosts.push_back("127.0.0.1");
    ports.push_back(absl::StrCat(n.pg_port));
  }
  return absl::StrCat("host=", absl::StrJoin(hosts, ","),
                      " port=", absl::StrJoin(ports, ","),
                      " dbname=trades user=tradestore_app passfile=", dir,
                      "/pgpass target_session_attrs=read-write");
}

struct Trial {
  std::string fault, path, from, to;
  int trial = 0;
  double pause = 0;
  bool hung = false;
  testing::Accounting acc;
};

absl::Status Inject(const std::string& dir, const std::string& fault,
                    const std::string& leader) {
  if (fault == "crash") {
    return ops::InjectNodeFault(dir, leader, ops::NodeFault::kPostmasterCrash);
  }
  if (fault == "loss") {
    return ops::InjectNodeFault(dir, leader, ops::NodeFault::kNodeLoss);
  }
  return ops::Switchover(dir, "");
}

Trial RunTrial(const Args& args, const std::string& dir, TradeStore& store,
               const std::string& fault, const std::string& path, int n) {
  Trial t{.fault = fault, .path = path, .trial = n};
  const ops::StackStatus before = WaitHealthy(dir);
  t.from = Leader(before);
  const std::string tag = absl::StrCat(fault, "_", path, "_", n, "_", getpid());
  testing::WriteLoad load(store, tag, args.writers);
  if (!load.WaitAcks(50, Steady::now())) t.hung = true;
  const Steady::time_point at = Steady::now();
  if (auto s = Inject(dir, fault, t.from); !s.ok()) {
    Die("failover_bench", "inject " + fault, s);
  }
  if (!load.WaitAcks(100, at)) t.hung = true;
  load.Stop();
  if (fault == "loss") {
    if (auto s = ops::RestartNode(dir, t.from); !s.ok()) {
      Die("failover_bench", "restart " + t.from, s);
    }
  }
  const ops::StackStatus after = WaitHealthy(dir);
  t.to = Leader(after);
  t.pause = testing::PauseSeconds(load.outcomes(), at);
  t.acc = testing::Account(load.outcomes(),
                           testing::StoredKeys(after.primary_dsn, tag));
  return t;
}

void PrintTrial(const Trial& t, int n) {
  std::cout << absl::StrFormat(
                   "%-10s %-9s #%-2d pause %6.2f s  %s -> %s  acked %d "
                   "failed %d "
                   "unknown %d (committed %d)  lost %d doubled %d%s\n",
                   t.fault, t.path, n, t.pause, t.from, t.to, t.acc.ok,
                   t.acc.failed, t.acc.unknown, t.acc.unknown_committed,
                   t.acc.lost.size(), t.acc.doubled.size(),
                   t.hung ? "  HUNG" : "")
            << std::flush;
  for (const auto& s : t.acc.lost) std::cout << "  LOST " << s << "\n";
  for (const auto& s : t.acc.doubled) std::cout << "  DOUBLED " << s << "\n";
  for (const auto& s : t.acc.failed_but_stored) {
    std::cout << "  FAILED BUT STORED " << s << "\n";
  }
}

// Every trial of every fault on every path; `failed` set when one lost or
// doubled a trade, hung, or paused longer than --max-pause.
std::vector<Trial> RunTrials(const Args& args, const std::string& stack_dir,
                             const ops::StackStatus& up, bool& failed) {
  std::vector<Trial> trials;
  for (const std::string& path : args.paths) {
    PgOptions pg;
    pg.dsn =
        path == "pgbouncer" ? up.pgbouncer_dsn : MultiHostDsn(up, stack_dir);
    pg.backoff.deadline = std::chrono::seconds(60);
    auto store = PgTradeStore::Open(pg);
    if (!store.ok()) Die("failover_bench", "open " + path, store.status());
    for (const std::string& fault : args.faults) {
      for (int n = 1; n <= args.trials; ++n) {
        Trial t = RunTrial(args, stack_dir, **store, fault, path, n);
        PrintTrial(t, n);
        failed |= t.hung || !t.acc.clean() ||
                  (args.max_pause > 0 && t.pause > args.max_pause);
        trials.push_back(std::move(t));
      }
    }
  }
  return trials;
}

// The README's table, one row per fault and path; the same rows as JSON.
nlohmann::json PrintTable(const Args& args, const std::vector<Trial>& trials) {
  std::cout
      << "\n| fault | path | trials | pause min/median/max | acknowledged "
         "| lost | doubled | unknown (committed) |\n|---|---|---|---|---|"
         "---|---|---|\n";
  nlohmann::json rows = nlohmann::json::array();
  for (const std::string& fault : args.faults) {
    for (const std::string& path : args.paths) {
      std::vector<double> pauses;
      int ok = 0, lost = 0, doubled = 0, unknown = 0, committed = 0;
      for (const Trial& t : trials) {
        if (t.fault != fault || t.path != path) continue;
        pauses.push_back(t.pause);
        ok += t.acc.ok;
        lost += t.acc.lost.size();
        doubled += t.acc.doubled.size();
        unknown += t.acc.unknown;
        committed += t.acc.unknown_committed;
      }
      const double lo = *std::min_element(pauses.begin(), pauses.end());
      const double hi = *std::max_element(pauses.begin(), pauses.end());
      std::cout << absl::StrFormat(
          "| %s | %s | %d | %.1f / %.1f / %.1f s | %d | %d | %d | %d (%d) |\n",
          fault, path, pauses.size(), lo, Median(pauses), hi, ok, lost, doubled,
          unknown, committed);
      rows.push_back({{"fault", fault},
                      {"path", path},
                      {"pauses_s", pauses},
                      {"acknowledged", ok},
                      {"lost", lost},
                      {"doubled", doubled},
                      {"unknown", unknown},
                      {"unknown_committed", committed}});
    }
  }
  return rows;
}

}  // namespace
}  // namespace tradestore::bench

int main(int argc, char** argv) {
  using namespace tradestore;
  using namespace tradestore::bench;
  const Args args = Parse(argc, argv);
  const std::string dir = BenchDir("failover-bench");
  const std::string stack_dir = dir + "/ha";
  double load1 = 0;
  std::ifstream("/proc/loadavg") >> load1;
  std::cout << "machine: " << std::thread::hardware_concurrency()
            << " cores, load average " << load1 << " at start\n";
  std::ostringstream log;
  const auto up_at = Steady::now();
  auto up =
      ops::StackUp({.dir = stack_dir, .ha = true, .nodes = args.nodes}, log);
  if (!up.ok()) Die("failover_bench", "stack up\n" + log.str(), up.status());
  std::cout << absl::StrFormat(
                   "stack up: %d nodes in %.1f s\n", args.nodes,
                   std::chrono::duration<double>(Steady::now() - up_at).count())
            << std::flush;

  bool failed = false;
  const std::vector<Trial> trials = RunTrials(args, stack_dir, *up, failed);
  const nlohmann::json rows = PrintTable(args, trials);
  std::cout << (failed ? "targets NOT met" : "targets met")
            << ": nothing lost or doubled";
  if (args.max_pause > 0) {
    std::cout << ", every pause under " << args.max_pause << " s";
  }
  std::cout << "\n";
  if (!args.json.empty()) {
    std::ofstream(args.json) << nlohmann::json{{"nodes", args.nodes},
                                               {"writers", args.writers},
                                               {"load_average", load1},
                                               {"results", rows}}
                                    .dump(2)
                             << "\n";
  }
  std::ostringstream down;
  ops::StackDown(stack_dir, /*remove=*/true, down).IgnoreError();
  return failed ? 1 : 0;
}
