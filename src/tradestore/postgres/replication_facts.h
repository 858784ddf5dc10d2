// Replication as the server asked sees it, for `tradestore status`: on a
// primary each standby from pg_stat_replication (its state, whether it is
// synchronous, how far its replay is behind in bytes and seconds); on a
// standby how far behind its own replay is. Standard views only, so it
// reads the same with or without Patroni.
//
// Thread-safety: a function.
#ifndef TRADESTORE_POSTGRES_REPLICATION_FACTS_H_
#define TRADESTORE_POSTGRES_REPLICATION_FACTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pqxx {
class transaction_base;
}

namespace tradestore {

struct ReplicationFacts {
  bool in_recovery = false;  // the server asked is a standby
  // synchronous_standby_names is set: commits wait for a sync standby.
  bool wants_sync = false;
  struct Standby {
    std::string name;        // application_name (Patroni: the node's name)
    std::string state;       // streaming, catchup, ...; "" when hidden
    std::string sync_state;  // sync, async, potential, quorum
    std::optional<int64_t> lag_bytes;   // the primary's WAL not yet replayed
    std::optional<double> lag_seconds;  // replay_lag; none when idle
  };
  std::vector<Standby> standbys;  // on a primary
  // A role without pg_monitor (or pg_read_all_stats) sees the standbys but
  // not their state or lag.
  bool hidden = false;
  // On a standby: bytes received but not replayed, and the time since the
  // last replayed commit (grows while the primary is idle, too).
  std::optional<int64_t> own_lag_bytes;
  std::optional<double> own_replay_age_seconds;

  int streaming() const;
  int sync() const;
};

// Reads them in `txn`.
ReplicationFacts ReadReplicationFacts(pqxx::transaction_base& txn);

}  // namespace tradestore

#endif  // TRADESTORE_POSTGRES_REPLICATION_FACTS_H_
