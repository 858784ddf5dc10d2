// The verify run behind RunVerify (verifier.h): what it holds while it
// runs and the steps it takes, in several files: the run itself
// (verifier.cc), the full scan (full_scan.cc) and --repair (repair.cc).
// The comparison rules are in comparer.h. Internal to the verifier.
//
// Thread-safety: one run, driven by one thread (the scans start their own).
#ifndef TRADESTORE_VERIFY_VERIFIER_IMPL_H_
#define TRADESTORE_VERIFY_VERIFIER_IMPL_H_

#include <memory>
#include <optional>
#include <ostream>
#include <vector>

#include "absl/status/statusor.h"
#include "tradestore/clock.h"
#include "tradestore/internal/progress.h"
#include "tradestore/phase.h"
#include "tradestore/postgres/pg_binary_copy.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/sqlite/sqlite_trade_store.h"
#include "tradestore/verify/chunk.h"
#include "tradestore/verify/comparer.h"
#include "tradestore/verify/money_tally.h"
#include "tradestore/verify/verifier.h"

namespace tradestore::verify {

// Postgres connections a full scan reads on (see FullScan).
inline constexpr int kPgLanes = 2;
// SQLite reader threads of a full scan: one cannot keep up with two
// Postgres lanes and the merge.
inline constexpr int kSqliteReaders = 2;

struct ScanPipes;  // full_scan.cc

class Verifier {
 public:
  Verifier(const VerifyOptions& options, std::ostream& log);
  absl::StatusOr<VerifyReport> Run();

 private:
  // Opens both stores and reads what the comparison needs to know first.
  absl::Status Open();
  absl::Status LoadQuarantine();
  absl::Status LoadOutbox();
  // Every row (full) or an id window (ids), both stores side by side.
  absl::Status FullScan();
  // FullScan's parts: a SQLite reader thread, a Postgres lane, and the
  // merge, which returns the ids it got through.
  absl::Status ReadSqliteRanges(ScanPipes& pipes, MoneyTally& money);
  void ReadPostgresLane(ScanPipes& pipes, int lane);
  int64_t MergeChunks(ScanPipes& pipes, int64_t from, Progress& progress,
                      MoneyTally* sqlite_unmatched, MoneyTally* pg_unmatched);
  // The rows with ids of 0 and below, which FullScan's ranges (from 1) do
  // not reach: no trade has such an id, so each is a difference or a row the
  // backfill quarantined. Tallies their money as FullScan does.
  absl::Status NonPositiveIds(MoneyTally* sqlite_money,
                              MoneyTally* sqlite_unmatched,
                              MoneyTally* pg_unmatched);
  // Opens copy connections until there are `count`.
  absl::Status OpenReaders(int count);
  void FillTotals(const MoneyTally& sqlite, const MoneyTally& postgres);
  // The rows changed at or after `since` in either store.
  absl::Status ChangedRows(Timestamp since);
  // --incremental: ChangedRows since the last clean run, or FullScan.
  absl::Status Incremental();
  // Reads the given ids (sorted) from both stores into chunks.
  absl::Status ReadIds(const std::vector<int64_t>& ids, Chunk& sqlite,
                       Chunk& postgres);
  absl::Status WaitForOutbox();
  absl::Status RecheckInFlight();
  // Makes the store that is not the source of truth match the one that is.
  absl::Status Repair();
  absl::Status RepairPostgres(int64_t id, Comparer::Kind kind);
  // The dry run: what Repair would change, in the repair log; no write.
  absl::Status DescribeRepairs(Phase phase);
  void NoteRepair(std::string line);
  absl::Status Record();

  const VerifyOptions& options_;
  std::ostream& log_;
  Clock* clock_;
  VerifyReport report_;
  std::optional<Comparer> comparer_;  // made when the run starts
  std::unique_ptr<SqliteTradeStore> sqlite_;
  std::unique_ptr<PgPool> pool_;
  // The full scan's Postgres lanes (binary COPY, a connection each); short
  // reads go through the pool's connection.
  std::vector<std::unique_ptr<pg::BinaryCopyReader>> pg_readers_;
  // The last outbox seq when the run started (0: the outbox was empty).
  int64_t outbox_through_ = 0;
};

}  // namespace tradestore::verify

#endif  // TRADESTORE_VERIFY_VERIFIER_IMPL_H_
