#include "tradestore/migration/outbox_relay.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "tradestore/internal/failpoint.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/postgres/pg_mirror.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore {
namespace {

constexpr size_t kMaxLagSamples = size_t{1} << 21;
constexpr std::chrono::seconds kRateWindow{60};

// The batch's rows as Postgres takes them; a row that does not convert is
// quarantined with its reason.
void Convert(const OutboxBatch& batch, std::vector<BackfillRow>& rows,
             std::vector<QuarantineRow>& quarantined) {
  rows.reserve(batch.rows.size());
  for (const StoredRow& row : batch.rows) {
    auto trade = ConvertStoredRow(row, nullptr);
    if (trade.ok()) {
      rows.push_back({*std::move(trade), ExtraColumnsJson(row)});
    } else {
      quarantined.push_back(
          {row.id, std::string(trade.status().message()), StoredRowJson(row)});
    }
  }
}

// Adds an acknowledged round to `stats`, with each entry's lag at `now`.
void Count(const OutboxBatch& batch, const ApplyOutcome& outcome, Timestamp now,
           RelayStats& stats) {
  stats.entries_applied += static_cast<int64_t>(batch.entries.size());
  stats.rows_written += outcome.written;
  stats.rows_skipped += outcome.skipped;
  stats.rows_quarantined += outcome.quarantined;
  stats.rounds += 1;
  for (const OutboxEntry& e : batch.entries) {
    if (stats.lag_us.size() >= kMaxLagSamples) break;
    stats.lag_us.push_back(
        std::max<int64_t>(0, now.unix_micros() - e.enqueued_at.unix_micros()));
  }
}

}  // namespace

OutboxRelay::OutboxRelay(SqliteTradeStore* sqlite, PgMirror* mirror,
                         const RelayOptions& options)
    : sqlite_(sqlite),
      mirror_(mirror),
      options_(options),
      clock_(options.clock != nullptr ? options.clock : Clock::Real()),
      started_(clock_->Monotonic()) {}

OutboxRelay::~OutboxRelay() { Stop(); }

absl::StatusOr<int64_t> OutboxRelay::DrainOnce(bool ack_now) {
  internal::ScopedLock round(round_mu_);
  auto applied = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(
                     round_mu_) -> absl::StatusOr<int64_t> {
    // Entries applied but not acked yet are still in the outbox: read past
    // them. A new relay starts from the oldest entry and replays them.
    TS_ASSIGN_OR_RETURN(
        OutboxBatch batch,
        sqlite_->ReadOutbox(options_.batch_rows, applied_through_.load()));
    if (!batch.entries.empty()) {
      std::vector<BackfillRow> rows;
      std::vector<QuarantineRow> quarantined;
      Convert(batch, rows, quarantined);
      // Durable instead when the ack follows at once (confirming would
      // cost more than the flush), for a quarantine (no version to
      // confirm) and for a replay (not to be lost twice).
      const bool async = options_.async_commit && !ack_now &&
                         quarantined.empty() &&
                         applied_through_.load() >= replay_through_;
      TS_ASSIGN_OR_RETURN(ApplyOutcome outcome,
                          mirror_->Apply(rows, quarantined,
                                         async ? PgMirror::Commit::kAsync
                                               : PgMirror::Commit::kDurable));
      internal::Failpoint("relay.after_pg_commit");
      if (async) {
        for (const BackfillRow& r : rows) {
          unconfirmed_.push_back({r.trade.id, r.trade.version});
        }
      }
      NoteApplied(batch, outcome);
    }
    // Only after Postgres committed: a crash in between replays the
    // entries. An ack takes the trade writers' connection, so a busy relay
    // acks once per ack_interval rather than every round.
    const bool due = ack_now || batch.entries.empty() || !last_ack_ ||
                     clock_->Monotonic() - *last_ack_ >= options_.ack_interval;
    if (unacked_through_ > 0 && due) {
      TS_ASSIGN_OR_RETURN(int64_t again, Ack());
      if (again > 0) return again;
    }
    return static_cast<int64_t>(batch.entries.size());
  }();
  if (applied.ok()) {
    healthy_.store(true);
  } else {
    healthy_.store(false);
    internal::ScopedLock lock(mu_);
    stats_.failures += 1;
    stats_.last_error = std::string(applied.status().message());
  }
  return applied;
}

void OutboxRelay::NoteApplied(const OutboxBatch& batch,
                              const ApplyOutcome& outcome) {
  const Timestamp now = clock_->Now();
  recent_.emplace_back(clock_->Monotonic(),
                       static_cast<int64_t>(batch.entries.size()));
  for (const OutboxEntry& e : batch.entries) {
    unacked_lag_ms_ = std::max<int64_t>(
        unacked_lag_ms_,
        (now.unix_micros() - e.enqueued_at.unix_micros()) / 1000);
  }
  unacked_through_ = batch.last_seq;
  unacked_entries_ += static_cast<int64_t>(batch.entries.size());
  applied_through_.store(batch.last_seq);
  if (unconfirmed_.empty()) durable_through_.store(batch.last_seq);
  internal::ScopedLock lock(mu_);
  Count(batch, outcome, now, stats_);
}

