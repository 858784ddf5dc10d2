#include "tradestore/migration/phased_trade_store.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "tradestore/internal/mutex.h"
#include "tradestore/internal/rw_lock.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/migration/outbox_relay.h"
#include "tradestore/migration/phase.h"
#include "tradestore/migration/reverse_catch_up.h"
#include "tradestore/postgres/pg_mirror.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/postgres/pg_trade_store.h"
#include "tradestore/sqlite/phase_mirror.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore {
namespace {

bool WritesSqlite(Phase p) {
  return p == Phase::kSqliteOnly || p == Phase::kDualWrite ||
         p == Phase::kReadPostgres;
}

bool Enqueues(Phase p) {
  return p == Phase::kDualWrite || p == Phase::kReadPostgres;
}

PgOptions WithDeadline(PgOptions options, std::chrono::milliseconds deadline) {
  options.backoff.deadline = deadline;
  options.backoff.max_delay = std::min(options.backoff.max_delay, deadline);
  options.connect_timeout_s = std::max<int>(
      1,
      static_cast<int>(
          std::chrono::duration_cast<std::chrono::seconds>(deadline).count()));
  return options;
}

}  // namespace

struct PhasedTradeStore::Impl {
  PhasedStoreOptions options;
  Clock* clock = nullptr;

  // Shared by every call, exclusive for a phase switch: the clean point.
  mutable internal::RwLock route_mu;
  Phase phase ABSL_GUARDED_BY(route_mu) = Phase::kSqliteOnly;
  int64_t phase_version ABSL_GUARDED_BY(route_mu) = 0;
  Timestamp phase_changed_at ABSL_GUARDED_BY(route_mu);

  std::unique_ptr<SqliteTradeStore> sqlite;
  std::unique_ptr<PgTradeStore> pg;   // connects on first use
  std::unique_ptr<PgMirror> mirror;   // over pg's pool
  std::unique_ptr<PgPool> sync_pool;  // short deadline
  std::unique_ptr<PgMirror> sync_mirror;
  std::unique_ptr<OutboxRelay> relay;

  internal::Mutex phase_store_mu;
  std::unique_ptr<PhaseStore> phase_store ABSL_GUARDED_BY(phase_store_mu);

  // Reads in read_postgres go to SQLite until the relay has applied every
  // entry up to this seq (a write of ours Postgres may not have yet).
  std::atomic<int64_t> read_sqlite_through{0};
  std::atomic<int64_t> sync_fallbacks{0};

  internal::Mutex log_mu;
  internal::Mutex poll_mu;
  std::condition_variable poll_wake;
  bool stopping ABSL_GUARDED_BY(poll_mu) = false;
  std::thread poller;

  void Log(const std::string& line) {
    if (options.log == nullptr) return;
    internal::ScopedLock lock(log_mu);
    *options.log << "tradestore: " << line << std::endl;
  }

  absl::Status OpenSqlite() {
    if (sqlite) return absl::OkStatus();
    TS_ASSIGN_OR_RETURN(
        sqlite, SqliteTradeStore::Open({.path = options.sqlite_path,
                                        .sync_full = options.sqlite_sync_full,
                                        .clock = clock}));
    RelayOptions r = options.relay;
    if (r.clock == nullptr) r.clock = clock;
    relay = std::make_unique<OutboxRelay>(sqlite.get(), mirror.get(), r);
    return absl::OkStatus();
  }

  absl::StatusOr<PhaseStore*> Phases() {
    internal::ScopedLock lock(phase_store_mu);
    if (!phase_store) {
      TS_ASSIGN_OR_RETURN(phase_store,
                          PhaseStore::Open(WithDeadline(
                              options.pg, options.phase_read_timeout)));
    }
    return phase_store.get();
  }

