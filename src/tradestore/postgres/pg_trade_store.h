// PgTradeStore: the TradeStore over Postgres (schema from migrations/).
//
// Every write is a short transaction through PgPool, safe behind PgBouncer
// in transaction mode. A commit whose outcome is unknown (connection lost
// during COMMIT) is resolved by looking the trade up, never by a blind retry:
// an insert reserves its id before it writes, so the lookup by id is exact
// and a retry with the same id can never make a second row.
//
// Thread-safety: safe for concurrent use.
#ifndef TRADESTORE_POSTGRES_PG_TRADE_STORE_H_
#define TRADESTORE_POSTGRES_PG_TRADE_STORE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "tradestore/postgres/pg_options.h"
#include "tradestore/trade_store.h"

namespace tradestore {

class PgPool;
namespace pg {
class ReplicaRouter;
}

class PgTradeStore : public TradeStore {
 public:
  // Connects and checks that the schema is migrated to this build's version
  // (neither, with options.connect_at_open false).
  // Returns kFailedPrecondition (run `tradestore schema migrate`),
  // kUnavailable, kInvalidArgument (bad DSN).
  static absl::StatusOr<std::unique_ptr<PgTradeStore>> Open(
      const PgOptions& options);
  ~PgTradeStore() override;

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

  PgPool& pool() { return *pool_; }
  // All zero without options.replica_dsn.
  ReplicaReadStats replica_stats() const;
  PgPoolStats pool_stats() const;

 private:
  PgTradeStore(std::unique_ptr<PgPool> pool,
               std::unique_ptr<pg::ReplicaRouter> router);
  absl::StatusOr<int64_t> ReserveId();
  // Inserts `t` under its id (already set), settling an unknown commit.
  absl::StatusOr<InsertResult> InsertAt(const Trade& t);
  // `may_be_old`: a replica may answer (see PgOptions::replica_dsn).
  absl::StatusOr<std::vector<Trade>> Select(const std::string& where,
                                            std::vector<std::string> params,
                                            bool may_be_old = false);
  // The trade, read in a transaction whose own commit waits for the
  // synchronous standby: what settles an unknown commit (see the .cc).
  absl::StatusOr<Trade> GetDurably(int64_t id);

  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<pg::ReplicaRouter> router_;  // null: no replicas
};

}  // namespace tradestore

#endif  // TRADESTORE_POSTGRES_PG_TRADE_STORE_H_
