// The C++ half of tools/bench/python_bench.py: one writer inserting
// --writes trades through a PhasedTradeStore at --rate per second, printing
// each insert's latency in microseconds, one per line. The Python half runs
// the same loop through the binding; the script compares the two.
//
//   build/tools/bench/insert_bench --sqlite PATH --pg DSN --writes N
//                                  --rate R --key-prefix P
#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench_util.h"
#include "tradestore/migration/phased_trade_store.h"

namespace {

using namespace tradestore;

int Fail(const std::string& what) {
  std::cerr << "insert_bench: " << what << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string sqlite, dsn, prefix = "cpp";
  int64_t writes = 1000, rate = 500;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--sqlite") {
      sqlite = value;
    } else if (flag == "--pg") {
      dsn = value;
    } else if (flag == "--key-prefix") {
      prefix = value;
    } else if ((flag == "--writes" && absl::SimpleAtoi(value, &writes)) ||
               (flag == "--rate" && absl::SimpleAtoi(value, &rate))) {
    } else {
      return Fail(absl::StrCat("bad flag ", flag, " ", value));
    }
  }
  if (sqlite.empty() || dsn.empty() || rate <= 0) {
    return Fail("usage: --sqlite PATH --pg DSN [--writes N] [--rate R]");
  }
  PhasedStoreOptions options;
  options.sqlite_path = sqlite;
  options.pg.dsn = dsn;
  auto store = PhasedTradeStore::Open(options);
  if (!store.ok()) return Fail(std::string(store.status().message()));
  std::vector<int64_t> us;
  us.reserve(writes);
  const auto interval = std::chrono::nanoseconds(1'000'000'000 / rate);
  auto next = std::chrono::steady_clock::now();
  for (int64_t n = 0; n < writes; ++n) {
    std::this_thread::sleep_until(next);
    next += interval;
    const auto t0 = std::chrono::steady_clock::now();
    auto r = (*store)->Insert(bench::BenchTrade(n, prefix));
    const auto t1 = std::chrono::steady_clock::now();
    if (!r.ok()) return Fail(std::string(r.status().message()));
    us.push_back(
        std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count());
  }
  for (int64_t v : us) std::cout << v << "\n";
  return 0;
}
