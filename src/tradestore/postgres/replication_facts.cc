#include "tradestore/postgres/replication_facts.h"

#include <pqxx/pqxx>

namespace tradestore {

int ReplicationFacts::streaming() const {
  int n = 0;
  for (const Standby& s : standbys) n += s.state == "streaming";
  return n;
}

int ReplicationFacts::sync() const {
  int n = 0;
  for (const Standby& s : standbys) {
    n += s.state == "streaming" &&
         (s.sync_state == "sync" || s.sync_state == "quorum");
  }
  return n;
}

ReplicationFacts ReadReplicationFacts(pqxx::transaction_base& txn) {
  ReplicationFacts f;
  const pqxx::row head = txn.exec1(
      "SELECT pg_is_in_recovery(), "
      "current_setting('synchronous_standby_names') <> ''");
  f.in_recovery = head[0].as<bool>();
  f.wants_sync = head[1].as<bool>();
  if (f.in_recovery) {
    const pqxx::row r = txn.exec1(
        "SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), "
        "pg_last_wal_replay_lsn())::int8, extract(epoch FROM now() - "
        "pg_last_xact_replay_timestamp())::float8");
    if (!r[0].is_null()) f.own_lag_bytes = r[0].as<int64_t>();
    if (!r[1].is_null()) f.own_replay_age_seconds = r[1].as<double>();
    return f;
  }
  const pqxx::result rows = txn.exec(
      "SELECT application_name, state, sync_state, "
      "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::int8, "
      "extract(epoch FROM replay_lag)::float8 FROM pg_stat_replication "
      "ORDER BY application_name");
  for (const pqxx::row& r : rows) {
    ReplicationFacts::Standby s;
    s.name = r[0].as<std::string>("");
    s.state = r[1].as<std::string>("");
    s.sync_state = r[2].as<std::string>("");
    if (!r[3].is_null()) s.lag_bytes = r[3].as<int64_t>();
    if (!r[4].is_null()) s.lag_seconds = r[4].as<double>();
    f.hidden |= r[1].is_null();
    f.standbys.push_back(std::move(s));
  }
  return f;
}

}  // namespace tradestore
