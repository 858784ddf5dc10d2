#include "testing/write_load.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "testing/trades.h"
#include "tradestore/internal/process.h"

namespace tradestore::testing {

WriteLoad::WriteLoad(TradeStore& store, const std::string& tag, int writers,
                     std::chrono::microseconds pause) {
  for (int w = 0; w < writers; ++w) {
    threads_.emplace_back([this, &store, tag, w, pause] {
      for (int n = 0; !stop_; ++n) {
        const Trade t = KeyedTrade(absl::StrCat(tag, "-", w, "-", n));
        auto r = store.Insert(t);
        Outcome o{r.ok()                        ? Outcome::kOk
                  : absl::IsUnknown(r.status()) ? Outcome::kUnknown
                                                : Outcome::kFailed,
                  *t.client_order_id, Steady::now(),
                  r.ok() ? "" : std::string(r.status().message())};
        {
          std::lock_guard<std::mutex> lock(mu_);
          outcomes_.push_back(std::move(o));
        }
        if (pause.count() > 0) std::this_thread::sleep_for(pause);
      }
    });
  }
}

int WriteLoad::AcksAfter(Steady::time_point since) {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(std::count_if(
      outcomes_.begin(), outcomes_.end(),
      [&](const auto& o) { return o.kind == Outcome::kOk && o.at > since; }));
}

bool WriteLoad::WaitAcks(int n, Steady::time_point since,
                         std::chrono::seconds deadline) {
  const auto until = Steady::now() + deadline;
  while (AcksAfter(since) < n) {
    if (Steady::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

void WriteLoad::Stop() {
  stop_ = true;
  for (auto& t : threads_) t.join();
  threads_.clear();
}

double PauseSeconds(const std::vector<Outcome>& outcomes,
                    Steady::time_point from) {
  std::vector<Steady::time_point> acks = {from};
  for (const Outcome& o : outcomes) {
    if (o.kind == Outcome::kOk && o.at > from) acks.push_back(o.at);
  }
  std::sort(acks.begin(), acks.end());
  double worst = 0;
  for (size_t i = 1; i < acks.size(); ++i) {
    worst = std::max(
        worst, std::chrono::duration<double>(acks[i] - acks[i - 1]).count());
  }
  return worst;
}

std::map<std::string, int> StoredKeys(const std::string& dsn,
                                      const std::string& tag) {
  std::map<std::string, int> out;
  auto r = internal::RunCommand(
      {"psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c",
       absl::StrCat("SELECT client_order_id, count(*) FROM trades WHERE "
                    "client_order_id LIKE '",
                    tag, "-%' GROUP BY 1")});
  if (!r.ok() || r->exit_code != 0) {
    out["<psql failed: " + (r.ok() ? r->output : r.status().ToString()) + ">"] =
        -1;
    return out;
  }
  for (absl::string_view line :
       absl::StrSplit(r->out, '\n', absl::SkipEmpty())) {
    std::vector<std::string> cells = absl::StrSplit(line, '|');
    if (cells.size() == 2) out[cells[0]] = std::stoi(cells[1]);
  }
  return out;
}

Accounting Account(const std::vector<Outcome>& outcomes,
                   const std::map<std::string, int>& stored) {
  Accounting a;
  for (const Outcome& o : outcomes) {
    const auto it = stored.find(o.key);
    const int rows = it == stored.end() ? 0 : it->second;
    switch (o.kind) {
      case Outcome::kOk:
        ++a.ok;
        if (rows == 0) a.lost.push_back("acknowledged " + o.key);
        break;
      case Outcome::kFailed:
        ++a.failed;
        if (rows > 0) {
          a.failed_but_stored.push_back(
              absl::StrCat("failed ", o.key, ": ", o.error));
        }
        break;
      case Outcome::kUnknown:
        ++a.unknown;
        if (rows == 1) ++a.unknown_committed;
        break;
    }
  }
  for (const auto& [key, rows] : stored) {
    if (rows != 1)
      a.doubled.push_back(absl::StrCat(key, " stored ", rows, " times"));
  }
  return a;
}

std::string Accounting::Problems() const {
  std::string out;
  for (const auto* list : {&lost, &doubled, &failed_but_stored}) {
    for (const auto& line : *list) absl::StrAppend(&out, line, "\n");
  }
  return out;
}

std::string Accounting::Counts() const {
  return absl::StrCat(ok, " acknowledged, ", failed, " failed, ", unknown,
                      " unknown (", unknown_committed, " committed)");
}

}  // namespace tradestore::testing
