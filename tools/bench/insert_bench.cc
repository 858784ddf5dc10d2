// The C++ half of tools/bench/python_bench.py: one writer inserting
// --writes trades through a PhasedTradeStore at --rate per second, printing
// each insert's latency in microseconds, one per line. The Python half runs
// the same loop through the binding; the script compares the two.
//
//   build/tools/bench/insert_bench --sqlite PATH --pg DSN --writes N
//                                  --rate R --key-prefix P [--serve]
//
// With --serve the store stays open and each line "N" on stdin runs a block
// of N inserts and answers with their latencies on one line: the script
// alternates short blocks of the two halves, so that a slow spell of the
// disk falls on both.
#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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
  bool serve = false;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--serve") {
      serve = true;
      --i;
      continue;
    }
    if (i + 1 == argc) return Fail(absl::StrCat(flag, " needs a value"));
    const std::string value = argv[i + 1];
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
  int64_t n = 0;
  const auto interval = std::chrono::nanoseconds(1'000'000'000 / rate);
  auto run = [&](int64_t count, std::vector<int64_t>& us) -> absl::Status {
    auto next = std::chrono::steady_clock::now();
    for (int64_t end = n + count; n < end; ++n) {
      std::this_thread::sleep_until(next);
      next += interval;
      // The service has the fill's time and key; building them is not
      // the store's cost (the Python half does the same).
      const Trade trade = bench::BenchTrade(n, prefix);
      const auto t0 = std::chrono::steady_clock::now();
      auto r = (*store)->Insert(trade);
      const auto t1 = std::chrono::steady_clock::now();
      if (!r.ok()) return r.status();
      us.push_back(
          std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0)
              .count());
    }
    return absl::OkStatus();
  };
  std::vector<int64_t> us;
  if (!serve) {
    us.reserve(writes);
    if (auto s = run(writes, us); !s.ok()) return Fail(s.ToString());
    for (int64_t v : us) std::cout << v << "\n";
    return 0;
  }
  std::string line;
  int64_t count = 0;
  while (std::getline(std::cin, line)) {
    if (!absl::SimpleAtoi(line, &count) || count <= 0) {
      return Fail(absl::StrCat("bad block size: ", line));
    }
    us.clear();
    if (auto s = run(count, us); !s.ok()) return Fail(s.ToString());
    std::cout << absl::StrJoin(us, " ") << std::endl;
  }
  return 0;
}