absl::StatusOr<int64_t> OutboxRelay::Ack() {
  if (!unconfirmed_.empty()) {
    TS_ASSIGN_OR_RETURN(int64_t missing, mirror_->Confirm(unconfirmed_));
    if (missing > 0) {
      // A crash or failover took commits Postgres had returned: apply
      // everything since the last ack again.
      const int64_t again = unacked_entries_;
      replay_through_ = applied_through_.load();
      applied_through_.store(acked_through_);
      unacked_through_ = 0;
      unacked_entries_ = 0;
      unconfirmed_.clear();
      internal::ScopedLock lock(mu_);
      stats_.replays += 1;
      return again;
    }
    unconfirmed_.clear();
    durable_through_.store(unacked_through_);
  }
  const auto now = clock_->Monotonic();
  while (!recent_.empty() && now - recent_.front().first > kRateWindow) {
    recent_.pop_front();
  }
  int64_t entries = 0;
  for (const auto& [when, n] : recent_) entries += n;
  // A relay started a moment ago is judged on the time it has run.
  const auto span = std::clamp<std::chrono::steady_clock::duration>(
      now - started_, std::chrono::seconds(1), kRateWindow);
  RelayAck ack{.at = clock_->Now()};
  ack.rate_per_s = entries / std::chrono::duration<double>(span).count();
  ack.lag_ms = unacked_lag_ms_;
  TS_RETURN_IF_ERROR(sqlite_->AckOutbox(unacked_through_, ack));
  acked_through_ = unacked_through_;
  unacked_through_ = 0;
  unacked_entries_ = 0;
  unacked_lag_ms_ = 0;
  last_ack_ = now;
  return 0;
}

absl::Status OutboxRelay::Drain(std::chrono::milliseconds timeout,
                                int64_t through_seq) {
  const auto deadline = clock_->Monotonic() + timeout;
  auto delay = options_.retry_initial;
  for (;;) {
    auto applied = DrainOnce();
    if (applied.ok() &&
        (*applied == 0 || durable_through_.load() >= through_seq)) {
      return absl::OkStatus();
    }
    if (clock_->Monotonic() >= deadline) {
      auto left = sqlite_->GetOutboxStatus();
      return absl::DeadlineExceededError(absl::StrCat(
          "the outbox did not drain within ", timeout.count(), " ms: ",
          left.ok() ? absl::StrCat(left->entries, " entries left")
                    : std::string(left.status().message()),
          applied.ok()
              ? ""
              : absl::StrCat("; last error: ", applied.status().message())));
    }
    if (!applied.ok()) {
      clock_->SleepFor(delay);
      delay = std::min(delay * 2, options_.retry_max);
    }
  }
}

void OutboxRelay::Start() {
  if (thread_.joinable()) return;
  {
    internal::ScopedLock lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void OutboxRelay::Stop() {
  if (!thread_.joinable()) return;
  {
    internal::ScopedLock lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
  // What the thread applied since its last ack, so that the next start
  // does not replay it; should Postgres be down, nothing is pending.
  internal::ScopedLock round(round_mu_);
  if (unacked_through_ > 0) (void)Ack();
}

void OutboxRelay::Notify() {
  bool waiting = false;
  {
    internal::ScopedLock lock(mu_);
    notified_ = true;
    waiting = idle_waiting_;
  }
  // Only an idle wait ends early: waking the thread from any other wait, on
  // every write, took CPU from the writers for nothing.
  if (waiting) wake_.notify_one();
}

void OutboxRelay::Loop() {
  std::mt19937_64 rng(std::random_device{}());
  auto delay = options_.retry_initial;
  for (;;) {
    auto applied = DrainOnce(/*ack_now=*/false);
    std::chrono::milliseconds wait{0};
    if (!applied.ok()) {
      // Equal jitter: a fleet of services does not retry in step.
      const auto half = delay / 2;
      wait = half +
             std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(
                 0, std::max<int64_t>(half.count(), 0))(rng));
      delay = std::min(delay * 2, options_.retry_max);
    } else {
      delay = options_.retry_initial;
      wait = *applied >= options_.batch_rows ? std::chrono::milliseconds(0)
             : *applied > 0                  ? options_.min_round_interval
                                             : options_.idle_wait;
    }
    internal::ScopedLock lock(mu_);
    if (stop_) return;
    if (wait.count() > 0) {
      // Only an idle wait is cut short by new entries: after a failed round
      // Postgres is down, after a small one the next entries may gather.
      const bool idle = applied.ok() && *applied == 0;
      idle_waiting_ = idle;
      mu_.AwaitFor(wake_, wait, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stop_ || (idle && notified_);
      });
      idle_waiting_ = false;
    }
    notified_ = false;
    if (stop_) return;
  }
}

RelayStats OutboxRelay::stats() const {
  internal::ScopedLock lock(mu_);
  return stats_;
}

}  // namespace tradestore
