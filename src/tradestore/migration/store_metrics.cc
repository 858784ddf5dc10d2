#include "tradestore/migration/store_metrics.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tradestore/migration/phased_trade_store.h"

namespace tradestore {
namespace {

class Text {
 public:
  void Add(const std::string& name, const char* type, const char* help,
           const std::string& value, const std::string& labels = "") {
    if (name != last_) {
      absl::StrAppend(&out_, "# HELP ", name, " ", help, "\n# TYPE ", name, " ",
                      type, "\n");
      last_ = name;
    }
    absl::StrAppend(&out_, name, labels, " ", value, "\n");
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_, last_;
};

}  // namespace

std::string PhasedTradeStore::PrometheusMetrics() {
  StoreFigures f;
  f.phase = phase();
  if (auto outbox = GetOutboxStatus(); outbox.ok()) f.outbox = *outbox;
  f.now = Clock::Real()->Now();
  f.relay = relay_stats();
  f.sync_fallbacks = sync_fallbacks();
  f.pool = pool_stats();
  return StoreMetricsText(f);
}

std::string StoreMetricsText(const StoreFigures& f) {
  Text t;
  const Phase current = f.phase;
  for (Phase p : {Phase::kSqliteOnly, Phase::kDualWrite, Phase::kReadPostgres,
                  Phase::kPostgresOnly, Phase::kArchived}) {
    t.Add("tradestore_store_phase", "gauge",
          "1 for the migration phase the store follows",
          p == current ? "1" : "0",
          absl::StrCat("{phase=\"", PhaseName(p), "\"}"));
  }
  // No outbox past the SQLite phases: no figure rather than a false 0.
  if (const auto& outbox = f.outbox) {
    t.Add("tradestore_store_outbox_entries", "gauge",
          "dual-write entries not yet applied to Postgres",
          absl::StrCat(outbox->entries));
    const double age =
        outbox->oldest ? static_cast<double>(f.now.unix_micros() -
                                             outbox->oldest->unix_micros()) /
                             1e6
                       : 0;
    t.Add("tradestore_store_outbox_oldest_age_seconds", "gauge",
          "how long the oldest outbox entry has waited",
          absl::StrCat(age > 0 ? age : 0));
  }
  const RelayStats& relay = f.relay;
  t.Add("tradestore_store_relay_applied_total", "counter",
        "outbox entries the relay applied",
        absl::StrCat(relay.entries_applied));
  t.Add("tradestore_store_relay_rows_total", "counter",
        "rows the relay wrote, skipped (Postgres had that version) or "
        "quarantined",
        absl::StrCat(relay.rows_written), "{outcome=\"written\"}");
  t.Add("tradestore_store_relay_rows_total", "counter", "",
        absl::StrCat(relay.rows_skipped), "{outcome=\"skipped\"}");
  t.Add("tradestore_store_relay_rows_total", "counter", "",
        absl::StrCat(relay.rows_quarantined), "{outcome=\"quarantined\"}");
  t.Add("tradestore_store_relay_failures_total", "counter",
        "relay rounds that failed (Postgres down, a refused row)",
        absl::StrCat(relay.failures));
  t.Add("tradestore_store_sync_fallbacks_total", "counter",
        "synchronous writes acknowledged on SQLite alone",
        absl::StrCat(f.sync_fallbacks));
  const PgPoolStats& pool = f.pool;
  t.Add("tradestore_store_pg_connects_total", "counter",
        "Postgres connections opened", absl::StrCat(pool.connects));
  t.Add("tradestore_store_pg_connect_failures_total", "counter",
        "Postgres connection attempts that failed",
        absl::StrCat(pool.connect_failures));
  t.Add("tradestore_store_pg_retries_total", "counter",
        "waits before another Postgres attempt", absl::StrCat(pool.retries));
  t.Add("tradestore_store_pg_pool_waits_total", "counter",
        "calls that waited for a free pooled connection",
        absl::StrCat(pool.waits));
  return t.Take();
}

}  // namespace tradestore
