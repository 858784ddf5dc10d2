// RelayOptions and RelayStats: how the outbox relay runs and what it did
// (outbox_relay.h runs it; PhasedStoreOptions and the embedded store's
// figures carry them).
#ifndef TRADESTORE_MIGRATION_RELAY_OPTIONS_H_
#define TRADESTORE_MIGRATION_RELAY_OPTIONS_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tradestore/clock.h"

namespace tradestore {

struct RelayOptions {
  int batch_rows = 5000;
  // The thread's wait for new entries when idle; entries written through
  // Notify() wake it at once, this catches other processes' writes.
  std::chrono::milliseconds idle_wait{50};
  // After a round that found less than a full batch, the thread waits this
  // long before the next: fewer, larger rounds take less from the writers
  // (reads, and each round's Postgres commit is an fsync, on the same disk
  // when both run on one machine), for a lag that stays below the 100 ms
  // target.
  std::chrono::milliseconds min_round_interval{50};
  // While entries keep coming, applied entries are deleted from the outbox
  // at most this often: the delete is a write on the trade writers'
  // connection, which a write arriving meanwhile waits for. A restart
  // replays at most this much, which changes nothing. Zero: every round.
  std::chrono::milliseconds ack_interval{1000};
  // Rounds commit without waiting for Postgres's WAL flush, which
  // competes with the writers' SQLite fsyncs on a shared disk. The entries
  // are acked only after Postgres confirms it holds every row they carry,
  // in a durable transaction that also makes those commits durable; a
  // crash or failover that lost some is found there and they are applied
  // again, synchronously.
  bool async_commit = true;
  // After a failed round: first delay, doubling up to the cap, reset by
  // the next success. No deadline: the relay never gives up.
  std::chrono::milliseconds retry_initial{50};
  std::chrono::milliseconds retry_max{2000};
  Clock* clock = nullptr;  // null = Clock::Real()
};

struct RelayStats {
  int64_t entries_applied = 0;  // outbox entries applied to Postgres
  int64_t rows_written = 0;
  int64_t rows_skipped = 0;  // Postgres already had that version
  int64_t rows_quarantined = 0;
  int64_t rounds = 0;  // rounds that applied something
  int64_t failures = 0;
  // Times Postgres was found to have lost asynchronous commits (a crash
  // or failover before their flush) and the entries were applied again.
  int64_t replays = 0;
  std::string last_error;
  // Enqueue-to-applied delay of each applied entry, microseconds (the
  // first 2^21 entries).
  std::vector<int64_t> lag_us;
};

}  // namespace tradestore

#endif  // TRADESTORE_MIGRATION_RELAY_OPTIONS_H_
