// PhasedTradeStore: the TradeStore execution-service embeds. Its reads and
// writes follow the migration phase kept in Postgres:
//
//   phase          writes                          reads
//   sqlite_only    SQLite                          SQLite
//   dual_write     SQLite + outbox (relay -> PG)   SQLite
//   read_postgres  SQLite + outbox, and at once    Postgres (SQLite while a
//                  to Postgres (read-your-writes)  write of ours is not there
//                                                  yet, or Postgres is down)
//   postgres_only  Postgres (it assigns ids)       Postgres
//   archived       Postgres; SQLite never opened   Postgres
//
// A trade is acknowledged once SQLite committed it with its outbox entry (in
// the SQLite phases): a Postgres outage, a slow network or a PgBouncer
// restart never fails or slows such a write, the outbox grows and the relay
// thread drains it when Postgres is back. In synchronous mode (and always in
// read_postgres) the write also waits for Postgres, up to sync_timeout;
// past that, or while the relay knows Postgres is down, it is acknowledged
// on SQLite alone, still safe in the outbox, and reads go to SQLite until
// the relay has applied it.
//
// The phase is polled (LISTEN does not pass PgBouncer's transaction mode)
// and a change is made at a clean point: new calls wait while the calls in
// flight finish, so no write is lost or doubled. Leaving the SQLite phases
// drains the outbox and moves the Postgres id sequence first; coming back
// from postgres_only copies Postgres's newer trades into SQLite first (the
// reverse catch-up). A step that cannot be made yet (Postgres down) is
// retried at the next poll; until then the old phase holds. The phase is
// mirrored into the SQLite file, so a restart during a Postgres outage
// still knows it.
//
// Thread-safety: safe for concurrent use.
#ifndef TRADESTORE_MIGRATION_PHASED_TRADE_STORE_H_
#define TRADESTORE_MIGRATION_PHASED_TRADE_STORE_H_

#include <chrono>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "tradestore/clock.h"
#include "tradestore/migration/relay_options.h"
#include "tradestore/phase.h"
#include "tradestore/postgres/pg_options.h"
#include "tradestore/sqlite/outbox_status.h"
#include "tradestore/trade_store.h"

namespace tradestore {

struct PhasedStoreOptions {
  std::string sqlite_path;
  PgOptions pg;
  // Dual-write waits for Postgres on every write (read_postgres always
  // does), up to sync_timeout.
  bool synchronous = false;
  std::chrono::milliseconds sync_timeout{1000};
  // How often the phase is read from Postgres; 0 = never by itself (call
  // CheckPhase), for tests.
  std::chrono::milliseconds phase_poll{2000};
  // How long opening waits for Postgres to learn the phase before it falls
  // back to the copy mirrored in the SQLite file.
  std::chrono::milliseconds phase_read_timeout{3000};
  // The relay thread in this process; off when `tradestore relay` runs
  // beside it.
  bool run_relay = true;
  RelayOptions relay;
  // Leaving the SQLite phases waits this long for the outbox to drain.
  std::chrono::milliseconds switch_drain_timeout{10000};
  // SQLite synchronous=FULL (survives power loss) or NORMAL (a crash).
  bool sqlite_sync_full = true;
  Clock* clock = nullptr;       // null = Clock::Real()
  std::ostream* log = nullptr;  // phase switches and trouble; null = quiet
};

class PhasedTradeStore : public TradeStore {
 public:
  // Learns the phase (Postgres, else the SQLite mirror, else sqlite_only)
  // and opens what it needs. Postgres being down is not an error in the
  // SQLite phases. Returns SqliteTradeStore::Open's errors,
  // kInvalidArgument (bad DSN).
  static absl::StatusOr<std::unique_ptr<PhasedTradeStore>> Open(
      const PhasedStoreOptions& options);
  ~PhasedTradeStore() override;

  absl::StatusOr<InsertResult> Insert(const Trade& trade) override;
  using TradeStore::UpdateStatus;
  absl::StatusOr<Trade> UpdateStatus(
      int64_t id, TradeStatus status,
      std::optional<int64_t> expected_version) override;
  absl::StatusOr<Trade> Get(int64_t id) override;
  absl::StatusOr<Trade> GetByClientOrderId(absl::string_view key) override;
  absl::StatusOr<std::vector<Trade>> QueryBySymbol(
      const SymbolQuery& query) override;
  absl::StatusOr<int64_t> Count() override;
  absl::StatusOr<std::vector<Trade>> ScanById(int64_t after_id,
                                              int limit) override;

  Phase phase() const;

  // Reads the phase now and switches if it changed. Returns kUnavailable
  // (Postgres down: the phase holds), or why a switch cannot be made yet
  // (kDeadlineExceeded: the outbox did not drain).
  absl::Status CheckPhase();

  // Applies the whole outbox. kFailedPrecondition when SQLite is not open.
  absl::Status DrainOutbox(std::chrono::milliseconds timeout);
  absl::StatusOr<OutboxStatus> GetOutboxStatus();
  RelayStats relay_stats() const;
  // Synchronous writes acknowledged on SQLite alone (Postgres too slow or
  // down).
  int64_t sync_fallbacks() const;
  // The Postgres pool's reconnects, retries and waits.
  PgPoolStats pool_stats() const;

  // Every figure above as Prometheus text (store_metrics.h), for the
  // service to serve on its /metrics.
  std::string PrometheusMetrics();

 private:
  struct Impl;
  explicit PhasedTradeStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tradestore

#endif  // TRADESTORE_MIGRATION_PHASED_TRADE_STORE_H_
