#include "tradestore/migration/loadgen.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "tradestore/internal/progress.h"
#include "tradestore/internal/shared_log.h"

namespace tradestore {
namespace {

constexpr size_t kMaxErrorSamples = 10;

struct Instrument {
  const char* symbol;
  int64_t price_units;  // a typical price, in 1e-8 units
};

constexpr Instrument kInstruments[] = {
    {"BTC-USD", 4300000000000}, {"ETH-USD", 230000000000},
    {"SOL-USD", 9800000000},    {"AAPL", 18950000000},
    {"MSFT", 41200000000},      {"EUR/USD", 108450000},
    {"XAU-USD", 234000000000},  {"DOGE-USD", 16000000},
};

// What every writer thread collects; merged at the end.
struct ThreadTally {
  int64_t acknowledged = 0, failed = 0, inserts = 0, updates = 0;
  std::vector<int64_t> latency_us;
  std::vector<std::string> errors;
};

class AckLog {
 public:
  absl::Status Open(const std::string& path) {
    if (path.empty()) return absl::OkStatus();
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--ack-log: cannot open ", path));
    }
    return absl::OkStatus();
  }
  ~AckLog() {
    if (fd_ >= 0) ::close(fd_);
  }
  // One write(2) per line: O_APPEND keeps lines whole across threads, and
  // the kernel has the line even if this process is killed right after.
  void Append(const Trade& t) {
    if (fd_ < 0) return;
    const std::string line = absl::StrCat(t.id, " ", t.version, "\n");
    ssize_t n = ::write(fd_, line.data(), line.size());
    (void)n;
  }

 private:
  int fd_ = -1;
};

Trade RandomTrade(std::mt19937_64& rng, Timestamp now, const std::string& key) {
  const Instrument& in =
      kInstruments[rng() % (sizeof kInstruments / sizeof kInstruments[0])];
  Trade t;
  t.symbol = in.symbol;
  t.side = rng() % 2 ? Side::kBuy : Side::kSell;
  // Quantities with all eight decimals; prices within +-2% of typical.
  t.quantity = *Decimal::FromUnits(static_cast<int64_t>(1 + rng() % 500000000));
  const int64_t spread = in.price_units / 50;
  t.price = *Decimal::FromUnits(in.price_units - spread +
                                static_cast<int64_t>(rng() % (2 * spread + 1)));
  t.timestamp = now;
  t.client_order_id = key;
  if (rng() % 4 == 0) {
    t.fee = *Decimal::FromUnits(static_cast<int64_t>(rng() % 100000) - 20000);
  }
  return t;
}

void Writer(PhasedTradeStore& store, const LoadgenOptions& o, Clock* clock,
            int thread, std::chrono::steady_clock::time_point start,
            std::chrono::steady_clock::time_point end, AckLog& acks,
            std::atomic<int64_t>& done, ThreadTally& tally) {
  std::mt19937_64 rng(std::random_device{}() ^ thread);
  const auto interval = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(o.threads / o.rate));
  // Recent trades still open, for status updates.
  std::deque<int64_t> open;
  const std::string prefix =
      absl::StrFormat("lg-%d-%d-%d-", getpid(), thread,
                      std::chrono::system_clock::now().time_since_epoch() /
                          std::chrono::milliseconds(1));
  std::uniform_real_distribution<double> coin(0, 1);
  for (int64_t n = 0;; ++n) {
    const auto when = start + n * interval;
    if (when >= end) break;
    if (const auto now = clock->Monotonic(); when > now) {
      clock->SleepFor(
          std::chrono::duration_cast<std::chrono::microseconds>(when - now));
    }
    const bool update = !open.empty() && coin(rng) < o.update_share;
    const auto t0 = clock->Monotonic();
    absl::StatusOr<Trade> written;
    if (update) {
      const int64_t id = open.front();
      open.pop_front();
      const TradeStatus to = rng() % 3 == 0   ? TradeStatus::kPartiallyFilled
                             : rng() % 5 == 0 ? TradeStatus::kCancelled
                                              : TradeStatus::kFilled;
      written = store.UpdateStatus(id, to);
      if (written.ok() && !IsTerminal(written->status)) open.push_back(id);
    } else {
      auto r =
          store.Insert(RandomTrade(rng, clock->Now(), absl::StrCat(prefix, n)));
      written = r.ok() ? absl::StatusOr<Trade>(r->trade)
                       : absl::StatusOr<Trade>(r.status());
      if (r.ok()) {
        open.push_back(r->trade.id);
        if (open.size() > 1000) open.pop_front();
      }
    }
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                        clock->Monotonic() - t0)
                        .count();
    if (written.ok()) {
      acks.Append(*written);
      ++tally.acknowledged;
      ++(update ? tally.updates : tally.inserts);
      tally.latency_us.push_back(us);
    } else {
      ++tally.failed;
      if (tally.errors.size() < kMaxErrorSamples) {
        tally.errors.push_back(written.status().ToString());
      }
    }
    done.fetch_add(1);
  }
}

