// Pooling benchmark (issue 21): short-lived clients on the local Tier 1
// stack, each one opening the store, inserting one trade and closing, as a
// job or a script would. The same clients run straight to Postgres and
// through PgBouncer, taking turns round after round. Prints, per path, the
// clients per second, each client's time (open, insert, close) at p50 and
// p99, failed clients, and the most Postgres backends seen in use (sampled
// from pg_stat_activity every 50 ms). Exits 1 when a client failed or the
// pooled path used more backends than PgBouncer's pool (25), 2 when the
// run itself failed.
//
//   build/tools/bench/pooling_bench [--clients 2000] [--concurrency 50]
//       [--rounds 3] [--json FILE]
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench_util.h"
#include "nlohmann/json.hpp"
#include "tradestore/migration/loadgen.h"
#include "tradestore/ops/stack.h"
#include "tradestore/postgres/pg_trade_store.h"

namespace tradestore::bench {
namespace {

using Steady = std::chrono::steady_clock;

constexpr int kPoolSize = 25;  // tools/postgres/pgbouncer.ini's default

struct Args {
  int clients = 2000;
  int concurrency = 50;
  int rounds = 3;
  std::string json;
};

Args Parse(int argc, char** argv) {
  Args a;
  ParseFlagPairs(
      argc, argv,
      "usage: pooling_bench [--clients N] [--concurrency C] [--rounds R] "
      "[--json FILE]\n",
      [&](const std::string& flag, const std::string& value) {
        if (flag == "--clients") {
          return absl::SimpleAtoi(value, &a.clients) && a.clients > 0;
        } else if (flag == "--concurrency") {
          return absl::SimpleAtoi(value, &a.concurrency) && a.concurrency > 0;
        } else if (flag == "--rounds") {
          return absl::SimpleAtoi(value, &a.rounds) && a.rounds > 0;
        } else if (flag == "--json") {
          a.json = value;
          return true;
        }
        return false;
      });
  return a;
}

// The most client backends of the store's role seen while `running`.
class BackendSampler {
 public:
  explicit BackendSampler(const std::string& admin_dsn)
      : conn_(PQconnectdb(admin_dsn.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) {
      Die("pooling_bench", "sampler",
          absl::UnavailableError(PQerrorMessage(conn_)));
    }
    thread_ = std::thread([this] { Loop(); });
  }
  ~BackendSampler() {
    running_ = false;
    thread_.join();
    PQfinish(conn_);
  }
  int most() const { return most_.load(); }

