// The files of the HA stack (issue 22), rendered from the project's
// templates in tools/postgres/ (etcd.conf.yml, patroni.yml, haproxy.cfg):
// pure functions, tested without starting anything.
#ifndef TRADESTORE_OPS_HA_CONFIG_H_
#define TRADESTORE_OPS_HA_CONFIG_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tradestore::ops {

// `text` with every @FIELD@ replaced by values["FIELD"].
// kInvalidArgument naming the field when one is left without a value.
absl::StatusOr<std::string> FillTemplate(
    absl::string_view text, const std::map<std::string, std::string>& values);

// pgBackRest's stanza for the HA stack's archive.
inline constexpr char kHaStanza[] = "trades";

struct HaNode {
  std::string name;  // node1, node2, ...
  int pg_port = 0, api_port = 0;
};

// Where everything of an HA stack in `dir` lives and listens.
struct HaLayout {
  std::string dir;
  int etcd_port = 0, etcd_peer_port = 0;
  int primary_port = 0, replica_port = 0;  // HAProxy
  int pgbouncer_port = 0;
  std::vector<HaNode> nodes;
  // The replica port's bound on replay lag (Patroni's /replica?lag=).
  std::string max_replica_lag = "1MB";
  // The leader archives its WAL with pgBackRest (stack up --ha --archive).
  bool archive = false;

  std::string node_dir(size_t i) const { return dir + "/" + nodes[i].name; }
  std::string data_dir(size_t i) const { return node_dir(i) + "/data"; }
  // Patroni's on_role_change callback (tools/postgres/patroni_member_slots.py).
  std::string member_slots_script() const {
    return dir + "/patroni_member_slots.py";
  }
  std::string backrest_dir() const { return dir + "/backrest"; }
  std::string backrest_config() const {
    return backrest_dir() + "/pgbackrest.conf";
  }
};

// Ports from port_base: etcd on it and +1, HAProxy's primary and replica
// ports +2 and +3, PgBouncer +4, node i (from 0) Postgres +10+2i and
// Patroni +11+2i.
HaLayout LayoutFromBase(const std::string& dir, int nodes, int port_base);

struct HaSecrets {
  std::string superuser, replication, rewind, restapi;
};

absl::StatusOr<std::string> RenderEtcdConf(absl::string_view text,
                                           const HaLayout& layout);
// `local_auth` is pg_hba's method on the socket.
absl::StatusOr<std::string> RenderPatroniYml(absl::string_view text,
                                             const HaLayout& layout,
                                             size_t node,
                                             const HaSecrets& secrets,
                                             const std::string& bin_dir,
                                             const std::string& local_auth);
absl::StatusOr<std::string> RenderHaproxyCfg(absl::string_view text,
                                             const HaLayout& layout);

}  // namespace tradestore::ops

#endif  // TRADESTORE_OPS_HA_CONFIG_H_