nlohmann::json PercentilesJson(const Percentiles& p) {
  return {{"p50_ms", p.p50_us / 1000.0},
          {"p99_ms", p.p99_us / 1000.0},
          {"p999_ms", p.p999_us / 1000.0},
          {"max_ms", p.max_us / 1000.0}};
}

}  // namespace

AckedVersions ReadAckLog(const std::string& path) {
  AckedVersions log;
  std::ifstream in(path);
  std::string line;
  // A last line without its newline was torn by a crash mid-write.
  while (std::getline(in, line) && !in.eof()) {
    std::istringstream fields(line);
    int64_t id = 0, version = 0;
    if (!(fields >> id >> version)) continue;
    log.newest[id] = std::max(log.newest[id], version);
    ++log.lines;
  }
  return log;
}

Percentiles PercentilesOf(std::vector<int64_t>& samples) {
  Percentiles p;
  if (samples.empty()) return p;
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(q * static_cast<double>(samples.size()));
    return samples[std::min(i, samples.size() - 1)];
  };
  p.p50_us = at(0.50);
  p.p99_us = at(0.99);
  p.p999_us = at(0.999);
  p.max_us = samples.back();
  return p;
}

namespace {

// Runs the writer threads to the end of the run, showing their progress;
// their tallies added into `report`.
void RunWriters(PhasedTradeStore& store, const LoadgenOptions& options,
                Clock* clock, AckLog& acks, std::ostream& log,
                LoadgenReport& report) {
  const auto start = clock->Monotonic();
  const auto end = start + options.duration;
  std::vector<ThreadTally> tallies(options.threads);
  std::atomic<int64_t> done{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < options.threads; ++i) {
    threads.emplace_back([&, i] {
      Writer(store, options, clock, i, start, end, acks, done, tallies[i]);
    });
  }
  const int64_t expected = static_cast<int64_t>(
      options.rate * std::chrono::duration<double>(options.duration).count());
  Progress progress(log, "writes", options.progress_tty, expected, clock);
  while (clock->Monotonic() < end) {
    clock->SleepFor(std::chrono::milliseconds(200));
    progress.Update(done.load());
  }
  for (auto& t : threads) t.join();
  progress.Finish(done.load());
  report.duration_s =
      std::chrono::duration<double>(clock->Monotonic() - start).count();

  std::vector<int64_t> latency;
  for (ThreadTally& t : tallies) {
    report.acknowledged += t.acknowledged;
    report.failed += t.failed;
    report.inserts += t.inserts;
    report.updates += t.updates;
    latency.insert(latency.end(), t.latency_us.begin(), t.latency_us.end());
    for (std::string& e : t.errors) {
      if (report.error_samples.size() < kMaxErrorSamples) {
        report.error_samples.push_back(std::move(e));
      }
    }
  }
  report.writes_per_s = report.acknowledged / report.duration_s;
  report.latency = PercentilesOf(latency);
}

// Waits for the outbox to drain and adds the relay's figures.
void DrainAfterRun(PhasedTradeStore& store, const LoadgenOptions& options,
                   LoadgenReport& report) {
  auto outbox = store.GetOutboxStatus();
  if (outbox.ok()) {
    absl::Status drained = store.DrainOutbox(options.drain_timeout);
    report.drained = drained.ok();
    if (!drained.ok()) report.drain_error = std::string(drained.message());
    outbox = store.GetOutboxStatus();
    report.outbox_left = outbox.ok() ? outbox->entries : -1;
  }
  RelayStats relay = store.relay_stats();
  report.relay_lag = PercentilesOf(relay.lag_us);
  report.sync_fallbacks = store.sync_fallbacks();
}

}  // namespace

