// The embedded store's figures as Prometheus text: what execution-service
// serves on its /metrics (PhasedTradeStore::PrometheusMetrics gathers them).
#ifndef TRADESTORE_MIGRATION_STORE_METRICS_H_
#define TRADESTORE_MIGRATION_STORE_METRICS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "tradestore/migration/outbox_relay.h"
#include "tradestore/phase.h"
#include "tradestore/postgres/pg_options.h"
#include "tradestore/sqlite/sqlite_trade_store.h"
#include "tradestore/timestamp.h"

namespace tradestore {

struct StoreFigures {
  Phase phase = Phase::kSqliteOnly;
  std::optional<OutboxStatus> outbox;  // none past the SQLite phases
  Timestamp now;
  RelayStats relay;
  int64_t sync_fallbacks = 0;
  PgPoolStats pool;
};

std::string StoreMetricsText(const StoreFigures& figures);

}  // namespace tradestore

#endif  // TRADESTORE_MIGRATION_STORE_METRICS_H_
