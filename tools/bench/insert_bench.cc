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
#include <cstdlib>
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

struct Args {
  std::string sqlite, dsn, prefix = "cpp";
  int64_t writes = 1000, rate = 500;
  bool serve = false;
};

Args Parse(int argc, char** argv) {
  Args a;
  const std::string usage =
      "usage: insert_bench --sqlite PATH --pg DSN [--writes N] [--rate R] "
      "[--key-prefix P] [--serve]\n";
  bench::ParseFlagPairs(
      argc, argv, usage,
      [&](const std::string& flag, const std::string& value) {
        if (flag == "--serve") {
          a.serve = true;
        } else if (flag == "--sqlite") {
          a.sqlite = value;
        } else if (flag == "--pg") {
          a.dsn = value;
        } else if (flag == "--key-prefix") {
          a.prefix = value;
        } else if (flag == "--writes") {
          return absl::SimpleAtoi(value, &a.writes) && a.writes > 0;
        } else if (flag == "--rate") {
          return absl::SimpleAtoi(value, &a.rate) && a.rate > 0;
        } else {
          return false;
        }
        return true;
      },
      {"--serve"});
  if (a.sqlite.empty() || a.dsn.empty()) {
    std::cerr << usage;
    std::exit(2);
  }
  return a;
}

// One writer at a steady rate; each insert's latency in microseconds.
class Writer {
 public:
  Writer(PhasedTradeStore& store, const Args& args)
      : store_(store),
        prefix_(args.prefix),
        interval_(std::chrono::nanoseconds(1'000'000'000 / args.rate)) {}

  absl::Status Run(int64_t count, std::vector<int64_t>& us) {
    auto next = std::chrono::steady_clock::now();
    for (int64_t end = n_ + count; n_ < end; ++n_) {
      std::this_thread::sleep_until(next);
      next += interval_;
      // The service has the fill's time and key; building them is not
      // the store's cost (the Python half does the same).
      const Trade trade = bench::BenchTrade(n_, prefix_);
      const auto t0 = std::chrono::steady_clock::now();
      auto r = store_.Insert(trade);
      const auto t1 = std::chrono::steady_clock::now();
      if (!r.ok()) return r.status();
      us.push_back(
          std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0)
              .count());
    }
    return absl::OkStatus();
  }

 private:
  PhasedTradeStore& store_;
  const std::string prefix_;
  const std::chrono::nanoseconds interval_;
  int64_t n_ = 0;
};

// Each line "N" on stdin runs a block of N inserts, answered on one line.
int Serve(Writer& writer) {
  std::vector<int64_t> us;
  std::string line;
  int64_t count = 0;
  while (std::getline(std::cin, line)) {
    if (!absl::SimpleAtoi(line, &count) || count <= 0) {
      return Fail(absl::StrCat("bad block size: ", line));
    }
    us.clear();
    if (auto s = writer.Run(count, us); !s.ok()) return Fail(s.ToString());
    std::cout << absl::StrJoin(us, " ") << std::endl;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = Parse(argc, argv);
  PhasedStoreOptions options;
  options.sqlite_path = args.sqlite;
  options.pg.dsn = args.dsn;
  auto store = PhasedTradeStore::Open(options);
  if (!store.ok()) return Fail(std::string(store.status().message()));
  Writer writer(**store, args);
  if (args.serve) return Serve(writer);
  std::vector<int64_t> us;
  us.reserve(args.writes);
  if (auto s = writer.Run(args.writes, us); !s.ok()) return Fail(s.ToString());
  for (int64_t v : us) std::cout << v << "\n";
  return 0;
}
