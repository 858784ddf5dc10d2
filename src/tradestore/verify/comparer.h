// The pure part of verify: comparing the two stores' rows of the same ids
// and writing what differs into the report. No I/O: each rule is unit-tested
// without a database.
//
// A row both stores hold equally matches; a row only SQLite holds that the
// quarantine keeps out of Postgres counts as quarantined; any other
// difference is reported, unless it may be a write in flight (a row whose
// trade waits in the dual-write outbox, or was changed within min_age),
// which is set aside to be read again in a final pass.
//
// Thread-safety: one thread at a time.
#ifndef TRADESTORE_VERIFY_COMPARER_H_
#define TRADESTORE_VERIFY_COMPARER_H_

#include <chrono>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "tradestore/postgres/copy_out.h"
#include "tradestore/timestamp.h"
#include "tradestore/verify/chunk.h"
#include "tradestore/verify/money_tally.h"
#include "tradestore/verify/verifier.h"

namespace tradestore::verify {

struct CompareOptions {
  int max_samples = 100;  // ids and mismatches kept in the report
  std::chrono::microseconds min_age{0};
  Timestamp started_at;  // the run's start; min_age counts back from it
  bool keep_differences = false;  // every difference, for --repair
};

class Comparer {
 public:
  enum class Kind { kMissingInPostgres, kMissingInSqlite, kMismatched };

  // `report` must outlive the comparer.
  Comparer(const CompareOptions& options, VerifyReport* report)
      : options_(options), report_(report) {}

  // The rows the quarantine keeps out of Postgres.
  void set_quarantined(absl::flat_hash_set<int64_t> ids) {
    quarantined_ = std::move(ids);
  }
  // Trades waiting in the dual-write outbox when the run started.
  void set_in_outbox(absl::flat_hash_set<int64_t> ids) {
    in_outbox_ = std::move(ids);
  }

  // Compares two id-ordered chunks; `final_pass` reports every difference
  // instead of setting writes in flight aside.
  void Merge(const Chunk& sqlite, const Chunk& postgres, bool final_pass);

  // The same for a full scan's chunks: SQLite's encoded, Postgres's as
  // sent. Rows equal as bytes match; the others are decoded, compared, and
  // their trades tallied in the `unmatched` tallies.
  void MergeBytes(const EncodedChunk& sqlite, const pg::RawRows& postgres,
                  MoneyTally* sqlite_unmatched, MoneyTally* pg_unmatched);

  // The rows set aside as writes in flight, sorted and unique; clears them.
  std::vector<int64_t> TakeInFlight();
  // The newest change among them.
  Timestamp newest_in_flight() const { return newest_in_flight_; }

  // Every difference (with keep_differences).
  const std::vector<std::pair<Kind, int64_t>>& differences() const {
    return differences_;
  }
  // Trades SQLite holds that the quarantine keeps out of Postgres.
  const MoneyTally& quarantined_money() const { return quarantined_money_; }

 private:
  void CompareOne(int64_t id, const Seen& s, const Seen& p, bool final_pass);
  // A difference between the two sides of row `id`.
  void Report(Kind kind, int64_t id, const Seen& sqlite, const Seen& postgres);
  // Sets row `id` aside as a write in flight, when there is room.
  bool SetAside(int64_t id);

  const CompareOptions options_;
  VerifyReport* const report_;
  absl::flat_hash_set<int64_t> quarantined_;
  absl::flat_hash_set<int64_t> in_outbox_;
  std::vector<int64_t> in_flight_;
  Timestamp newest_in_flight_;
  MoneyTally quarantined_money_;
  std::vector<std::pair<Kind, int64_t>> differences_;
};

}  // namespace tradestore::verify

#endif  // TRADESTORE_VERIFY_COMPARER_H_
