// The replication part of `tradestore status`: what needs attention (a
// standby not streaming or lagging past the bound, commits waiting for a
// synchronous standby that is not there), its JSON, its Prometheus
// metrics and its lines for people.
#ifndef TRADESTORE_MIGRATION_REPLICATION_STATUS_H_
#define TRADESTORE_MIGRATION_REPLICATION_STATUS_H_

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "tradestore/postgres/replication_facts.h"

namespace tradestore {

struct ReplicationBounds {
  int64_t max_lag_bytes = 16 << 20;
  std::chrono::seconds max_lag{30};
};

std::vector<std::string> ReplicationAttention(const ReplicationFacts& f,
                                              const ReplicationBounds& b);
nlohmann::json ReplicationJson(const ReplicationFacts& f);
std::string ReplicationPrometheus(const ReplicationFacts& f);
void PrintReplication(const ReplicationFacts& f, std::ostream& out);

}  // namespace tradestore

#endif  // TRADESTORE_MIGRATION_REPLICATION_STATUS_H_
