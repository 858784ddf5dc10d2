#include "tradestore/migration/store_metrics.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tradestore/internal/prom_text.h"
#include "tradestore/migration/phased_trade_store.h"

namespace tradestore {
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
  PromText t;
  const Phase current = f.phase;
  for (Phase p : {Phase::kSqliteOnly, Phase::kDualWrite, Phase::kReadPostgres,
                  Phase::kPostgresOnly, Phase::kArchived}) {
    t.Gauge("tradestore_store_phase",
            "1 for the migration phase the store follows", p == current ? 1 : 0,
            PromLabels({{"phase", PhaseName(p)}}));
  }
  // No outbox past the SQLite phases: no figure rather than a false 0.
  if (const auto& outbox = f.outbox) {
    t.Gauge("tradestore_store_outbox_entries",
            "dual-write entries not yet applied to Postgres", outbox->entries);
    const double age =
        outbox->oldest ? static_cast<double>(f.now.unix_micros() -
                                             outbox->oldest->unix_micros()) /
                             1e6
                       : 0;
    t.Gauge("tradestore_store_outbox_oldest_age_seconds",
            "how long the oldest outbox entry has waited", age > 0 ? age : 0.0);
  }
  const RelayStats& relay = f.relay;
  t.Counter("tradestore_store_relay_applied_total",
            "outbox entries the relay applied", relay.entries_applied);
  t.Counter("tradestore_store_relay_rows_total",
            "rows the relay wrote, skipped (Postgres had that version) or "
            "quarantined",
            relay.rows_written, PromLabels({{"outcome", "written"}}));
  t.Counter("tradestore_store_relay_rows_total", "", relay.rows_skipped,
            PromLabels({{"outcome", "skipped"}}));
  t.Counter("tradestore_store_relay_rows_total", "", relay.rows_quarantined,
            PromLabels({{"outcome", "quarantined"}}));
  t.Counter("tradestore_store_relay_failures_total",
            "relay rounds that failed (Postgres down, a refused row)",
            relay.failures);
  t.Counter("tradestore_store_relay_replays_total",
            "times Postgres had lost asynchronously committed rows (a crash "
            "or failover) and the relay applied them again",
            relay.replays);
  t.Counter("tradestore_store_sync_fallbacks_total",
            "synchronous writes acknowledged on SQLite alone",
            f.sync_fallbacks);
  const PgPoolStats& pool = f.pool;
  t.Counter("tradestore_store_pg_connects_total", "Postgres connections opened",
            pool.connects);
  t.Counter("tradestore_store_pg_connect_failures_total",
            "Postgres connection attempts that failed", pool.connect_failures);
  t.Counter("tradestore_store_pg_retries_total",
            "waits before another Postgres attempt", pool.retries);
  t.Counter("tradestore_store_pg_pool_waits_total",
            "calls that waited for a free pooled connection", pool.waits);
  return t.Take();
}

}  // namespace tradestore