absl::StatusOr<LoadgenReport> RunLoadgen(const LoadgenOptions& options,
                                         std::ostream& log) {
  if (!(options.rate > 0) || options.threads < 1 ||
      options.duration.count() <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--rate (", options.rate, "), --threads (",
                     options.threads, ") and --duration must be positive"));
  }
  AckLog acks;
  if (absl::Status s = acks.Open(options.ack_log); !s.ok()) return s;
  // The store's thread logs phase switches while this one shows progress:
  // into one log, each through a stream of its own.
  internal::SharedLog shared(log);
  const std::unique_ptr<std::ostream> run_log = shared.NewWriter();
  const std::unique_ptr<std::ostream> store_log = shared.NewWriter();
  PhasedStoreOptions store_options = options.store;
  if (store_options.log == &log) store_options.log = store_log.get();
  auto store = PhasedTradeStore::Open(store_options);
  if (!store.ok()) return store.status();
  LoadgenReport report;
  report.phase = PhaseName((*store)->phase());
  *run_log << "loadgen: phase " << report.phase << ", " << options.rate
           << " writes/s for " << options.duration.count() / 1000.0 << " s on "
           << options.threads << " threads" << std::endl;
  Clock* clock =
      options.store.clock != nullptr ? options.store.clock : Clock::Real();
  RunWriters(**store, options, clock, acks, *run_log, report);
  DrainAfterRun(**store, options, report);
  return report;
}

std::string LoadgenJson(const LoadgenReport& r) {
  nlohmann::json j = {
      {"phase", r.phase},
      {"acknowledged", r.acknowledged},
      {"failed", r.failed},
      {"inserts", r.inserts},
      {"updates", r.updates},
      {"duration_s", r.duration_s},
      {"writes_per_s", r.writes_per_s},
      {"latency", PercentilesJson(r.latency)},
      {"outbox_lag", PercentilesJson(r.relay_lag)},
      {"outbox_left", r.outbox_left},
      {"drained", r.drained},
      {"drain_error", r.drain_error},
      {"sync_fallbacks", r.sync_fallbacks},
      {"error_samples", r.error_samples},
  };
  return j.dump(2) + "\n";
}

void PrintLoadgenSummary(const LoadgenReport& r, std::ostream& out) {
  out << absl::StrFormat(
      "loadgen (%s): %d acknowledged (%d inserts, %d status updates), %d "
      "failed, %.0f writes/s\n"
      "  write latency p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms\n",
      r.phase, r.acknowledged, r.inserts, r.updates, r.failed, r.writes_per_s,
      r.latency.p50_us / 1000.0, r.latency.p99_us / 1000.0,
      r.latency.p999_us / 1000.0, r.latency.max_us / 1000.0);
  if (r.relay_lag.max_us > 0 || r.outbox_left > 0) {
    out << absl::StrFormat(
        "  outbox lag p50 %.2f ms, p99 %.2f ms, max %.2f ms; %s\n",
        r.relay_lag.p50_us / 1000.0, r.relay_lag.p99_us / 1000.0,
        r.relay_lag.max_us / 1000.0,
        r.drained
            ? "drained"
            : absl::StrCat(r.outbox_left, " entries left: ", r.drain_error));
  }
  for (const std::string& e : r.error_samples) out << "  error: " << e << "\n";
}

}  // namespace tradestore