  // Makes `next` the phase. On error nothing changed and the old phase
  // holds.
  absl::Status SwitchTo(const PhaseState& next, bool first)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(route_mu) {
    const Phase from = phase, to = next.phase;
    if (WritesSqlite(to)) {
      TS_RETURN_IF_ERROR(OpenSqlite());
      if (!first && !WritesSqlite(from)) {
        // Back from postgres_only: SQLite must hold what Postgres took alone.
        TS_ASSIGN_OR_RETURN(CatchUpResult caught,
                            ReverseCatchUp(*mirror, *sqlite, phase_changed_at));
        Log(absl::StrCat("reverse catch-up copied ", caught.written, " of ",
                         caught.read, " Postgres trades into SQLite"));
      }
    }
    if (!first && WritesSqlite(from) && !WritesSqlite(to) && sqlite) {
      // Every SQLite write must be in Postgres before Postgres alone is
      // written, and the sequence must not hand out an id SQLite gave.
      TS_RETURN_IF_ERROR(relay->Drain(options.switch_drain_timeout));
      TS_RETURN_IF_ERROR(mirror->AdvanceSequence().status());
    }
    // Entries a rollback to sqlite_only leaves wait for the next
    // dual_write (or `tradestore relay`): Postgres may be gone by then.
    if (relay && Enqueues(to) && options.run_relay) {
      relay->Start();
    } else if (relay) {
      relay->Stop();
    }
    if (to == Phase::kReadPostgres && sqlite) {
      // Entries not applied yet (an earlier run's too): reads stay on
      // SQLite until the relay has them in Postgres.
      TS_ASSIGN_OR_RETURN(OutboxStatus outbox, sqlite->GetOutboxStatus());
      if (outbox.entries > 0) ReadSqliteThrough(outbox.last_seq);
    }
    if (to == Phase::kArchived) {
      relay.reset();
      sqlite.reset();
    }
    phase = to;
    phase_version = next.version;
    phase_changed_at = next.changed_at;
    if (sqlite) {
      absl::Status mirrored = MirrorPhaseIntoSqlite(*sqlite, next);
      if (!mirrored.ok()) {
        Log(absl::StrCat("could not mirror the phase into SQLite: ",
                         mirrored.message()));
      }
    }
    return absl::OkStatus();
  }

  // After a SQLite commit with outbox entry `seq` in an enqueuing phase.
  void AfterEnqueue(const Trade& trade, int64_t seq)
      ABSL_SHARED_LOCKS_REQUIRED(route_mu) {
    if (relay) relay->Notify();
    if (phase != Phase::kReadPostgres && !options.synchronous) return;
    if (relay && relay->healthy()) {
      if (sync_mirror->ApplyOne(trade).ok()) return;
    }
    // Acknowledged on SQLite alone: the outbox has it; reads wait for it.
    sync_fallbacks.fetch_add(1);
    ReadSqliteThrough(seq);
  }

  // Reads stay on SQLite until the relay has applied entry `seq`.
  void ReadSqliteThrough(int64_t seq) {
    int64_t cur = read_sqlite_through.load();
    while (cur < seq && !read_sqlite_through.compare_exchange_weak(cur, seq)) {
    }
  }

  // The store reads go to.
  TradeStore* Reader() ABSL_SHARED_LOCKS_REQUIRED(route_mu) {
    switch (phase) {
      case Phase::kSqliteOnly:
      case Phase::kDualWrite:
        return sqlite.get();
      case Phase::kReadPostgres: {
        const bool caught_up =
            relay != nullptr &&
            relay->applied_through_seq() >= read_sqlite_through.load();
        return read_sqlite_through.load() == 0 || caught_up
                   ? static_cast<TradeStore*>(pg.get())
                   : sqlite.get();
      }
      default:
        return pg.get();
    }
  }

  // Runs a read on the phase's store; in read_postgres a Postgres outage
  // falls back to SQLite, which is complete in that phase.
  template <typename T, typename F>
  absl::StatusOr<T> Read(F read) {
    internal::ScopedSharedLock lock(route_mu);
    TradeStore* store = Reader();
    absl::StatusOr<T> result = read(*store);
    if (phase == Phase::kReadPostgres && store != sqlite.get() &&
        absl::IsUnavailable(result.status())) {
      return read(*sqlite);
    }
    return result;
  }

