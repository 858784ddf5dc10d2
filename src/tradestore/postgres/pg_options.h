// Options for every Postgres connection tradestore opens.
//
// `dsn` is any libpq conninfo or URI: several hosts with
// target_session_attrs=read-write, sslmode=verify-full, a PgBouncer in
// transaction pool mode in front (tradestore keeps no session state and uses
// no named prepared statements). An empty dsn lets libpq read the PG*
// environment variables. Passwords never appear in logs or messages.
#ifndef TRADESTORE_POSTGRES_PG_OPTIONS_H_
#define TRADESTORE_POSTGRES_PG_OPTIONS_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "tradestore/backoff_options.h"
#include "tradestore/clock.h"

namespace tradestore {

struct PgTestHooks;  // postgres/pg_test_hooks.h, for tests only

// What the store's reads on replicas came to (PgTradeStore::replica_stats).
struct ReplicaReadStats {
  int64_t replica_reads = 0;   // served by a replica
  int64_t behind = 0;          // to the primary: behind, or no longer a standby
  int64_t unavailable = 0;     // sent to the primary: no replica answered
  int64_t last_lag_bytes = 0;  // the last replica's replay behind the primary
};

// What a store's connection pool went through, since it opened.
struct PgPoolStats {
  int64_t connects = 0;          // connections opened
  int64_t connect_failures = 0;  // attempts that failed
  int64_t retries = 0;           // waits before another attempt
  int64_t waits = 0;             // calls that waited for a free connection
};

struct PgOptions {
  std::string dsn;
  // Read replicas (HAProxy's replica port, or a multi-host DSN with
  // target_session_attrs=standby). When set, reads that may be slightly old
  // (QueryBySymbol, Count) go to a replica whose replay is within
  // max_replica_lag_bytes of the primary and past this store's own writes,
  // else to the primary. Reads by id or key always go to the primary.
  std::string replica_dsn;
  int64_t max_replica_lag_bytes = 1 << 20;
  // Connections kept open at most.
  int pool_size = 4;
  // Seconds libpq waits for one connection attempt (added to the DSN unless
  // it, or PGCONNECT_TIMEOUT, sets connect_timeout).
  int connect_timeout_s = 5;
  // A connection whose peer vanished (a host lost, a link cut) is given up
  // after about this long: TCP keepalives probe an idle connection and
  // tcp_user_timeout bounds data left unacknowledged (each added to the DSN
  // unless it sets it). 0 leaves the kernel's defaults, which wait hours.
  int dead_peer_timeout_s = 30;
  // One attempt of the store's own calls (a write, a read, a relay batch,
  // a health check) whose server stops answering while its host still
  // acknowledges (a frozen process or proxy) is ended after this long:
  // the connection is shut down and the call retried or reported like a
  // lost connection (kUnknown for a COMMIT in flight). The backfill, the
  // verify scans and migrations, which may rightly run for minutes, are
  // not bounded by it. 0: no bound.
  int call_timeout_s = 30;
  // Reconnects and retries: exponential backoff with jitter and a cap, up to
  // an overall deadline per call. The cap is low so that the end of a
  // failover is noticed within half a second, not up to two.
  BackoffOptions backoff = {.max_delay = std::chrono::milliseconds(500)};
  // A connection idle longer than this is checked with a round trip before
  // it is lent out.
  std::chrono::milliseconds health_check_after_idle{1000};
  std::string application_name = "tradestore";
  // false: opening checks nothing and connects on first use, so a service
  // can start while Postgres is down (dual-write keeps working on SQLite).
  bool connect_at_open = true;
  // Called after each backoff wait, before the next attempt, with the error
  // that caused it, the attempts so far, the wait and the time spent in
  // all: a command logs its retries. From any thread that uses the store;
  // must not block.
  std::function<void(const absl::Status& why, int attempt,
                     std::chrono::milliseconds waited,
                     std::chrono::milliseconds elapsed)>
      on_retry;
  Clock* clock = nullptr;              // null = Clock::Real()
  const PgTestHooks* hooks = nullptr;  // tests only
};

}  // namespace tradestore

#endif  // TRADESTORE_POSTGRES_PG_OPTIONS_H_