 private:
  void Loop() {
    while (running_) {
      PGresult* r = PQexec(conn_,
                           "SELECT count(*) FROM pg_stat_activity WHERE "
                           "usename = 'tradestore_app' AND backend_type = "
                           "'client backend'");
      if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        most_ = std::max(most_.load(), std::atoi(PQgetvalue(r, 0, 0)));
      }
      PQclear(r);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  PGconn* conn_;
  std::atomic<bool> running_{true};
  std::atomic<int> most_{0};
  std::thread thread_;
};

struct PathRun {
  double seconds = 0;
  int failed = 0;
  int most_backends = 0;
  Percentiles latency;
  std::string first_error;
};

PathRun RunClients(const Args& args, const std::string& dsn,
                   const std::string& admin_dsn, const std::string& key) {
  std::atomic<int> next{0};
  std::vector<std::vector<int64_t>> us(args.concurrency);
  std::vector<int> failed(args.concurrency, 0);
  std::vector<std::string> errors(args.concurrency);
  PathRun run;
  BackendSampler sampler(admin_dsn);
  const auto start = Steady::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < args.concurrency; ++w) {
    threads.emplace_back([&, w] {
      for (int n; (n = next++) < args.clients;) {
        const auto t0 = Steady::now();
        PgOptions options;
        options.dsn = dsn;
        options.pool_size = 1;
        absl::Status status;
        if (auto store = PgTradeStore::Open(options); !store.ok()) {
          status = store.status();
        } else {
          status = (*store)->Insert(BenchTrade(n, key)).status();
        }
        us[w].push_back(std::chrono::duration_cast<std::chrono::microseconds>(
                            Steady::now() - t0)
                            .count());
        if (!status.ok()) {
          if (failed[w]++ == 0) errors[w] = status.ToString();
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  run.seconds = std::chrono::duration<double>(Steady::now() - start).count();
  run.most_backends = sampler.most();
  std::vector<int64_t> all;
  for (int w = 0; w < args.concurrency; ++w) {
    all.insert(all.end(), us[w].begin(), us[w].end());
    run.failed += failed[w];
    if (run.first_error.empty()) run.first_error = errors[w];
  }
  run.latency = PercentilesOf(all);
  return run;
}

struct Path {
  std::string name, dsn;
  std::vector<PathRun> runs;
};

// Prints the path's line (median and spread of its rounds); its figures.
nlohmann::json Summarize(const Args& args, const Path& p) {
  std::vector<double> rates, p50, p99;
  int most = 0, fails = 0;
  for (const PathRun& r : p.runs) {
    rates.push_back(args.clients / r.seconds);
    p50.push_back(r.latency.p50_us / 1000.0);
    p99.push_back(r.latency.p99_us / 1000.0);
    most = std::max(most, r.most_backends);
    fails += r.failed;
    if (r.failed > 0) std::cerr << p.name << ": " << r.first_error << "\n";
  }
  const auto [low, high] = std::minmax_element(rates.begin(), rates.end());
  std::cout << absl::StrFormat(
      "  %-10s %6.0f clients/s (%.0f-%.0f)  p50 %6.2f ms  p99 %7.2f ms  "
      "backends at most %d  failed %d\n",
      p.name, Median(rates), *low, *high, Median(p50), Median(p99), most,
      fails);
  return {{"clients_per_s", Median(rates)},
          {"p50_ms", Median(p50)},
          {"p99_ms", Median(p99)},
          {"most_backends", most},
          {"failed", fails}};
}

}  // namespace
}  // namespace tradestore::bench

int main(int argc, char** argv) {
  using namespace tradestore;
  using namespace tradestore::bench;
  const Args args = Parse(argc, argv);
  const std::string machine = MachineLine();
  const std::string dir = BenchDir("pooling-bench");
  std::ostringstream log;
  auto up = ops::StackUp({.dir = dir + "/stack"}, log);
  if (!up.ok()) Die("pooling_bench", "stack up\n" + log.str(), up.status());

  std::vector<Path> paths = {{"direct", up->primary_dsn, {}},
                             {"pgbouncer", up->pgbouncer_dsn, {}}};
  for (int round = 1; round <= args.rounds; ++round) {
    for (Path& p : paths) {
      std::cerr << "round " << round << " of " << args.rounds << ": " << p.name
                << "...\n";
      p.runs.push_back(RunClients(args, p.dsn, up->admin_dsn,
                                  absl::StrCat("pool-", p.name, round)));
    }
  }

  std::cout << "pooling benchmark, " << args.clients
            << " short-lived clients (open the store, insert a trade, close), "
            << args.concurrency << " at a time, " << args.rounds << " rounds; "
            << machine << "\n";
  bool failed = false, over_pool = false;
  nlohmann::json json{{"machine", machine},
                      {"clients", args.clients},
                      {"concurrency", args.concurrency},
                      {"rounds", args.rounds}};
  for (const Path& p : paths) {
    json[p.name] = Summarize(args, p);
    failed = failed || json[p.name]["failed"].get<int>() > 0;
    if (p.name == "pgbouncer") {
      over_pool = json[p.name]["most_backends"].get<int>() > kPoolSize;
    }
  }
  std::cout << absl::StrFormat(
      "  through PgBouncer at most %d backends (target <= %d): %s\n",
      json["pgbouncer"]["most_backends"].get<int>(), kPoolSize,
      Verdict(!over_pool));
  if (!args.json.empty()) std::ofstream(args.json) << json.dump(2) << "\n";
  std::ostringstream down;
  ops::StackDown(dir + "/stack", /*remove=*/true, down).IgnoreError();
  return failed || over_pool ? 1 : 0;
}
