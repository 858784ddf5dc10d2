#include "bench_util.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tradestore/clock.h"
#include "tradestore/internal/process.h"
#include "tradestore/ops/pg_cluster.h"

namespace tradestore::bench {

std::string BuiltProgram(const std::string& relative) {
  return (std::filesystem::canonical("/proc/self/exe").parent_path() / relative)
      .lexically_normal()
      .string();
}

std::string TradestoreCli() { return BuiltProgram("../tradestore"); }

void Die(const std::string& program, const std::string& what,
         const absl::Status& status) {
  std::cerr << program << ": " << what << ": " << status << "\n";
  std::exit(2);
}

Measured RunMeasured(const std::vector<std::string>& argv,
                     const std::string& log_path) {
  Measured m;
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(log, 1);
    dup2(log, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  m.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  m.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  m.peak_rss_kb = usage.ru_maxrss;
  return m;
}

Measured Median(std::vector<Measured> runs) {
  if (runs.empty()) return Measured();
  std::sort(runs.begin(), runs.end(), [](const Measured& a, const Measured& b) {
    return a.seconds < b.seconds;
  });
  return runs[runs.size() / 2];
}

std::string Seconds(const std::vector<Measured>& runs, int decimals) {
  std::string out;
  for (const Measured& m : runs) {
    absl::StrAppend(&out, out.empty() ? "" : " ",
                    absl::StrFormat("%.*f", decimals, m.seconds));
  }
  return out;
}

std::string Spread(const std::vector<Measured>& runs, int decimals) {
  if (runs.empty()) return "-";
  const auto [lo, hi] = std::minmax_element(
      runs.begin(), runs.end(), [](const Measured& a, const Measured& b) {
        return a.seconds < b.seconds;
      });
  return absl::StrFormat("%.*f-%.*f", decimals, lo->seconds, decimals,
                         hi->seconds);
}

std::string MachineLine() {
  double load[3] = {-1, -1, -1};
  getloadavg(load, 3);
  return absl::StrFormat("%u cores, load average %.2f %.2f %.2f at start",
                         std::thread::hardware_concurrency(), load[0], load[1],
                         load[2]);
}

LocalPostgresOptions ServerOptions() {
  const long long pages = sysconf(_SC_PHYS_PAGES);
  const long long page_size = sysconf(_SC_PAGE_SIZE);
  const long long quarter_mb =
      pages > 0 && page_size > 0 ? pages * page_size / 4 / (1 << 20) : 128;
  return {.settings = {absl::StrCat(
              "shared_buffers = ", std::max(128LL, quarter_mb), "MB")}};
}

const char* Verdict(bool met) { return met ? "met" : "NOT met"; }

void CleanUpWhenDone(const std::string& dir) {
  const std::string as =
      internal::RunningAsRoot() ? "runuser -u postgres -- " : "";
  internal::SpawnDetached(
      absl::StrCat(
          "while kill -0 ", getpid(), " 2>/dev/null; do sleep 1; done; ",
          // An HA stack first: its Patroni would restart a stopped Postgres.
          "find '", dir, "' -name ha.json | while read f; do '",
          TradestoreCli(), "' stack down --dir \"$(dirname \"$f\")\"; done; ",
          "find '", dir, "' -name pgbouncer.pid | while read f; do ",
          "kill $(cat \"$f\") 2>/dev/null; done; ", "find '", dir,
          "' -name postmaster.pid | while read f; do ", as, "'",
          ops::FindPostgresBinDir(),
          "/pg_ctl' -D \"$(dirname \"$f\")\" -m immediate -w stop; done; ",
          "rm -rf '", dir, "'"))
      .IgnoreError();
}

std::string BenchDir(const std::string& name) {
  std::string tmpl = "/tmp/tradestore-" + name + "-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    Die(name, "mkdtemp", absl::ErrnoToStatus(errno, tmpl));
  }
  std::filesystem::permissions(tmpl, std::filesystem::perms::owner_all |
                                         std::filesystem::perms::others_exec);
  CleanUpWhenDone(tmpl);
  return tmpl;
}

Trade BenchTrade(int64_t n, const std::string& key_prefix) {
  Trade t;
  t.symbol = "BTC-USD";
  t.side = n % 2 ? Side::kSell : Side::kBuy;
  t.quantity = *Decimal::FromUnits(12345678 + n % 1000);
  t.price = *Decimal::FromUnits(4300012345678 + n % 100000);
  t.timestamp = Clock::Real()->Now();
  t.client_order_id = absl::StrCat(key_prefix, "-", n);
  return t;
}

std::string RowLine(const std::string& what, const Measured& median,
                    const std::vector<Measured>& runs, long peak_mb,
                    int decimals) {
  return absl::StrFormat("  %-32s %7.3fs %5s MB  spread %s, rounds %s\n", what,
                         median.seconds,
                         peak_mb < 0 ? "-" : absl::StrCat(peak_mb),
                         Spread(runs, decimals), Seconds(runs, decimals));
}

double Median(std::vector<double> figures) {
  std::sort(figures.begin(), figures.end());
  return figures[figures.size() / 2];
}

void ParseFlagPairs(int argc, char** argv, const std::string& usage,
                    const std::function<bool(const std::string& flag,
                                             const std::string& value)>& take,
                    const std::vector<std::string>& switches) {
  for (int i = 1; i < argc;) {
    const std::string flag = argv[i];
    const bool help = flag == "--help" || flag == "-h";
    const bool is_switch =
        std::find(switches.begin(), switches.end(), flag) != switches.end();
    const bool ok =
        !help &&
        (is_switch ? take(flag, "") : i + 1 < argc && take(flag, argv[i + 1]));
    if (!ok) {
      (help ? std::cout : std::cerr) << usage;
      std::exit(help ? 0 : 2);
    }
    i += is_switch ? 1 : 2;
  }
}

}  // namespace tradestore::bench
