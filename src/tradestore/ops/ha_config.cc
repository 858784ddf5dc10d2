#include "tradestore/ops/ha_config.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace tradestore::ops {
namespace {

constexpr char kHost[] = "127.0.0.1";

bool IsFieldChar(char c) { return absl::ascii_isupper(c) || c == '_'; }

std::string Servers(const HaLayout& layout) {
  std::string out;
  for (const HaNode& n : layout.nodes) {
    absl::StrAppend(&out, "    server ", n.name, " ", kHost, ":", n.pg_port,
                    " check port ", n.api_port, "\n");
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> FillTemplate(
    absl::string_view text, const std::map<std::string, std::string>& values) {
  std::string out;
  size_t at = 0;
  while (at < text.size()) {
    const size_t open = text.find('@', at);
    if (open == text.npos) break;
    size_t close = open + 1;
    while (close < text.size() && IsFieldChar(text[close])) ++close;
    if (close == open + 1 || close >= text.size() || text[close] != '@') {
      // Not a field (an e-mail address, a lone @): keep it.
      absl::StrAppend(&out, text.substr(at, open + 1 - at));
      at = open + 1;
      continue;
    }
    const std::string name(text.substr(open + 1, close - open - 1));
    const auto it = values.find(name);
    if (it == values.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the template's field @", name, "@ has no value"));
    }
    absl::StrAppend(&out, text.substr(at, open - at));
    out.append(it->second);
    at = close + 1;
  }
  absl::StrAppend(&out, text.substr(at));
  return out;
}

HaLayout LayoutFromBase(const std::string& dir, int nodes, int port_base) {
  HaLayout l;
  l.dir = dir;
  l.etcd_port = port_base;
  l.etcd_peer_port = port_base + 1;
  l.primary_port = port_base + 2;
  l.replica_port = port_base + 3;
  l.pgbouncer_port = port_base + 4;
  for (int i = 0; i < nodes; ++i) {
    l.nodes.push_back({absl::StrCat("node", i + 1), port_base + 10 + 2 * i,
                       port_base + 11 + 2 * i});
  }
  return l;
}

absl::StatusOr<std::string> RenderEtcdConf(absl::string_view text,
                                           const HaLayout& l) {
  return FillTemplate(text, {{"NAME", "etcd1"},
                             {"DATA_DIR", l.dir + "/etcd/data"},
                             {"HOST", kHost},
                             {"CLIENT_PORT", std::to_string(l.etcd_port)},
                             {"PEER_PORT", std::to_string(l.etcd_peer_port)}});
}

absl::StatusOr<std::string> RenderPatroniYml(absl::string_view text,
                                             const HaLayout& l, size_t i,
                                             const HaSecrets& s,
                                             const std::string& bin_dir,
                                             const std::string& local_auth) {
  const HaNode& n = l.nodes.at(i);
  // Only the leader archives (standbys would with archive_mode = always).
  // pgBackRest wants the archiving server's own directory as pg1-path.
  const std::string archive_command =
      l.archive
          ? absl::StrCat("pgbackrest --config=", l.backrest_config(),
                         " --stanza=", kHaStanza, " --pg1-path=", l.data_dir(i),
                         " archive-push %p")
          : "";
  return FillTemplate(
      text, {{"NAME", n.name},
             {"HOST", kHost},
             {"API_PORT", std::to_string(n.api_port)},
             {"PG_PORT", std::to_string(n.pg_port)},
             {"RESTAPI_PASSWORD", s.restapi},
             {"ETCD_HOSTS", absl::StrCat(kHost, ":", l.etcd_port)},
             {"DATA_DIR", l.data_dir(i)},
             {"BIN_DIR", bin_dir},
             // Patroni's own password file for replication and pg_rewind.
             {"PGPASS", l.node_dir(i) + "/patroni.pgpass"},
             {"SUPERUSER_PASSWORD", s.superuser},
             {"REPLICATION_PASSWORD", s.replication},
             {"REWIND_PASSWORD", s.rewind},
             {"SOCKET_DIR", l.node_dir(i)},
             {"ARCHIVE_MODE", l.archive ? "on" : "off"},
             {"ARCHIVE_COMMAND", archive_command},
             {"LOCAL_AUTH", local_auth},
             {"MEMBER_SLOTS", l.member_slots_script()}});
}

absl::StatusOr<std::string> RenderHaproxyCfg(absl::string_view text,
                                             const HaLayout& l) {
  const std::string servers = Servers(l);
  return FillTemplate(text, {{"PID_FILE", l.dir + "/haproxy/haproxy.pid"},
                             {"STATS_SOCKET", l.dir + "/haproxy/haproxy.sock"},
                             {"HOST", kHost},
                             {"PRIMARY_PORT", std::to_string(l.primary_port)},
                             {"REPLICA_PORT", std::to_string(l.replica_port)},
                             {"MAX_LAG", l.max_replica_lag},
                             {"PRIMARY_SERVERS", servers},
                             {"REPLICA_SERVERS", servers}});
}

}  // namespace tradestore::ops
