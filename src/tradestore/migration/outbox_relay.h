// OutboxRelay: applies the dual-write outbox of a SQLite store to Postgres.
//
// Each round reads a batch of outbox entries with the current rows of their
// trades and applies the rows with PgMirror's version-guarded upserts,
// committed asynchronously; only once Postgres confirms, durably, that it
// holds every such row are the entries deleted (acked), once per
// ack_interval while busy, at once when the outbox is empty. A crash in
// between replays the entries, which changes nothing; rows a Postgres crash
// lost are found by the confirmation and applied again. Rows SQLite holds
// but cannot convert exactly go to trades_quarantine. While Postgres is
// unreachable the relay backs off (exponential, jittered, capped) and keeps
// trying; writers never wait for it, the outbox just grows.
//
// Runs as a background thread inside the embedding process (Start/Stop) and
// in `tradestore relay`; DrainOnce/Drain serve tools and tests.
//
// Thread-safety: safe for concurrent use; one round runs at a time.
#ifndef TRADESTORE_MIGRATION_OUTBOX_RELAY_H_
#define TRADESTORE_MIGRATION_OUTBOX_RELAY_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "tradestore/clock.h"
#include "tradestore/internal/mutex.h"
#include "tradestore/migration/relay_options.h"

namespace tradestore {

struct ApplyOutcome;
struct OutboxBatch;
class PgMirror;
struct RelayAck;
struct RowVersion;
class SqliteTradeStore;

class OutboxRelay {
 public:
  // `sqlite` and `mirror` must outlive the relay.
  OutboxRelay(SqliteTradeStore* sqlite, PgMirror* mirror,
              const RelayOptions& options);
  ~OutboxRelay();  // Stop()

  // One round: applies up to batch_rows entries and acks every entry
  // applied so far; with `ack_now` false, as the thread runs it, the ack
  // waits for ack_interval unless the outbox is empty. Returns how many were
  // applied, or, when Postgres turned out to have lost some, how many are
  // to be applied again (0: the outbox is empty and all is acked); or the
  // error (kUnavailable when Postgres is down); nothing is lost on error.
  absl::StatusOr<int64_t> DrainOnce(bool ack_now = true);

  // Rounds until the outbox is empty, or until every entry up to
  // `through_seq` is applied (under load the outbox is never empty).
  // Returns kDeadlineExceeded (naming what is left) when `timeout` passes
  // first.
  absl::Status Drain(std::chrono::milliseconds timeout,
                     int64_t through_seq = INT64_MAX);

  // The background thread. Start is a no-op when running. Stop acks what
  // the thread applied.
  void Start();
  void Stop();
  bool running() const { return thread_.joinable(); }
  // A new entry was written: wake the thread.
  void Notify();

  // False after a failed round until the next good one: synchronous writers
  // do not wait for a Postgres known to be down.
  bool healthy() const { return healthy_.load(); }
  // Every entry with seq <= this has been applied by this relay, durably.
  int64_t applied_through_seq() const { return durable_through_.load(); }

  RelayStats stats() const;

 private:
  void Loop();
  void NoteApplied(const OutboxBatch& batch, const ApplyOutcome& outcome)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(round_mu_);
  // Confirms the rows applied asynchronously since the last ack, then
  // deletes the entries applied since and records the ack for `tradestore
  // status`. Returns how many entries are to be applied again (the cursor
  // is back at the last ack) when Postgres lost some of those rows.
  absl::StatusOr<int64_t> Ack() ABSL_EXCLUSIVE_LOCKS_REQUIRED(round_mu_);

  SqliteTradeStore* const sqlite_;
  PgMirror* const mirror_;
  const RelayOptions options_;
  Clock* const clock_;

  internal::Mutex round_mu_;  // one round at a time
  const std::chrono::steady_clock::time_point started_;
  // (when, entries) of the rounds of the last minute.
  std::deque<std::pair<std::chrono::steady_clock::time_point, int64_t>> recent_
      ABSL_GUARDED_BY(round_mu_);
  // Applied but not acked yet: through this seq (0: none), how many
  // entries, the longest lag; the rows committed asynchronously.
  int64_t unacked_through_ ABSL_GUARDED_BY(round_mu_) = 0;
  int64_t unacked_entries_ ABSL_GUARDED_BY(round_mu_) = 0;
  int64_t unacked_lag_ms_ ABSL_GUARDED_BY(round_mu_) = 0;
  std::vector<RowVersion> unconfirmed_ ABSL_GUARDED_BY(round_mu_);
  int64_t acked_through_ ABSL_GUARDED_BY(round_mu_) = 0;
  // After a loss, rounds commit durably until the cursor is back here.
  int64_t replay_through_ ABSL_GUARDED_BY(round_mu_) = 0;
  std::optional<std::chrono::steady_clock::time_point> last_ack_
      ABSL_GUARDED_BY(round_mu_);

  mutable internal::Mutex mu_;
  std::condition_variable wake_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool notified_ ABSL_GUARDED_BY(mu_) = false;
  bool idle_waiting_ ABSL_GUARDED_BY(mu_) = false;
  RelayStats stats_ ABSL_GUARDED_BY(mu_);

  std::atomic<bool> healthy_{true};
  std::atomic<int64_t> applied_through_{0};  // the read cursor
  std::atomic<int64_t> durable_through_{0};
  std::thread thread_;
};

}  // namespace tradestore

#endif  // TRADESTORE_MIGRATION_OUTBOX_RELAY_H_