  void PollLoop() {
    for (;;) {
      {
        internal::ScopedLock lock(poll_mu);
        poll_mu.AwaitFor(
            poll_wake, options.phase_poll,
            [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(poll_mu) { return stopping; });
        if (stopping) return;
      }
      absl::Status checked = owner->CheckPhase();
      if (!checked.ok() && !absl::IsUnavailable(checked)) {
        Log(absl::StrCat("phase switch not made yet: ", checked.message()));
      }
    }
  }

  PhasedTradeStore* owner = nullptr;
};

PhasedTradeStore::PhasedTradeStore(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {
  impl_->owner = this;
}

PhasedTradeStore::~PhasedTradeStore() {
  // The relay and the poller may be retrying against a Postgres that is
  // down: end their retries, or closing would wait out the deadline.
  impl_->pg->pool().Shutdown();
  impl_->sync_pool->Shutdown();
  {
    internal::ScopedLock lock(impl_->poll_mu);
    impl_->stopping = true;
  }
  impl_->poll_wake.notify_all();
  if (impl_->poller.joinable()) impl_->poller.join();
  if (impl_->relay) impl_->relay->Stop();
}

absl::StatusOr<std::unique_ptr<PhasedTradeStore>> PhasedTradeStore::Open(
    const PhasedStoreOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->clock = options.clock != nullptr ? options.clock : Clock::Real();
  PgOptions lazy = options.pg;
  lazy.connect_at_open = false;
  if (lazy.clock == nullptr) lazy.clock = impl->clock;
  impl->options.pg.clock = lazy.clock;
  TS_ASSIGN_OR_RETURN(impl->pg, PgTradeStore::Open(lazy));
  impl->mirror = std::make_unique<PgMirror>(&impl->pg->pool());
  TS_ASSIGN_OR_RETURN(impl->sync_pool,
                      PgPool::Create(WithDeadline(lazy, options.sync_timeout)));
  impl->sync_mirror = std::make_unique<PgMirror>(impl->sync_pool.get());

  PhaseState state;
  auto phases = impl->Phases();
  auto current = phases.ok() ? (*phases)->Current()
                             : absl::StatusOr<PhaseState>(phases.status());
  if (current.ok()) {
    state = *current;
  } else if (std::filesystem::exists(options.sqlite_path)) {
    TS_ASSIGN_OR_RETURN(auto mirrored, ReadSqlitePhase(options.sqlite_path));
    if (mirrored) state = *mirrored;
    impl->Log(absl::StrCat("Postgres unreachable (", current.status().message(),
                           "); phase ", PhaseName(state.phase),
                           " from the SQLite mirror"));
  }
  {
    // No other thread yet, but SwitchTo's contract is kept all the same.
    internal::ScopedLock lock(impl->route_mu);
    TS_RETURN_IF_ERROR(impl->SwitchTo(state, /*first=*/true));
  }
  std::unique_ptr<PhasedTradeStore> store(
      new PhasedTradeStore(std::move(impl)));
  if (options.phase_poll.count() > 0) {
    Impl* m = store->impl_.get();
    m->poller = std::thread([m] { m->PollLoop(); });
  }
  return store;
}

absl::Status PhasedTradeStore::CheckPhase() {
  Impl& m = *impl_;
  TS_ASSIGN_OR_RETURN(PhaseStore * phases, m.Phases());
  TS_ASSIGN_OR_RETURN(PhaseState next, phases->Current());
  {
    internal::ScopedSharedLock lock(m.route_mu);
    if (next.phase == m.phase) return absl::OkStatus();
    if (WritesSqlite(m.phase) && !WritesSqlite(next.phase) && m.relay) {
      // Most of the drain happens before writes are held up: what is in
      // the outbox now (writers keep adding while this runs).
      auto outbox = m.sqlite->GetOutboxStatus();
      if (outbox.ok()) {
        m.relay->Drain(m.options.switch_drain_timeout, outbox->last_seq)
            .IgnoreError();
      }
    }
  }
  internal::ScopedLock lock(m.route_mu);
  // Another caller (the poll thread) may have switched meanwhile.
  if (next.phase == m.phase) return absl::OkStatus();
  const Phase from = m.phase;
  TS_RETURN_IF_ERROR(m.SwitchTo(next, /*first=*/false));
  m.Log(absl::StrCat("phase ", PhaseName(from), " -> ", PhaseName(next.phase),
                     " (version ", next.version, ")"));
  return absl::OkStatus();
}

absl::StatusOr<InsertResult> PhasedTradeStore::Insert(const Trade& trade) {
  Impl& m = *impl_;
  internal::ScopedSharedLock lock(m.route_mu);
  if (m.phase == Phase::kSqliteOnly) return m.sqlite->Insert(trade);
  if (!Enqueues(m.phase)) return m.pg->Insert(trade);
  int64_t seq = 0;
  auto result = m.sqlite->InsertEnqueued(trade, /*enqueue=*/true, &seq);
  if (result.ok() && seq != 0) m.AfterEnqueue(result->trade, seq);
  return result;
}

absl::StatusOr<Trade> PhasedTradeStore::UpdateStatus(
    int64_t id, TradeStatus status, std::optional<int64_t> expected_version) {
  Impl& m = *impl_;
  internal::ScopedSharedLock lock(m.route_mu);
  if (m.phase == Phase::kSqliteOnly) {
    return m.sqlite->UpdateStatus(id, status, expected_version);
  }
  if (!Enqueues(m.phase)) {
    return m.pg->UpdateStatus(id, status, expected_version);
  }
  int64_t seq = 0;
  auto result = m.sqlite->UpdateStatusEnqueued(id, status, expected_version,
                                               /*enqueue=*/true, &seq);
  if (result.ok() && seq != 0) m.AfterEnqueue(*result, seq);
  return result;
}

absl::StatusOr<Trade> PhasedTradeStore::Get(int64_t id) {
  return impl_->Read<Trade>([&](TradeStore& s) { return s.Get(id); });
}

absl::StatusOr<Trade> PhasedTradeStore::GetByClientOrderId(
    absl::string_view key) {
  return impl_->Read<Trade>(
      [&](TradeStore& s) { return s.GetByClientOrderId(key); });
}

absl::StatusOr<std::vector<Trade>> PhasedTradeStore::QueryBySymbol(
    const SymbolQuery& query) {
  return impl_->Read<std::vector<Trade>>(
      [&](TradeStore& s) { return s.QueryBySymbol(query); });
}

absl::StatusOr<int64_t> PhasedTradeStore::Count() {
  return impl_->Read<int64_t>([&](TradeStore& s) { return s.Count(); });
}

absl::StatusOr<std::vector<Trade>> PhasedTradeStore::ScanById(int64_t after_id,
                                                              int limit) {
  return impl_->Read<std::vector<Trade>>(
      [&](TradeStore& s) { return s.ScanById(after_id, limit); });
}

Phase PhasedTradeStore::phase() const {
  internal::ScopedSharedLock lock(impl_->route_mu);
  return impl_->phase;
}

absl::Status PhasedTradeStore::DrainOutbox(std::chrono::milliseconds timeout) {
  internal::ScopedSharedLock lock(impl_->route_mu);
  if (!impl_->sqlite) {
    return absl::FailedPreconditionError(
        absl::StrCat("no outbox in phase ", PhaseName(impl_->phase)));
  }
  return impl_->relay->Drain(timeout);
}

absl::StatusOr<OutboxStatus> PhasedTradeStore::GetOutboxStatus() {
  internal::ScopedSharedLock lock(impl_->route_mu);
  if (!impl_->sqlite) {
    return absl::FailedPreconditionError(
        absl::StrCat("no outbox in phase ", PhaseName(impl_->phase)));
  }
  return impl_->sqlite->GetOutboxStatus();
}

RelayStats PhasedTradeStore::relay_stats() const {
  internal::ScopedSharedLock lock(impl_->route_mu);
  return impl_->relay ? impl_->relay->stats() : RelayStats();
}

PgPoolStats PhasedTradeStore::pool_stats() const {
  return impl_->pg->pool_stats();
}

int64_t PhasedTradeStore::sync_fallbacks() const {
  return impl_->sync_fallbacks.load();
}

}  // namespace tradestore
